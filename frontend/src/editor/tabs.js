// The file tab bar: one button per file, text = the file's path exactly.

import { h } from "../ui/dom.js";

export class TabBar {
  constructor(el, { onSelect }) {
    this.el = el;
    this.onSelect = onSelect;
    el.setAttribute("role", "tablist");
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
            dataset: { testid: "file-tab", path },
            onclick: () => this.onSelect(path),
          },
          path,
        ),
      ),
    );
  }

  flash(path) {
    const tab = [...this.el.children].find((b) => b.dataset.path === path);
    if (!tab) return;
    tab.classList.remove("flash");
    void tab.offsetWidth; // restart the animation
    tab.classList.add("flash");
  }
}
