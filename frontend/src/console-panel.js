// The console panel. For now a placeholder list; the preview's console
// messages will be forwarded here (postMessage from the iframe) later.

import { h } from "./dom.js";

const MAX_ENTRIES = 500;

export class ConsolePanel {
  constructor(listEl) {
    this.list = listEl;
    this.placeholder = h("li", { class: "console-empty" }, "Console messages from the preview will appear here.");
    this.clear();
  }

  clear() {
    this.list.replaceChildren(this.placeholder);
  }

  log(level, text) {
    this.placeholder.remove();
    this.list.append(h("li", { class: `console-entry console-${level}` }, text));
    while (this.list.childElementCount > MAX_ENTRIES) this.list.firstElementChild.remove();
  }
}
