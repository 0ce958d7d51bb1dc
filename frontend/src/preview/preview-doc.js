// The preview document of a web playground, as the frame receives it:
//   html     index.html with each local stylesheet <link> turned into an empty
//            <style data-flint-css="style.css"> and each script (local file or
//            inline) into an empty <script data-flint-script="N"> placeholder;
//   css      {path: text} of the stylesheets it uses;
//   scripts  [{code, type, file, line}]: N-th script's text, its type attribute,
//            the file it comes from and the line of that file its code starts on
//            (so an error at line L of script N is at file:line+L-1).
// Plus `problem`: why this state should not be shown (mid-token HTML/CSS, a
// script that does not parse), or null. Pure; no DOM.

import { cssProblem, htmlProblem, jsProblem } from "./validity.js";

export { sameScripts } from "./same-scripts.js";

const LINK = /<link\b[^>]*>/gi;
const SCRIPT = /<script\b([^>]*)>([\s\S]*?)<\/script\s*>/gi;
const NO_ENTRY = '<!doctype html><p style="font:14px system-ui;color:#666">No index.html to show.</p>';

export function entryPage(files) {
  if (files["index.html"] !== undefined) return "index.html";
  return Object.keys(files).find((p) => /\.html?$/i.test(p));
}

export function buildDocument(files) {
  const entry = entryPage(files);
  if (entry === undefined) return { html: NO_ENTRY, css: {}, scripts: [], problem: null, entry: null };
  const source = files[entry];
  const bad = htmlProblem(source);
  if (bad) return { problem: { file: entry, message: bad }, entry };

  const css = {};
  const scripts = [];
  let problem = null;
  const html = source
    .replace(SCRIPT, (tag, attrs, inline, offset) => {
      const src = attr(attrs, "src");
      let code;
      let file;
      let line;
      if (src !== null) {
        file = localPath(src);
        code = file === null ? undefined : files[file];
        if (code === undefined) return tag; // a remote script: left alone (CSP blocks it)
        line = 1;
      } else {
        code = inline;
        file = entry;
        line = lineAt(source, offset + tag.indexOf(">") + 1);
      }
      const type = (attr(attrs, "type") ?? "").trim().toLowerCase();
      if (type && !/^(module|text\/javascript|application\/javascript)$/.test(type)) return tag; // data block
      const bad = jsProblem(code, type === "module");
      if (bad && !problem) problem = { file, line: line + bad.line - 1, message: bad.message };
      const rest = attrs.replace(/\s*\bsrc\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)/i, "");
      scripts.push({ code, type: type === "module" ? "module" : "classic", file, line });
      return `<script${rest} data-flint-script="${scripts.length - 1}"></script>`;
    })
    .replace(LINK, (tag) => {
      if (!/\brel\s*=\s*["']?stylesheet\b/i.test(tag)) return tag;
      const file = localPath(attr(tag, "href"));
      const text = file === null ? undefined : files[file];
      if (text === undefined) return tag;
      const bad = cssProblem(text);
      if (bad && !problem) problem = { file, message: bad };
      css[file] = text;
      return `<style data-flint-css="${escapeAttr(file)}"></style>`;
    });
  return { html, css, scripts, problem, entry };
}


function lineAt(text, offset) {
  let n = 1;
  for (let i = text.indexOf("\n"); i !== -1 && i < offset; i = text.indexOf("\n", i + 1)) n++;
  return n;
}

function attr(tag, name) {
  const m = new RegExp(`(?:^|\\s)${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)'|([^\\s>]+))`, "i").exec(tag);
  return m ? m[1] ?? m[2] ?? m[3] : null;
}

function localPath(url) {
  if (!url || /^[a-z][\w+.-]*:|^\/\//i.test(url)) return null;
  return url.replace(/^\.\//, "").replace(/^\//, "").replace(/[?#].*$/, "");
}

function escapeAttr(s) {
  return s.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");
}
