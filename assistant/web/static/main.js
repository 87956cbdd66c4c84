// Which page this is, by its address: the history's (`assistant history --web`) or the session's.
// Both are one document (index.html), so they share its head, its style and its chart; each
// page removes the other's part before it starts.
import { showHistory } from "./history.js";
import { showSession } from "./page.js";

const history = window.location.pathname.endsWith("/history");
document.getElementById(history ? "session" : "history").remove();
(history ? showHistory : showSession)();
