// Configuration problems, shown in a banner under the top bar instead of a
// socket that reconnects forever: the server's failed system checks (boot
// `problems`, playground/checks.py), a session the server refused to start
// (`error:server.misconfigured`, then close 4500), and a live connection that
// keeps failing before it ever opens (a refused Origin reaches the page as a
// bare close, so the page can only say what usually causes it).

import { h } from "../ui/dom.js";
import { State } from "../net/socket.js";

// Attempts in a row that never opened before the page says so.
export const FAILING_AFTER = 3;

// → {el, add(problem), remove(id), socketState(state, socket)}
export function installProblems({ session, socket }, { problems = [], host }) {
  const list = h("ul", { class: "problems-list" });
  const el = h(
    "section",
    { class: "problems", dataset: { testid: "problems" }, role: "alert", "aria-label": "Server configuration problems", hidden: true },
    h("strong", {}, "Flint needs attention"),
    list,
  );
  const shown = new Map(); // id → <li>
  const render = () => {
    el.hidden = shown.size === 0;
    host.classList.toggle("has-problems", shown.size > 0);
  };
  const add = (problem) => {
    const id = problem.id ?? problem.message;
    shown.get(id)?.remove();
    const item = h(
      "li",
      { class: `problem problem-${problem.level ?? "error"}`, dataset: { testid: "problem", id } },
      problem.message,
      problem.hint ? h("span", { class: "problem-hint" }, ` ${problem.hint}`) : null,
      problem.action ?? null,
    );
    shown.set(id, item);
    list.append(item);
    render();
  };
  const remove = (id) => {
    shown.get(id)?.remove();
    shown.delete(id);
    render();
  };
  document.querySelector(".topbar")?.after(el);
  for (const problem of problems) add(problem);

  const retry = () => {
    const button = h("button", { type: "button", class: "btn btn-small", dataset: { testid: "problem-retry" } }, "Try again");
    button.addEventListener("click", () => {
      remove("session");
      socket.connectNow();
    });
    return button;
  };
  // The server's message repeats a failed check the banner already shows: then say only what it means.
  const knownErrors = problems.some((p) => p.level === "error");
  session.on("error:server.misconfigured", function misconfigured(msg) {
    const message = knownErrors ? "The server cannot start this playground's session until that is fixed (then restart it)." : msg.message;
    add({ id: "session", level: "error", message, action: retry() });
  });

  const socketState = (state, sock) => {
    if (state === State.OPEN) return remove("connection");
    if (sock.failures >= FAILING_AFTER && !shown.has("session")) {
      add({
        id: "connection",
        level: "error",
        message: `The live connection to the server failed ${sock.failures} times in a row before it opened.`,
        hint:
          "If this goes on, the server is refusing this page's address (FLINT_ALLOWED_ORIGINS, FLINT_ALLOWED_HOSTS) " +
          "or a proxy in between does not pass WebSockets.",
      });
    }
  };
  return { el, add, remove, socketState };
}
