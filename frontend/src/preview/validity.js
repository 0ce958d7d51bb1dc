// Is a file in a state worth showing? The preview keeps its last good frame
// (and shows "waiting for valid code") while the newest state is:
//   HTML  ending inside a tag (`<di`, `<a href="x`), an unclosed comment, or an
//         unclosed <script>/<style>/<textarea>/<title> — anything else renders
//         sensibly, since browsers close open elements themselves;
//   CSS   ending inside a comment or string, or with a rule block still open
//         (`h1 { color: re`) — braces balance once a rule is complete;
//   JS    not parseable: the Lezer JavaScript parser (the editor's own) finds an
//         error node. The frame checks again with V8 (`new Function`) before
//         running anything, so a script that V8 rejects never runs either.
// Each returns null (fine) or a short reason; jsProblem {message, line}.

import { javascriptLanguage } from "@codemirror/lang-javascript";

const RAW = new Set(["script", "style", "textarea", "title"]);

export function htmlProblem(text) {
  const n = text.length;
  let i = 0;
  while (i < n) {
    const lt = text.indexOf("<", i);
    if (lt === -1) return null;
    if (text.startsWith("<!--", lt)) {
      const end = text.indexOf("-->", lt + 4);
      if (end === -1) return "unclosed comment";
      i = end + 3;
      continue;
    }
    const next = text[lt + 1];
    if (next === undefined) return "unfinished tag";
    if (!/[a-zA-Z/!?]/.test(next)) {
      i = lt + 1;
      continue;
    }
    // Inside a tag: find its end, minding quoted attribute values.
    let j = lt + 1;
    let quote = null;
    for (; j < n; j++) {
      const c = text[j];
      if (quote) {
        if (c === quote) quote = null;
      } else if (c === '"' || c === "'") {
        if (/=\s*$/.test(text.slice(Math.max(lt, j - 8), j))) quote = c;
      } else if (c === ">") break;
    }
    if (j >= n) return "unfinished tag";
    const name = /^<([a-zA-Z][\w-]*)/.exec(text.slice(lt, j))?.[1]?.toLowerCase();
    i = j + 1;
    if (name && RAW.has(name)) {
      const close = text.slice(i).search(new RegExp(`</${name}\\s*>`, "i"));
      if (close === -1) return `unclosed <${name}>`;
      i += close;
      i = text.indexOf(">", i) + 1;
    }
  }
  return null;
}

export function cssProblem(text) {
  let depth = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text[i];
    if (c === "/" && text[i + 1] === "*") {
      const end = text.indexOf("*/", i + 2);
      if (end === -1) return "unclosed comment";
      i = end + 1;
    } else if (c === '"' || c === "'") {
      let j = i + 1;
      for (; j < n && text[j] !== c && text[j] !== "\n"; j++) if (text[j] === "\\") j++;
      if (j >= n) return "unclosed string";
      i = j;
    } else if (c === "{") depth++;
    else if (c === "}") depth = Math.max(0, depth - 1);
  }
  return depth > 0 ? "unclosed rule block" : null;
}

// Lezer results per source text: parsing once per distinct text, not per frame.
const jsCache = new Map();
const BODIED = new Set(["FunctionDeclaration", "ClassDeclaration", "MethodDeclaration"]);

export function jsProblem(code, isModule = false) {
  const key = (isModule ? "m:" : "s:") + code;
  if (jsCache.has(key)) return jsCache.get(key);
  const tree = javascriptLanguage.parser.parse(code);
  let at = -1;
  tree.iterate({
    enter(node) {
      if (at !== -1) return false;
      if (node.type.isError) {
        at = node.from;
        return false;
      }
      // The grammar allows body-less declarations (TypeScript overloads); plain JS does not.
      if (BODIED.has(node.name) && !node.node.getChild("Block") && !node.node.getChild("ClassBody")) {
        at = node.to;
        return false;
      }
    },
  });
  let result = null;
  if (at !== -1) {
    let line = 1;
    for (let i = code.indexOf("\n"); i !== -1 && i < at; i = code.indexOf("\n", i + 1)) line++;
    result = { line, message: at >= code.length ? "unexpected end of script" : "syntax error" };
  }
  if (jsCache.size > 64) jsCache.clear();
  jsCache.set(key, result);
  return result;
}
