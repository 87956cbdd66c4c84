// The bars both pages draw: the closing's time on the floor, and the history's weeks.
// One row is a name, its bar (its share of the longest, 0 to 1) and the time it stands for.

export function barRow(name, share, time) {
  const line = document.createElement("div");
  line.className = "summary-row";
  const who = document.createElement("span");
  who.textContent = name;
  const track = document.createElement("div");
  track.className = "summary-track";
  const bar = document.createElement("div");
  bar.className = "summary-bar";
  bar.style.width = `${(100 * share).toFixed(1)}%`;
  track.append(bar);
  const shown = document.createElement("span");
  shown.className = "summary-time";
  shown.textContent = time;
  line.append(who, track, shown);
  return line;
}
