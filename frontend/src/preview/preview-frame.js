// The bootstrap of the preview frame (GET /preview/frame, built into
// static/flint/preview-frame.js). It runs in an opaque origin (CSP sandbox
// allow-scripts + iframe sandbox="allow-scripts"), receives the user's page
// from the app over postMessage and renders it:
//
//   first render   parse the HTML, adopt it as this document, fill the <style>s,
//                  run the scripts in order (each checked with `new Function`
//                  first: a script that does not parse is never run);
//   later renders  scripts are unchanged (the app opens a fresh frame when they
//                  change): CSS changes replace <style> text in place, HTML
//                  changes are morphed into the live document (morphdom) —
//                  only elements whose *source* changed are touched, so state
//                  the scripts put into the DOM elsewhere survives.
//
// Messages: app → frame: render {version, html, css, scripts}
//           frame → app: ready, rendered {version, mode}, invalid {version, file?,
//           message}, console {level, args, script?, line?}, error {kind, message,
//           script?, line?, col?, stack?}, heartbeat.
// Both sides check the sender: here event.source === parent and event.origin
// === the app origin the server validated and wrote into <html data-parent-origin>.

import morphdom from "morphdom";
import { sameScripts } from "./same-scripts.js";

(() => {
  const APP = document.documentElement.dataset.parentOrigin;
  if (!APP || window.parent === window) return; // opened directly: do nothing
  const parentWin = window.parent;
  const post = (msg) => {
    try {
      parentWin.postMessage(msg, APP);
    } catch {
      /* the app is gone */
    }
  };
  // Keep references: the user's code may overwrite globals.
  const { setInterval, requestAnimationFrame, performance, JSON, Error: NativeError } = window;
  const nativeConsole = { ...console };

  let rendered = null; // {html, css, scripts} as applied
  let pending = null; // the newest render message not yet applied
  let srcOf = new WeakMap(); // live element → pristine source element it came from
  const SCRIPT_URL = /flint-script-(\d+)\.js:(\d+)(?::(\d+))?/;

  // --- console and errors -----------------------------------------------------------
  // At most this many console messages per second reach the app; the rest are counted.
  const BUDGET = 200;
  let budget = BUDGET;
  let dropped = 0;
  setInterval(() => {
    if (dropped) post({ type: "console", level: "warn", args: [`… ${dropped} console messages dropped`] });
    dropped = 0;
    budget = BUDGET;
  }, 1000);

  function where(stack) {
    // The first stack frame inside one of the user's scripts (sourceURL flint-script-N.js).
    for (const line of String(stack ?? "").split("\n")) {
      const m = SCRIPT_URL.exec(line);
      if (m) return { script: Number(m[1]), line: Number(m[2]), col: m[3] ? Number(m[3]) : undefined };
    }
    return {};
  }

  function format(value, depth = 0, seen = new Set()) {
    try {
      if (typeof value === "string") return value;
      if (value === undefined) return "undefined";
      if (value === null || typeof value !== "object") {
        if (typeof value === "function") return `ƒ ${value.name || "anonymous"}()`;
        if (typeof value === "symbol") return value.toString();
        return String(value);
      }
      if (value instanceof NativeError) return value.stack || `${value.name}: ${value.message}`;
      if (seen.has(value)) return "[Circular]";
      if (depth > 2) return Array.isArray(value) ? "[…]" : "{…}";
      seen.add(value);
      if (typeof Node !== "undefined" && value instanceof Node) {
        return value.nodeType === 1 ? `<${value.tagName.toLowerCase()}${value.id ? `#${value.id}` : ""}>` : value.nodeName;
      }
      if (Array.isArray(value)) {
        const items = value.slice(0, 50).map((v) => quote(v, depth, seen));
        return `[${items.join(", ")}${value.length > 50 ? ", …" : ""}]`;
      }
      const keys = Object.keys(value).slice(0, 50);
      return `{${keys.map((k) => `${k}: ${quote(value[k], depth, seen)}`).join(", ")}}`;
    } catch {
      return "[unprintable]";
    }
  }
  const quote = (v, depth, seen) => (typeof v === "string" ? JSON.stringify(v) : format(v, depth + 1, seen));

  for (const level of ["log", "info", "warn", "error", "debug"]) {
    console[level] = function (...args) {
      nativeConsole[level]?.apply(console, args);
      if (budget <= 0) {
        dropped += 1;
        return;
      }
      budget -= 1;
      const at = where(new NativeError().stack);
      post({ type: "console", level, args: args.map((a) => format(a).slice(0, 10000)), ...at });
    };
  }

  window.addEventListener("error", (event) => {
    const err = event.error;
    let at = where(err?.stack);
    if (at.script === undefined) at = where(`${event.filename}:${event.lineno}:${event.colno}`);
    post({
      type: "error",
      kind: "error",
      message: String(event.message || err?.message || "Script error").slice(0, 10000),
      stack: err?.stack ? String(err.stack).slice(0, 10000) : undefined,
      ...at,
    });
  });
  window.addEventListener("unhandledrejection", (event) => {
    const reason = event.reason;
    const message = reason instanceof NativeError ? `${reason.name}: ${reason.message}` : format(reason);
    post({
      type: "error",
      kind: "rejection",
      message: `Uncaught (in promise) ${message}`.slice(0, 10000),
      stack: reason?.stack ? String(reason.stack).slice(0, 10000) : undefined,
      ...where(reason?.stack),
    });
  });

  // --- rendering ----------------------------------------------------------------------
  window.addEventListener("message", (event) => {
    if (event.source !== parentWin || event.origin !== APP) return;
    const msg = event.data;
    if (!valid(msg)) return;
    const first = pending === null;
    pending = msg;
    if (first) {
      // Normally the next animation frame; a frame the browser does not paint
      // (throttled) still renders, 100 ms later.
      requestAnimationFrame(applyPending);
      setTimeout(applyPending, 100);
    }
  });

  function valid(msg) {
    return (
      msg &&
      msg.type === "render" &&
      Number.isInteger(msg.version) &&
      typeof msg.html === "string" &&
      msg.css &&
      typeof msg.css === "object" &&
      Array.isArray(msg.scripts) &&
      msg.scripts.every((s) => s && typeof s.code === "string" && typeof s.type === "string")
    );
  }

  // Once per animation frame, the newest render; "rendered" goes out before the paint.
  function applyPending() {
    const msg = pending;
    pending = null;
    if (!msg) return;
    let mode;
    try {
      if (rendered === null) mode = first(msg);
      else if (sameScripts(rendered.scripts, msg.scripts)) mode = update(msg);
      else mode = "stale"; // scripts changed: the app opens a fresh frame for those
    } catch (err) {
      post({ type: "error", kind: "error", message: `Preview: ${err?.message ?? err}` });
      mode = "failed";
    }
    if (mode !== "invalid") post({ type: "rendered", version: msg.version, mode, t: performance.now() });
  }

  function parse(html) {
    return new DOMParser().parseFromString(html, "text/html");
  }

  function first(msg) {
    for (const [i, s] of msg.scripts.entries()) {
      if (s.type === "module") continue; // `new Function` cannot parse modules
      try {
        new Function(s.code); // eslint-disable-line no-new-func -- parse only, never called
      } catch (err) {
        post({ type: "invalid", version: msg.version, script: i, message: `${err.name}: ${err.message}` });
        return "invalid";
      }
    }
    const doc = parse(msg.html);
    const pristine = doc.documentElement.cloneNode(true);
    const root = document.adoptNode(doc.documentElement);
    document.replaceChild(root, document.documentElement);
    srcOf = new WeakMap();
    pairWalk(root, pristine, (live, src) => srcOf.set(live, src));
    fillStyles(msg.css, true);
    rendered = msg;
    runScripts(msg.scripts);
    document.dispatchEvent(new Event("DOMContentLoaded", { bubbles: true }));
    window.dispatchEvent(new Event("load"));
    return "full";
  }

  function runScripts(scripts) {
    for (const placeholder of document.querySelectorAll("script[data-flint-script]")) {
      const i = Number(placeholder.dataset.flintScript);
      const s = scripts[i];
      if (!s) continue;
      const el = document.createElement("script");
      for (const { name, value } of placeholder.attributes) if (name !== "data-flint-script") el.setAttribute(name, value);
      el.textContent = `${s.code}\n//# sourceURL=flint-script-${i}.js`;
      placeholder.replaceWith(el); // a classic inline script runs right here
    }
  }

  function fillStyles(css, all) {
    for (const style of document.querySelectorAll("style[data-flint-css]")) {
      const text = css[style.dataset.flintCss];
      if (typeof text !== "string") continue;
      if (all || style.textContent !== text) style.textContent = text;
    }
  }

  function update(msg) {
    let mode = "none";
    if (msg.html !== rendered.html) {
      morph(msg.html);
      mode = "morph";
    }
    const cssChanged = Object.keys(msg.css).some((k) => msg.css[k] !== rendered.css[k]);
    if (cssChanged || mode === "morph") {
      fillStyles(msg.css, false);
      if (mode === "none") mode = "css";
    }
    rendered = msg;
    return mode;
  }

  function morph(html) {
    const next = parse(html).documentElement;
    const pristine = next.cloneNode(true);
    const toPristine = new Map();
    pairWalk(next, pristine, (a, b) => toPristine.set(a, b));
    morphdom(document.documentElement, next, {
      onBeforeElUpdated(from, to) {
        if (from.tagName === "SCRIPT") return false; // scripts never re-run in place
        const before = srcOf.get(from);
        const after = toPristine.get(to);
        if (after) srcOf.set(from, after);
        // The source of this subtree did not change: leave it (and what the
        // page's scripts did to it) alone.
        if (before && after && before.isEqualNode(after)) {
          pairWalk(from, after, (live, src) => srcOf.set(live, src), true);
          return false;
        }
        if (from.hasAttribute("data-flint-css") && to.hasAttribute("data-flint-css")) {
          to.textContent = from.textContent; // fillStyles sets the text
        }
        return true;
      },
      onBeforeNodeDiscarded(node) {
        // Elements the page's own scripts created are not ours to remove.
        return node.nodeType !== 1 || srcOf.has(node);
      },
      onNodeAdded(node) {
        if (node.nodeType === 1) pairWalk(node, toPristine.get(node), (live, src) => srcOf.set(live, src));
        if (node.tagName === "SCRIPT") node.type = "text/flint-inert"; // never run by a morph
        return node;
      },
    });
  }

  // Walk two trees of the same shape, element by element.
  function pairWalk(a, b, visit, lenient = false) {
    if (!a || !b || a.nodeType !== 1 || b.nodeType !== 1) return;
    if (lenient && a.tagName !== b.tagName) return;
    visit(a, b);
    let x = a.firstElementChild;
    let y = b.firstElementChild;
    while (x && y) {
      pairWalk(x, y, visit, lenient);
      x = x.nextElementSibling;
      y = y.nextElementSibling;
    }
  }

  // --- liveness -------------------------------------------------------------------------
  setInterval(() => post({ type: "heartbeat" }), 500);
  post({ type: "ready" });
})();
