// The console panel: what the preview's page (console.*, uncaught errors,
// unhandled rejections) or a Python run (stdout, stderr, tracebacks) printed.
// Errors carry a "Fix" button that asks the model to fix that error.
//
// Entries arrive at any rate (a page can log in a loop); they are buffered and
// rendered once per animation frame, and only the newest MAX_ENTRIES are kept.

import { h } from "../ui/dom.js";
import { schedule } from "../ui/frame.js";

const MAX_ENTRIES = 500;

export class ConsolePanel {
  // section: the [data-testid=console] element. onFix(entry) → sends a request.
  constructor(section, { onFix, placeholder = "Console messages from the preview will appear here." } = {}) {
    this.section = section;
    this.list = section.querySelector(".console-list");
    this.onFix = onFix;
    this.placeholder = h("li", { class: "console-empty" }, placeholder);
    this.queue = [];
    this.count = 0;
    this.render = () => this.flush();
    const head = section.querySelector(".panel-head");
    this.clearButton = h(
      "button",
      { type: "button", class: "btn btn-small console-clear", dataset: { testid: "console-clear" }, onclick: () => this.clear() },
      "Clear",
    );
    head?.append(this.clearButton);
    this.clear();
  }

  clear() {
    this.queue = [];
    this.count = 0;
    this.list.replaceChildren(this.placeholder);
  }

  // Forget what one source printed (e.g. the preview's page before it reloaded).
  clearSource(source) {
    this.queue = this.queue.filter((e) => e.source !== source);
    for (const li of [...this.list.querySelectorAll(`[data-source="${source}"]`)]) li.remove();
    this.count = this.list.querySelectorAll(".console-entry").length;
    if (!this.count && !this.queue.length) this.list.replaceChildren(this.placeholder);
  }

  // entry: {level: log|info|warn|error|debug|stdout|stderr, text, source, file?, line?, lineText?}
  add(entry) {
    this.queue.push(entry);
    if (this.queue.length > MAX_ENTRIES) this.queue.splice(0, this.queue.length - MAX_ENTRIES);
    schedule(this.render);
  }

  // input() of a Python run: an input box at the end of the list, after the
  // prompt; `answer(line)` gets what was typed (Enter). One at a time.
  ask(prompt, answer) {
    this.cancelAsk();
    this.flush();
    this.placeholder.remove();
    const input = h("input", {
      class: "console-input",
      type: "text",
      dataset: { testid: "console-input" },
      "aria-label": prompt.trim() ? `Input for the program: ${prompt.trim()}` : "Input for the program",
      autocomplete: "off",
      spellcheck: "false",
    });
    const row = h("li", { class: "console-entry console-ask", dataset: { testid: "console-ask" } }, prompt ? h("span", { class: "console-prompt" }, prompt) : null, input);
    input.addEventListener("keydown", (event) => {
      if (event.key !== "Enter" || event.isComposing) return;
      event.preventDefault();
      event.stopPropagation();
      const line = input.value;
      this.cancelAsk();
      answer(line);
    });
    this.asking = row;
    this.list.append(row);
    this.list.scrollTop = this.list.scrollHeight;
    input.focus();
  }

  cancelAsk() {
    this.asking?.remove();
    this.asking = null;
  }

  // Back-compat: log(level, text).
  log(level, text) {
    this.add({ level, text, source: "app" });
  }

  flush() {
    if (!this.queue.length) return;
    const entries = this.queue;
    this.queue = [];
    this.placeholder.remove();
    const stick = this.list.scrollHeight - this.list.scrollTop - this.list.clientHeight < 24;
    const fragment = document.createDocumentFragment();
    for (const e of entries) fragment.append(this.entryEl(e));
    this.list.append(fragment);
    this.count += entries.length;
    while (this.count > MAX_ENTRIES) {
      this.list.firstElementChild.remove();
      this.count--;
    }
    if (stick) this.list.scrollTop = this.list.scrollHeight;
  }

  entryEl(e) {
    const where = e.file ? `${e.file}${e.line ? `:${e.line}` : ""}` : null;
    return h(
      "li",
      { class: `console-entry console-${e.level}`, dataset: { testid: "console-entry", source: e.source ?? "", level: e.level } },
      h("span", { class: "console-text" }, e.text),
      where ? h("span", { class: "console-where" }, where) : null,
      e.level === "error" && this.onFix
        ? h(
            "button",
            {
              type: "button",
              class: "btn btn-small console-fix",
              dataset: { testid: "console-fix" },
              title: "Ask the model to fix this error",
              onclick: () => this.onFix(e),
            },
            "Fix",
          )
        : null,
    );
  }
}

// The instruction "Fix" sends: the error, where it happened, and that line.
export function fixInstruction(e) {
  const where = e.file ? ` in ${e.file}${e.line ? ` at line ${e.line}` : ""}` : "";
  const line = e.lineText != null && e.lineText.trim() ? `\n\nThat line is:\n\`\`\`\n${e.lineText}\n\`\`\`` : "";
  const text = e.text.length > 2000 ? `${e.text.slice(0, 2000)}…` : e.text;
  return `Fix this error${where}:\n\n${text}${line}\n\nChange the code so that it no longer happens.`;
}
