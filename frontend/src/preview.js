// The live preview of a web playground: index.html with the project's own
// stylesheets and scripts inlined, shown in a sandboxed iframe (scripts run,
// but in an opaque origin: no allow-same-origin, so the page cannot reach
// Flint's cookies or DOM). Repaints at most once per animation frame.
//
// Today every change replaces `srcdoc` (the page reloads). Smarter updates
// (CSS-only changes without a reload) belong in this module.

import { schedule } from "./frame.js";

const LINK = /<link\b[^>]*>/gi;
const SCRIPT = /<script\b([^>]*)>\s*<\/script\s*>/gi;

export class Preview {
  constructor(iframe, getFiles) {
    this.iframe = iframe;
    this.getFiles = getFiles;
    this.current = null;
    this.paint = () => this.repaint();
  }

  // Something changed: repaint in the next frame (once, however many changes).
  update() {
    schedule(this.paint);
  }

  repaint() {
    const html = buildSrcdoc(this.getFiles());
    if (html === this.current) return;
    this.current = html;
    this.iframe.srcdoc = html;
  }
}

export function buildSrcdoc(files) {
  const entry = files["index.html"] !== undefined ? "index.html" : Object.keys(files).find((p) => /\.html?$/i.test(p));
  if (entry === undefined) {
    return "<!doctype html><p style=\"font:14px system-ui;color:#666\">No index.html to show.</p>";
  }
  return files[entry]
    .replace(LINK, (tag) => {
      if (!/\brel\s*=\s*["']?stylesheet\b/i.test(tag)) return tag;
      const css = files[localPath(attr(tag, "href"))];
      return css === undefined ? tag : `<style>${escapeRawText(css, "style")}</style>`;
    })
    .replace(SCRIPT, (tag, attrs) => {
      const js = files[localPath(attr(tag, "src"))];
      if (js === undefined) return tag;
      const rest = attrs.replace(/\s*\bsrc\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)/i, "");
      return `<script${rest}>${escapeRawText(js, "script")}</script>`;
    });
}

function attr(tag, name) {
  const m = new RegExp(`\\b${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)'|([^\\s>]+))`, "i").exec(tag);
  return m ? m[1] ?? m[2] ?? m[3] : null;
}

function localPath(url) {
  if (!url || /^[a-z][\w+.-]*:|^\/\//i.test(url)) return null;
  return url.replace(/^\.\//, "").replace(/[?#].*$/, "");
}

// Inside <script>/<style> the HTML parser ends the element at "</script" (any
// case) and, in scripts, "<!--" changes how that end is found (HTML spec
// §4.12.1.3 "Restrictions for contents of script elements"). "<\/" and "<\!"
// mean the same inside JS strings and regexes, and "\/" is a valid CSS escape.
export function escapeRawText(text, element) {
  const end = new RegExp(`</(${element})`, "gi");
  const out = text.replace(end, "<\\/$1");
  return element === "script" ? out.replace(/<!--/g, "<\\!--") : out;
}
