import { test } from "node:test";
import assert from "node:assert/strict";
import { Drafts } from "../src/preview/draft.js";

const files = { "index.html": "<!doctype html>\n<p>old</p>\n", "style.css": "p { color: red }\n" };
const drafts = () => new Drafts(() => Object.keys(files), (p) => files[p]);

test("a fenced whole file shows as a draft while it streams", () => {
  const d = drafts();
  assert.equal(d.push("Here it is:\n```html index.html\n<!doctype html>\n<p>ne"), true);
  assert.equal(d.overlay(files)["index.html"], "<!doctype html>\n<p>ne");
  d.push("w</p>\n```\n");
  assert.equal(d.overlay(files)["index.html"], "<!doctype html>\n<p>new</p>\n", "a closed block stays until its edit lands");
  assert.equal(d.overlay(files)["style.css"], files["style.css"]);
});

test("the language alone names the file when only one file has it", () => {
  const d = drafts();
  d.push("```css\np { color: red }\nh1 {");
  assert.equal(d.overlay(files)["style.css"], "p { color: red }\nh1 {");
});

test("edit formats and partial snippets are not drafts", () => {
  const d = drafts();
  assert.equal(d.push("```html index.html\n<<<<<<< SEARCH\n<p>old</p>\n"), false);
  assert.equal(d.overlay(files), files);
  const snippet = drafts();
  snippet.push("```css style.css\nh1 { margin: 0 }\n");
  assert.equal(snippet.overlay(files), files, "does not start like the current file");
});

test("drop and clear say whether anything changed", () => {
  const d = drafts();
  d.push("```html index.html\n<!doctype html>\n");
  assert.equal(d.drop("style.css"), false);
  assert.equal(d.drop("index.html"), true);
  assert.equal(d.clear(), false);
});
