import { test } from "node:test";
import assert from "node:assert/strict";
import { buildDocument, entryPage, sameScripts } from "../src/preview/preview-doc.js";

test("the entry page is index.html, else the first HTML file", () => {
  assert.equal(entryPage({ "a.css": "", "index.html": "", "b.html": "" }), "index.html");
  assert.equal(entryPage({ "a.css": "", "page.htm": "" }), "page.htm");
  assert.equal(entryPage({ "main.py": "" }), undefined);
});

test("no HTML file: a placeholder page, nothing to run", () => {
  const doc = buildDocument({ "style.css": "p{}" });
  assert.match(doc.html, /No index\.html/);
  assert.deepEqual([doc.scripts, doc.css, doc.problem, doc.entry], [[], {}, null, null]);
});

test("local stylesheets become <style> placeholders with their text in css", () => {
  const doc = buildDocument({
    "index.html": '<link rel="stylesheet" href="./style.css"><link rel="stylesheet" href="https://cdn.example/x.css"><p>hi</p>',
    "style.css": "p { color: red }",
  });
  assert.equal(doc.problem, null);
  assert.deepEqual(doc.css, { "style.css": "p { color: red }" });
  assert.ok(doc.html.includes('<style data-flint-css="style.css"></style>'));
  assert.ok(doc.html.includes('href="https://cdn.example/x.css"'), "a remote stylesheet is left alone");
});

test("scripts become numbered placeholders, with the file and line they start on", () => {
  const html = '<h1>x</h1>\n<script src="app.js" defer></script>\n<script type="module">\nimport "./m.js";\n</script>\n<script type="application/json">{"data": 1}</script>';
  const doc = buildDocument({ "index.html": html, "app.js": "console.log(1)" });
  assert.equal(doc.problem, null);
  assert.deepEqual(doc.scripts, [
    { code: "console.log(1)", type: "classic", file: "app.js", line: 1 },
    { code: '\nimport "./m.js";\n', type: "module", file: "index.html", line: 3 },
  ]);
  assert.ok(doc.html.includes('<script defer data-flint-script="0"></script>'), doc.html);
  assert.ok(doc.html.includes('<script type="module" data-flint-script="1"></script>'));
  assert.ok(doc.html.includes('<script type="application/json">{"data": 1}</script>'), "a data block stays as it is");
});

test("a problem names the file (and line) that is not showable", () => {
  assert.deepEqual(buildDocument({ "index.html": "<p>x</p><di" }).problem, { file: "index.html", message: "unfinished tag" });
  const css = buildDocument({ "index.html": '<link rel="stylesheet" href="s.css">', "s.css": "p {" });
  assert.deepEqual(css.problem, { file: "s.css", message: "unclosed rule block" });
  const js = buildDocument({ "index.html": "<p>\n</p>\n<script>\nok();\nbad(;\n</script>" });
  assert.deepEqual(js.problem, { file: "index.html", line: 5, message: "syntax error" });
});

test("sameScripts compares code and type, in order", () => {
  const a = [{ code: "1", type: "classic", file: "a.js", line: 1 }];
  assert.equal(sameScripts(a, [{ code: "1", type: "classic", file: "other.js", line: 9 }]), true);
  assert.equal(sameScripts(a, [{ code: "1", type: "module" }]), false);
  assert.equal(sameScripts(a, []), false);
});
