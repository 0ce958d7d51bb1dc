// Which language a file or a fenced code block is in, for the editor
// (a LanguageSupport extension) and for transcript highlighting (a parser).

import { html, htmlLanguage } from "@codemirror/lang-html";
import { css, cssLanguage } from "@codemirror/lang-css";
import {
  javascript,
  javascriptLanguage,
  jsxLanguage,
  typescriptLanguage,
} from "@codemirror/lang-javascript";
import { python, pythonLanguage } from "@codemirror/lang-python";

const NAMES = {
  html: "html", htm: "html", xml: "html", svg: "html",
  css: "css",
  js: "javascript", mjs: "javascript", cjs: "javascript", javascript: "javascript",
  json: "javascript",
  jsx: "jsx", ts: "typescript", typescript: "typescript", tsx: "jsx",
  py: "python", python: "python", python3: "python",
};

const SUPPORT = {
  html: () => html(),
  css: () => css(),
  javascript: () => javascript(),
  jsx: () => javascript({ jsx: true }),
  typescript: () => javascript({ typescript: true }),
  python: () => python(),
};

const PARSERS = {
  html: htmlLanguage,
  css: cssLanguage,
  javascript: javascriptLanguage,
  jsx: jsxLanguage,
  typescript: typescriptLanguage,
  python: pythonLanguage,
};

// "index.html", "html", "```html index.html" info words → "html" (or null).
export function languageName(word) {
  if (!word) return null;
  const lower = word.toLowerCase();
  if (NAMES[lower]) return NAMES[lower];
  const dot = lower.lastIndexOf(".");
  return dot >= 0 ? NAMES[lower.slice(dot + 1)] || null : null;
}

// For a fence info line like "html index.html" or "index.html" or "py".
export function languageOfInfo(info) {
  for (const word of info.trim().split(/\s+/)) {
    const name = languageName(word);
    if (name) return name;
  }
  return null;
}

export function editorLanguage(path) {
  const name = languageName(path);
  return name ? SUPPORT[name]() : [];
}

export function parserFor(name) {
  return name ? PARSERS[name].parser : null;
}
