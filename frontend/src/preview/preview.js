// The live preview of a web playground.
//
// The page runs in <iframe sandbox="allow-scripts"> loading GET /preview/frame
// (possibly from another origin, FLINT_PREVIEW_ORIGIN): an opaque origin with
// its own strict CSP that cannot reach Flint's cookies, storage, DOM or socket.
// Its bootstrap (preview-frame.js) receives the page over postMessage.
//
// On every change (typing, an AI edit, a draft the model is writing) the page is
// rebuilt from the files (preview-doc.js) — at once, not a frame later — and:
//   * when a file is mid-token (validity.js) nothing is sent: the last good
//     frame stays and the "waiting for valid code" badge shows;
//   * same scripts as the shown frame → the frame updates in place in its next
//     animation frame (CSS text replaced, HTML morphed): no reload, no flash;
//   * scripts changed → a fresh frame is loaded hidden behind the shown one and
//     swapped in once it has rendered (double buffering: no white flash; a
//     script V8 cannot parse is reported by the new frame, which is dropped).
// A heartbeat every 500 ms from the shown frame; none for 2 s → "Preview not
// responding — Restart". Messages are checked both ways (source, origin, shape).

import { h } from "../ui/dom.js";
import { buildDocument, sameScripts } from "./preview-doc.js";
import { validMessage } from "./frame-messages.js";

const HEARTBEAT_TIMEOUT = 2000;
const LOAD_TIMEOUT = 5000;
const MAX_MESSAGES_PER_S = 300;
const MAX_SAMPLES = 2000;

export class Preview {
  // iframe: the template's <iframe data-src=…>; consolePanel: ConsolePanel;
  // getFiles(): {path: text}; drafts: Drafts (optional); getText(path).
  constructor(iframe, { getFiles, drafts = null, consolePanel = null }) {
    this.getFiles = getFiles;
    this.drafts = drafts;
    this.console = consolePanel;
    this.src = iframe.dataset.src;
    this.stage = iframe.parentElement;
    this.stage.classList.add("preview-stage");
    iframe.remove();
    const pane = this.stage.closest(".preview-pane") ?? this.stage.parentElement;
    const head = pane.querySelector(".panel-head");
    this.badge = h("span", { class: "preview-badge", dataset: { testid: "preview-badge" }, hidden: true }, "waiting for valid code");
    head?.append(this.badge);
    this.stuck = h(
      "div",
      { class: "preview-stuck", hidden: true, role: "alert" },
      h("span", {}, "Preview not responding"),
      h("button", { type: "button", class: "btn btn-small", dataset: { testid: "preview-restart" }, onclick: () => this.restart() }, "Restart"),
    );
    this.stage.append(this.stuck);

    this.shown = null; // the frame on screen
    this.pending = null; // a fresh frame loading or rendering behind it
    this.latest = null; // the newest good document (with .version)
    this.recent = []; // the last few good documents, oldest first
    this.version = 0;
    this.changeAt = null; // when the first change since the last paint arrived
    this.times = new Map(); // version → change time
    this.samples = []; // {version, mode, ms}: change → frame rendered (before its paint)
    this.problem = null;
    this.queued = false;
    this.trace = []; // recent frame events, for debugging: [t, event, version]
    this.onMessage = (event) => this.message(event);
    window.addEventListener("message", this.onMessage);
    this.watchdog = setInterval(() => this.check(), 250);
  }

  // Something changed. The document is rebuilt in a microtask (once for all
  // changes of this task) and posted; the frame applies it in its next frame.
  update() {
    if (this.changeAt === null) this.changeAt = performance.now();
    if (this.queued) return;
    this.queued = true;
    queueMicrotask(() => {
      this.queued = false;
      this.paint();
    });
  }

  paint() {
    const t0 = this.changeAt ?? performance.now();
    this.changeAt = null;
    const files = this.drafts ? this.drafts.overlay(this.getFiles()) : this.getFiles();
    const doc = buildDocument(files);
    if (doc.problem) {
      if (!this.problem) this.note("problem", null, doc.problem.message);
      return this.setProblem(doc.problem);
    }
    if (this.latest && doc.html === this.latest.html && sameScripts(doc.scripts, this.latest.scripts) && sameCss(doc.css, this.latest.css)) {
      this.setProblem(null);
      return;
    }
    doc.version = ++this.version;
    this.times.set(doc.version, t0);
    if (this.times.size > 200) this.times.delete(this.times.keys().next().value);
    this.latest = doc;
    this.recent.push(doc); // fallbacks if V8 rejects what the quick check let through
    if (this.recent.length > 8) this.recent.shift();
    this.note("change", doc.version);
    this.setProblem(null);
    this.deliver();
  }

  // Send the latest document where it can go.
  deliver() {
    const doc = this.latest;
    if (!doc) return;
    const pending = this.pending;
    if (pending) {
      // A fresh frame that has not rendered yet takes any document as its first;
      // one already rendering its first gets the newest after the swap.
      if (pending.state === "ready") this.post(pending, doc);
      return;
    }
    const shown = this.shown;
    if (shown && shown.state === "shown" && sameScripts(shown.scripts, doc.scripts)) {
      if (shown.version !== doc.version) this.post(shown, doc);
      return;
    }
    this.spawn();
  }

  post(rec, doc) {
    if (rec.state === "ready") {
      rec.state = "rendering";
      rec.scripts = doc.scripts;
    }
    rec.version = doc.version;
    rec.doc = doc;
    rec.el.contentWindow?.postMessage(
      { type: "render", version: doc.version, html: doc.html, css: doc.css, scripts: doc.scripts.map(({ code, type }) => ({ code, type })) },
      "*", // the frame's origin is opaque ("null"): it cannot be named
    );
  }

  spawn() {
    this.note("spawn", this.latest?.version ?? null);
    const el = h("iframe", {
      class: "preview-frame preview-loading",
      title: "Preview",
      sandbox: "allow-scripts",
      referrerpolicy: "no-referrer",
      src: this.src,
    });
    const rec = { el, state: "loading", created: performance.now(), beat: performance.now(), scripts: [], version: 0, logs: [], budget: MAX_MESSAGES_PER_S, window: 0 };
    this.pending = rec;
    this.stage.append(el);
    return rec;
  }

  restart() {
    for (const rec of [this.shown, this.pending]) rec?.el.remove();
    this.shown = null;
    this.pending = null;
    this.stuck.hidden = true;
    this.console?.clearSource("preview");
    if (this.latest) this.spawn();
  }

  swapIn(rec) {
    const old = this.shown;
    rec.state = "shown";
    rec.el.classList.remove("preview-loading");
    rec.el.dataset.testid = "preview";
    this.shown = rec;
    this.pending = null;
    if (old) old.el.remove();
    this.stuck.hidden = true;
    // The console shows the page now on screen: its own messages, from its start.
    this.console?.clearSource("preview");
    for (const entry of rec.logs) this.console?.add(entry);
    rec.logs = [];
  }

  note(...event) {
    this.trace.push([Math.round(performance.now()), ...event]);
    if (this.trace.length > 200) this.trace.shift();
  }

  setProblem(problem) {
    this.problem = problem;
    if (problem) {
      const where = problem.file ? `${problem.file}${problem.line ? `:${problem.line}` : ""}: ` : "";
      this.badge.title = `${where}${problem.message}. Showing the last version that worked.`;
      this.badge.hidden = false;
    } else this.badge.hidden = true;
  }

  frameOf(source) {
    if (!source) return null;
    for (const rec of [this.shown, this.pending]) if (rec && rec.el.contentWindow === source) return rec;
    return null;
  }

  message(event) {
    const rec = this.frameOf(event.source);
    if (!rec) return; // not one of our frames
    // Sandboxed frames have the opaque origin "null"; with a separate preview
    // origin and no sandbox support it would be that origin.
    if (event.origin !== "null" && event.origin !== this.frameOrigin()) return;
    const m = event.data;
    if (!validMessage(m)) return;
    rec.beat = performance.now();
    if (m.type !== "heartbeat" && m.type !== "console") this.note(m.type, m.version ?? null, m.message);
    switch (m.type) {
      case "heartbeat":
        return;
      case "ready":
        if (rec.state === "loading") {
          rec.state = "ready";
          this.deliver();
        }
        return;
      case "invalid":
        if (rec === this.pending) {
          const s = rec.scripts[m.script];
          this.setProblem({ file: s?.file, message: m.message });
          rec.el.remove();
          this.pending = null;
          // Show the newest state that parses: fall back to the one before this.
          this.recent = this.recent.filter((d) => d.version !== m.version);
          if (this.latest?.version === m.version) {
            const shownVersion = this.shown?.version ?? 0;
            const prev = this.recent.findLast((d) => d.version > shownVersion && d.version < m.version);
            this.latest = prev ?? this.shown?.doc ?? null;
            if (!prev) return;
          }
          this.deliver();
        }
        return;
      case "rendered":
        return this.rendered(rec, m);
      default:
        return this.consoleMessage(rec, m);
    }
  }

  rendered(rec, m) {
    const t0 = this.times.get(m.version);
    if (t0 !== undefined) {
      this.times.delete(m.version);
      this.samples.push({ version: m.version, mode: m.mode, ms: performance.now() - t0 });
      if (this.samples.length > MAX_SAMPLES) this.samples.shift();
    }
    if (rec === this.pending) this.swapIn(rec);
    if (this.latest && this.latest.version > m.version) this.deliver();
  }

  consoleMessage(rec, m) {
    const now = performance.now();
    if (now - rec.window > 1000) {
      rec.window = now;
      rec.budget = MAX_MESSAGES_PER_S;
    }
    if (rec.budget-- <= 0) return;
    const at = this.locate(rec, m);
    const entry =
      m.type === "console"
        ? { level: m.level, text: m.args.join(" "), source: "preview", ...at }
        : { level: "error", text: m.message, source: "preview", ...at };
    if (rec === this.shown) this.console?.add(entry);
    else if (rec.logs.length < 500) rec.logs.push(entry);
  }

  // A script index and line in it → the user's file and line (and its text).
  locate(rec, m) {
    const s = Number.isInteger(m.script) ? rec.scripts[m.script] : undefined;
    if (!s) return {};
    const line = Number.isInteger(m.line) && m.line > 0 ? s.line + m.line - 1 : undefined;
    let lineText;
    if (line !== undefined) {
      const files = this.drafts ? this.drafts.overlay(this.getFiles()) : this.getFiles();
      lineText = files[s.file]?.split("\n")[line - 1];
    }
    return { file: s.file, line, lineText };
  }

  frameOrigin() {
    try {
      return new URL(this.src, location.href).origin;
    } catch {
      return "null";
    }
  }

  check() {
    const now = performance.now();
    const pending = this.pending;
    if (pending && pending.state !== "loading" && now - pending.beat > HEARTBEAT_TIMEOUT) {
      // The new page hangs while rendering (a loop at the top level): it is the
      // newest code, so show it — as not responding.
      this.swapIn(pending);
    } else if (pending && pending.state === "loading" && now - pending.created > LOAD_TIMEOUT) {
      pending.el.remove();
      this.pending = null;
      this.setProblem({ message: "the preview frame did not load" });
    }
    const shown = this.shown;
    this.stuck.hidden = !(shown && now - shown.beat > HEARTBEAT_TIMEOUT);
  }
}

function sameCss(a, b) {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}
