// Drafts: a whole file the model is writing right now, before its edit lands.
//
// The server applies a fenced code block when its closing fence arrives; until
// then the preview can already show the block's text so far ("repaints while
// the model writes"). Only blocks that are clearly a whole file of a web
// playground count: a fence naming (or, by language, implying) one file, whose
// text starts like a whole file (an HTML document, or the same first line as
// the current file). A gen.edit for the path, a rejection, or the end of the
// generation drops the draft; from then on the editor holds the truth.
//
// Cost per delta is O(delta): complete lines are examined once.

const FENCE = /^\s{0,3}(`{3,}|~{3,})\s*([^`]*)$/;
const EDIT_MARKER = /^(<{7} SEARCH|\*\*\* Begin Patch)/;
const EXT = { html: "html", htm: "html", css: "css", js: "js", mjs: "js", javascript: "js", javascript_: "js" };

export class Drafts {
  constructor(getPaths, getText) {
    this.getPaths = getPaths; // () → file paths now
    this.getText = getText; // path → text now
    this.reset();
  }

  reset() {
    this.partial = "";
    this.block = null; // {fence, path, lines: [], ok}
    this.lastProse = "";
    this.map = new Map(); // path → draft text
  }

  // → true when a draft changed.
  push(text) {
    const all = this.partial + text;
    let start = 0;
    let changed = false;
    for (let nl = all.indexOf("\n"); nl !== -1; nl = all.indexOf("\n", start)) {
      changed = this.line(all.slice(start, nl)) || changed;
      start = nl + 1;
    }
    this.partial = all.slice(start);
    if (this.block?.ok) {
      this.map.set(this.block.path, this.block.text + this.partial);
      changed = true;
    }
    return changed;
  }

  line(text) {
    const block = this.block;
    if (block) {
      if (text.trim() === block.fence) {
        this.block = null; // closed: the draft stays until the edit lands
        return false;
      }
      if (block.lines === 0 && EDIT_MARKER.test(text)) block.ok = false;
      block.lines += 1;
      block.text += `${text}\n`;
      if (block.lines === 1 && block.ok !== false) block.ok = this.looksWhole(block.path, text);
      if (block.ok) this.map.set(block.path, block.text);
      return !!block.ok;
    }
    const m = FENCE.exec(text);
    if (m) {
      const path = this.target(m[2].trim());
      this.block = { fence: m[1], path, lines: 0, text: "", ok: path ? null : false };
      return false;
    }
    if (text.trim()) this.lastProse = text.trim();
    return false;
  }

  target(info) {
    const paths = this.getPaths();
    const words = info.split(/\s+/).filter(Boolean);
    for (const w of words) if (paths.includes(w) || /^[\w./-]+\.(html?|css|m?js)$/i.test(w)) return w.replace(/^\.\//, "");
    const named = /([\w./-]+\.(?:html?|css|m?js))\b/i.exec(this.lastProse)?.[1];
    if (named && !words.length) return named;
    const lang = EXT[words[0]?.toLowerCase()];
    if (!lang) return null;
    const matching = paths.filter((p) => EXT[p.split(".").pop().toLowerCase()] === lang);
    return matching.length === 1 ? matching[0] : null;
  }

  looksWhole(path, firstLine) {
    const head = firstLine.trim().toLowerCase();
    if (/\.html?$/i.test(path) && (head.startsWith("<!doctype") || head.startsWith("<html"))) return true;
    if (!this.getPaths().includes(path)) return true; // a new file: all of it
    const current = this.getText(path).split("\n").find((l) => l.trim()) ?? "";
    return current.trim().toLowerCase() === head;
  }

  drop(path) {
    return this.map.delete(path);
  }

  clear() {
    const had = this.map.size > 0;
    this.reset();
    return had;
  }

  // The files with the drafts laid over them.
  overlay(files) {
    if (!this.map.size) return files;
    return { ...files, ...Object.fromEntries(this.map) };
  }
}

// The preview follows the answer: drafts grow with gen.delta and are dropped
// when their edit lands, is rejected, or the turn ends.
export function installDrafts({ session, drafts, preview }) {
  session
    .on("gen.delta", function draftDelta(msg) {
      if (drafts.push(msg.text)) preview.update();
    })
    .on("gen.edit", function draftLanded(msg) {
      if (drafts.drop(msg.path) | (msg.new_path ? drafts.drop(msg.new_path) : false)) preview.update();
    })
    .on("gen.edit_rejected", function draftRejected(msg) {
      if (drafts.drop(msg.path)) preview.update();
    });
  session.hook("finish", () => {
    if (drafts.clear()) preview.update();
  });
}
