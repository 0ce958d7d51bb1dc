// Syntax highlighting outside the editor (transcript code blocks): the same
// Lezer parsers and token classes (tok-*) as the editor, so colours match.

import { classHighlighter, highlightCode } from "@lezer/highlight";

function putToken(parent, text, classes) {
  if (!classes) return parent.append(text);
  const span = document.createElement("span");
  span.className = classes;
  span.textContent = text;
  parent.append(span);
}

// Append one line of code, highlighted with `parser` (plain when null).
export function highlightInto(parent, code, parser) {
  if (!parser || !code) {
    parent.append(code);
    return;
  }
  highlightCode(code, parser.parse(code), classHighlighter, (text, classes) => putToken(parent, text, classes), () => parent.append("\n"));
}

// Highlight several lines as one unit; `newLine()` returns the element for the
// next line (called once up front and once per line break).
export function highlightLines(code, parser, newLine) {
  let line = newLine();
  if (!parser) {
    code.split("\n").forEach((text, i) => {
      if (i) line = newLine();
      line.append(text);
    });
    return;
  }
  highlightCode(code, parser.parse(code), classHighlighter, (text, classes) => putToken(line, text, classes), () => {
    line = newLine();
  });
}
