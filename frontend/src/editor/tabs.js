// The file tab bar: one tab per file, text = the file's path exactly. A
// WAI-ARIA tablist: only the selected tab is in the Tab order; ←/→ (and
// Home/End) move between tabs and open the file.

import { h } from "../ui/dom.js";

export class TabBar {
  constructor(el, { onSelect, panelId = null }) {
    this.el = el;
    this.onSelect = onSelect;
    this.panelId = panelId;
    el.setAttribute("role", "tablist");
    el.addEventListener("keydown", (event) => this.keydown(event));
  }

  render(paths, active) {
    this.el.replaceChildren(
      ...paths.map((path) =>
        h(
          "button",
          {
            type: "button",
            role: "tab",
            class: "tab",
            "aria-selected": String(path === active),
            "aria-controls": this.panelId,
            tabindex: path === active ? "0" : "-1",
            dataset: { testid: "file-tab", path },
            onclick: () => this.onSelect(path),
          },
          path,
        ),
      ),
    );
  }

  keydown(event) {
    const tabs = [...this.el.querySelectorAll('[role="tab"]')];
    const at = tabs.indexOf(document.activeElement);
    if (at < 0) return;
    const to = { ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: tabs.length - 1 }[event.key];
    if (to === undefined) return;
    event.preventDefault();
    const tab = tabs[(to + tabs.length) % tabs.length];
    this.onSelect(tab.dataset.path, { focusEditor: false });
    this.el.querySelector(`[data-path="${CSS.escape(tab.dataset.path)}"]`)?.focus();
  }

  flash(path) {
    const tab = [...this.el.children].find((b) => b.dataset.path === path);
    if (!tab) return;
    tab.classList.remove("flash");
    void tab.offsetWidth; // restart the animation
    tab.classList.add("flash");
  }
}
