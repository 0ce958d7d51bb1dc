// On a phone, one pane at a time: a switcher between Code, Preview (Run for
// Python) and Chat under the top bar. A WAI-ARIA tablist (←/→, Home/End). The
// composer with Send stays visible under every pane. Sending switches to
// Chat, so the answer is in view. On wider screens the switcher is hidden by
// CSS and every pane shows.

import { h } from "./dom.js";

export const PANES = ["code", "preview", "chat"];

// → {show(pane), current}
export function installPaneSwitcher({ session }, { app, kind = "web" }) {
  const labels = { code: "Code", preview: kind === "python" ? "Run" : "Preview", chat: "Chat" };
  const tabs = PANES.map((pane) =>
    h(
      "button",
      { type: "button", role: "tab", class: "pane-tab", id: `pane-tab-${pane}`, "aria-controls": `pane-${pane}`, dataset: { testid: `pane-${pane}`, pane } },
      labels[pane],
    ),
  );
  const el = h("div", { class: "pane-switcher", role: "tablist", "aria-label": "Show" }, tabs);
  const workarea = app.querySelector(".workarea");
  workarea.before(el);
  let current = null;
  const show = (pane, { focus = false } = {}) => {
    current = pane;
    app.dataset.pane = pane;
    for (const tab of tabs) {
      const on = tab.dataset.pane === pane;
      tab.setAttribute("aria-selected", String(on));
      tab.tabIndex = on ? 0 : -1;
      if (on && focus) tab.focus();
    }
  };
  for (const tab of tabs) tab.addEventListener("click", () => show(tab.dataset.pane));
  el.addEventListener("keydown", (event) => {
    const at = PANES.indexOf(current);
    const to = { ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: PANES.length - 1 }[event.key];
    if (to === undefined) return;
    event.preventDefault();
    show(PANES[(to + PANES.length) % PANES.length], { focus: true });
  });
  session.hook("send", () => {
    if (getComputedStyle(el).display !== "none") show("chat");
  });
  show("code");
  return {
    show,
    get current() {
      return current;
    },
  };
}
