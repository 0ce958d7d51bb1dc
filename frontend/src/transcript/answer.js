// An answer rendered as it streams, markdown-ish: prose lines as text with
// inline markup, fenced code (and the edit formats' SEARCH/REPLACE and patch
// blocks) highlighted line by line.
//
// Cost per frame does not grow with the answer: text that arrived since the
// last frame is split into lines; each finished line is rendered once and
// appended; only the unfinished last line is redrawn.

import { h } from "../ui/dom.js";
import { renderInline } from "./inline.js";
import { CodeBlock } from "./code-block.js";
import { ChunkedList } from "./chunked.js";
import { languageName, languageOfInfo } from "../editor/languages.js";

const FENCE = /^\s{0,3}(`{3,}|~{3,})\s*([^`]*)$/;
const HEADING = /^(#{1,6})\s+(.*)$/;
const ITEM = /^(\s*)([-*+]|\d+[.)])\s+(.*)$/;

export class AnswerRenderer {
  constructor(el) {
    this.el = el;
    this.pending = "";
    this.partial = ""; // the unfinished last line
    this.block = null; // the open CodeBlock, if any
    this.lastProse = ""; // a path line before a SEARCH/REPLACE block names its file
    this.gap = false;
    this.tail = h("div", { class: "md-tail" });
    this.el.append(this.tail);
    this.list = new ChunkedList(this.el, this.tail);
    this.lines = 0;
  }

  get empty() {
    return !this.pending && !this.partial && this.lines === 0;
  }

  push(text) {
    this.pending += text;
  }

  // Once per frame: render what arrived since the last frame.
  flush() {
    if (!this.pending) return;
    const text = this.partial + this.pending;
    this.pending = "";
    let start = 0;
    for (let nl = text.indexOf("\n"); nl !== -1; nl = text.indexOf("\n", start)) {
      this.line(text.slice(start, nl));
      start = nl + 1;
    }
    this.partial = text.slice(start);
    this.renderTail();
  }

  // The answer is over (done, stopped or failed): the last line is finished.
  finish() {
    this.flush();
    if (this.partial) this.line(this.partial);
    this.partial = "";
    this.block?.close();
    this.block = null;
    this.tail.remove();
  }

  line(text) {
    if (this.block) {
      const closes = this.block.closes(text);
      if (!closes || this.block.kind !== "fence") this.block.addLine(text);
      if (closes) {
        this.block.close();
        this.block = null;
      }
      return;
    }
    const fence = FENCE.exec(text);
    if (fence) {
      const info = fence[2].trim();
      this.openBlock({ kind: "fence", fence: fence[1], language: languageOfInfo(info), label: info });
    } else if (text === "<<<<<<< SEARCH") {
      const path = this.lastProse.trim();
      this.openBlock({ kind: "search_replace", language: languageName(path), label: null });
      this.block.addLine(text);
    } else if (text === "*** Begin Patch") {
      this.openBlock({ kind: "patch", language: null, label: null });
      this.block.addLine(text);
    } else {
      this.prose(text);
    }
  }

  openBlock(spec) {
    this.block = new CodeBlock((el) => this.add(el), spec);
    this.gap = false;
  }

  add(el) {
    this.lines += 1;
    this.list.append(el);
  }

  prose(text) {
    if (!text.trim()) {
      // Blank lines separate paragraphs; runs of them collapse into one gap.
      if (!this.gap && this.lines) this.add(h("div", { class: "md-gap" }));
      this.gap = true;
      return;
    }
    this.gap = false;
    this.lastProse = text;
    this.add(proseLine(text));
  }

  renderTail() {
    if (this.block) {
      this.block.setTail(this.partial);
      this.tail.replaceChildren();
    } else {
      this.tail.replaceChildren();
      if (this.partial) renderInline(this.tail, this.partial);
    }
  }
}

function proseLine(text) {
  let m = HEADING.exec(text);
  if (m) {
    const el = h("div", { class: `md-h md-h${m[1].length}` });
    renderInline(el, m[2]);
    return el;
  }
  m = ITEM.exec(text);
  if (m) {
    const el = h("div", { class: "md-li" }, h("span", { class: "md-bullet" }, /\d/.test(m[2]) ? m[2] : "•"));
    // CSSOM, not a style attribute: allowed under a strict CSP.
    el.style.setProperty("--indent", Math.min(m[1].length, 8));
    const body = h("span");
    renderInline(body, m[3]);
    el.append(body);
    return el;
  }
  const el = h("div", { class: text.startsWith(">") ? "md-quote" : "md-p" });
  renderInline(el, text.startsWith(">") ? text.replace(/^>\s?/, "") : text);
  return el;
}
