// The history's page: the weekly chart and the past sessions, asked for once; "Close" stops the
// assistant serving them and leaves the page with nothing of them on it. It stores nothing.
import { barRow } from "./chart.js";

const $ = (id) => document.getElementById(id);

function paragraph(className, text) {
  const element = document.createElement("p");
  element.className = className;
  element.textContent = text;
  return element;
}

function renderWeeks(weeks) {
  $("weeks").replaceChildren(
    ...weeks.map((week) => {
      const group = document.createElement("div");
      group.className = "week";
      const label = document.createElement("h3");
      label.className = "week-label";
      label.textContent = week.label;
      const rows = week.rows.map((row) => barRow(row.name, row.share, row.minutes));
      group.append(label, ...(rows.length ? rows : [paragraph("week-none", "No time on the floor")]));
      return group;
    }),
  );
}

function renderSessions(sessions) {
  $("no-sessions").hidden = sessions.length > 0;
  $("sessions").replaceChildren(
    ...sessions.map((past) => {
      const item = document.createElement("li");
      item.append(paragraph("past-when", past.when), paragraph("past-details", past.details));
      if (past.floor) item.append(paragraph("past-details", `On the floor: ${past.floor}`));
      return item;
    }),
  );
}

/** Nothing of the history stays on the page, only `note`. */
function leave(note) {
  const view = $("history-view");
  if (view) view.remove();
  $(note).hidden = false;
}

async function show() {
  const answer = await fetch("history.json", { cache: "no-store", credentials: "same-origin" });
  if (!answer.ok) throw new Error(`history.json: ${answer.status}`);
  const history = await answer.json();
  renderWeeks(history.weeks);
  renderSessions(history.sessions);
  $("history-view").hidden = false;
}

export function showHistory() {
  document.title = "Your sessions";
  $("close").addEventListener("click", () => {
    leave("closed");
    fetch("close", { method: "POST", cache: "no-store", credentials: "same-origin" }).catch(() => undefined);
  });
  show().catch(() => leave("problem"));
}
