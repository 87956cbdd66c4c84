// The session's page: shows the snapshots the assistant streams, and posts a cue for each button
// pressed. It stores nothing: no cookies, no local storage. Escape twice (or "Leave now") leaves
// it blank.
import { barRow } from "./chart.js";

export function showSession() {
  const $ = (id) => document.getElementById(id);
  const LAST_MINUTE_S = 60;
  const BUTTON_HOLD_MS = 1500;
  const LONG_CAPTION = 240;

  let stream = null;
  let countdown = null; // the snapshot's countdown, and when it arrived
  let shownClock = "";
  let cueKey = "";
  let escapes = 0;
  let gone = false;

  function post(path, body) {
    return fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body || {}),
      cache: "no-store",
      credentials: "same-origin",
    }).catch(() => undefined);
  }

  function clockText(seconds) {
    const whole = Math.max(0, Math.ceil(seconds - 1e-6));
    return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, "0")}`;
  }

  function setText(id, text) {
    const element = $(id);
    if (element.textContent !== text) element.textContent = text || "";
  }

  // ---- the countdown moves here, between snapshots ------------------------------------------

  function remaining() {
    if (!countdown) return 0;
    if (!countdown.running) return countdown.remaining;
    const passed = ((performance.now() - countdown.at) / 1000) * countdown.speed;
    return Math.max(0, countdown.remaining - passed);
  }

  function tick() {
    if (gone) return;
    const timer = $("timer");
    if (!countdown) {
      timer.hidden = true;
      return;
    }
    timer.hidden = false;
    const left = remaining();
    const text = clockText(left);
    if (text !== shownClock) {
      shownClock = text;
      $("clock").textContent = text;
      $("clock").setAttribute("aria-label", `${text} left`);
    }
    const total = countdown.total || 1;
    $("bar-fill").style.width = `${Math.min(100, (100 * (total - left)) / total).toFixed(1)}%`;
    const lastMinute = countdown.running && total > LAST_MINUTE_S && left <= LAST_MINUTE_S;
    timer.classList.toggle("last-minute", lastMinute);
    timer.classList.toggle("paused", !countdown.running);
    let note = "";
    if (!countdown.running) note = "The timer waits until you resume.";
    else if (lastMinute) note = "Last minute";
    else if (left <= total / 2) note = "Past halfway";
    setText("timer-note", note);
  }

  // ---- a snapshot from the assistant ---------------------------------------------------------

  function renderSteps(steps) {
    const list = $("steps");
    const key = JSON.stringify(steps);
    if (list.dataset.key === key) return;
    list.dataset.key = key;
    list.replaceChildren(
      ...steps.map((step) => {
        const item = document.createElement("li");
        item.className = step.where === "to come" ? "to-come" : step.where;
        if (step.where === "current") item.setAttribute("aria-current", "step");
        const number = document.createElement("span");
        number.className = "number";
        number.textContent = step.where === "done" ? "\u2713" : step.number;
        const title = document.createElement("span");
        title.className = "step-title";
        title.textContent = step.where === "done" ? `${step.title} (done)` : step.title;
        item.append(number, title);
        return item;
      }),
    );
  }

  function renderCues(cues) {
    const key = JSON.stringify(cues);
    if (key === cueKey) {
      return;
    }
    cueKey = key;
    $("cues").replaceChildren(
      ...cues.map((cue) => {
        const button = document.createElement("button");
        button.type = "button";
        button.dataset.cue = cue.cue;
        button.textContent = cue.label;
        if (cue.primary) button.className = "primary";
        return button;
      }),
    );
  }

  function renderSummary(summary) {
    $("summary").hidden = !summary;
    if (!summary) return;
    const turns = summary.turns === 1 ? "1 turn" : `${summary.turns} turns`;
    setText("summary-title", `${summary.title}: time on the floor (${turns})`);
    $("summary-rows").replaceChildren(...summary.rows.map((row) => barRow(row.name, row.share, row.clock)));
  }

  function render(page) {
    if (page.cleared) {
      blank();
      return;
    }
    $("session").hidden = false;
    document.body.dataset.state = page.state || "";
    setText("title", page.title);
    renderSteps(page.steps);
    setText("heading", page.step || page.heading || page.title);
    setText("exercise", page.exercise);

    $("floor").hidden = !page.floor;
    setText("floor-who", page.floor ? page.floor.who : "");
    setText("floor-note", page.floor ? page.floor.note : "");

    countdown = page.countdown ? { ...page.countdown, at: performance.now() } : null;
    if (page.countdown) setText("timer-label", page.countdown.label);
    tick();

    const caption = page.caption || [];
    setText("caption", caption.length ? caption[caption.length - 1] : "");
    $("caption").classList.toggle("long", $("caption").textContent.length > LONG_CAPTION);
    setText("caption-before", caption.length > 1 ? caption[caption.length - 2] : "");
    document.querySelector(".captions").classList.toggle("empty", caption.length === 0);

    setText("heard", page.heard || "");
    const notices = page.notices || [];
    $("notices").hidden = notices.length === 0;
    if ($("notices").dataset.key !== JSON.stringify(notices)) {
      $("notices").dataset.key = JSON.stringify(notices);
      $("notices").replaceChildren(
        ...notices.map((text) => {
          const item = document.createElement("li");
          item.textContent = text;
          return item;
        }),
      );
    }
    renderCues(page.cues || []);
    setText("support", page.support);
    renderSummary(page.summary);
    for (const button of document.querySelectorAll("button[data-cue]")) button.disabled = false;

    if (page.ended) over();
  }

  // ---- endings -------------------------------------------------------------------------------

  function stopListening() {
    if (stream) stream.close();
    stream = null;
  }

  /** The session is over: what was said and the cues leave; a closing chart may stay. */
  function over() {
    stopListening();
    if (gone) return;
    countdown = null;
    document.body.classList.add("over");
    $("ended").hidden = false;
    setText("caption", "");
    setText("caption-before", "");
    setText("heard", "");
    $("notices").replaceChildren();
    $("cues").replaceChildren();
  }

  /** The quick exit: nothing of the session stays on the page, not even its title. */
  function blank() {
    gone = true;
    stopListening();
    countdown = null;
    const session = $("session");
    if (session) session.remove();
    document.body.className = "blank";
    document.title = "\u200b";
  }

  function leave() {
    if (gone) return;
    blank();
    post("leave");
  }

  // ---- input ---------------------------------------------------------------------------------

  document.addEventListener("click", (event) => {
    const button = event.target.closest("button");
    if (!button || gone) return;
    if (button.id === "leave") {
      leave();
      return;
    }
    if (!button.dataset.cue) return;
    // One press, one cue: the buttons wait for the assistant's answer (a double click is not two "next").
    const buttons = document.querySelectorAll("button[data-cue]");
    for (const other of buttons) other.disabled = true;
    setTimeout(() => {
      for (const other of document.querySelectorAll("button[data-cue]")) other.disabled = false;
    }, BUTTON_HOLD_MS);
    post("cue", { cue: button.dataset.cue });
  });

  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") {
      escapes = 0;
      return;
    }
    escapes += 1;
    if (escapes >= 2) leave();
  });

  // ---- the stream ----------------------------------------------------------------------------

  stream = new EventSource("events");
  stream.onmessage = (message) => render(JSON.parse(message.data));
  stream.onerror = () => {
    // Served from this computer: a lost stream means the session has gone.
    if (!gone) over();
  };
  setInterval(tick, 200);
}
