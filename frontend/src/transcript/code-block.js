// One code block in an answer, rendered as it streams: each finished line is
// highlighted and appended once; only the unfinished last line (the tail) is
// redrawn per frame. When the block closes it is highlighted once more as a
// whole, so constructs spanning lines (comments, strings) come out right.
//
// Each line is its own block element (not text in one <pre>): appending a line
// then lays out that line only, where a growing <pre> is one inline formatting
// context the browser lays out again in full on every append.

import { h } from "../ui/dom.js";
import { highlightInto, highlightLines } from "./highlight.js";
import { parserFor } from "../editor/languages.js";
import { ChunkedList } from "./chunked.js";

// Edit-format markers (playground/generations/prompt.py): shown as markers, not code.
const MARKER = /^(<{7} SEARCH|={7}|>{7} REPLACE|\*\*\* (Begin Patch|End Patch|(Update|Add|Delete) File:.*|Move to:.*|End of File)|@@.*)$/;

export class CodeBlock {
  // kind: "fence" | "search_replace" | "patch"
  // mount(el): puts the block's element in the answer.
  constructor(mount, { kind, language, label, fence }) {
    this.kind = kind;
    this.fence = fence; // the opening fence ("```"), for fence blocks
    this.parser = parserFor(language);
    this.lines = [];
    this.code = h("div", { class: "code-lines" });
    this.tail = h("div", { class: "cl tail" });
    this.code.append(this.tail);
    this.list = new ChunkedList(this.code, this.tail);
    this.el = h(
      "div",
      { class: `code-block code-${kind}`, dataset: { language: language ?? "" } },
      label ? h("div", { class: "code-label" }, label) : null,
      this.code,
    );
    mount(this.el);
  }

  // Does this finished line close the block? (The line itself is then shown
  // for search/replace and patch blocks, whose last line is a marker.)
  closes(line) {
    if (this.kind === "fence") {
      const m = /^\s{0,3}(`{3,}|~{3,})\s*$/.exec(line);
      return !!m && m[1][0] === this.fence[0] && m[1].length >= this.fence.length;
    }
    if (this.kind === "search_replace") return line === ">>>>>>> REPLACE";
    return line === "*** End Patch";
  }

  addLine(line) {
    this.lines.push(line);
    const el = h("div", { class: "cl" });
    this.renderLine(el, line);
    this.list.append(el);
  }

  setTail(text) {
    this.tail.replaceChildren();
    if (text) this.renderLine(this.tail, text);
  }

  renderLine(parent, line) {
    if (MARKER.test(line)) parent.append(h("span", { class: "code-marker" }, line));
    else if (this.kind === "patch") parent.append(h("span", { class: diffClass(line) }, line));
    else highlightInto(parent, line, this.parser);
  }

  // Re-highlight the whole block once, code between markers as one unit each.
  close() {
    this.tail.remove();
    if (!this.parser || this.kind === "patch") return;
    const frag = document.createDocumentFragment();
    const list = new ChunkedList(frag);
    const newLine = () => list.append(h("div", { class: "cl" }));
    let segment = [];
    const flush = () => {
      if (segment.length) highlightLines(segment.join("\n"), this.parser, newLine);
      segment = [];
    };
    for (const line of this.lines) {
      if (!MARKER.test(line)) {
        segment.push(line);
        continue;
      }
      flush();
      newLine().append(h("span", { class: "code-marker" }, line));
    }
    flush();
    this.code.replaceChildren(frag);
  }
}

function diffClass(line) {
  if (line.startsWith("+")) return "diff-add";
  if (line.startsWith("-")) return "diff-del";
  return "diff-ctx";
}
