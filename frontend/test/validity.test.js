import { test } from "node:test";
import assert from "node:assert/strict";
import { cssProblem, htmlProblem, jsProblem } from "../src/preview/validity.js";

test("complete HTML is showable, even with elements left open", () => {
  assert.equal(htmlProblem("<!doctype html><h1>Hi</h1><p>open paragraph"), null);
  assert.equal(htmlProblem('<a href="x">link</a> 1 < 2'), null);
  assert.equal(htmlProblem("<script>if (a < b) go()</script>"), null);
});

test("HTML mid-token is not", () => {
  assert.equal(htmlProblem("<p>text</p><di"), "unfinished tag");
  assert.equal(htmlProblem('<a href="x'), "unfinished tag");
  assert.equal(htmlProblem("<p>a</p><"), "unfinished tag");
  assert.equal(htmlProblem("<!-- note"), "unclosed comment");
  assert.equal(htmlProblem("<script>let x = 1;"), "unclosed <script>");
  assert.equal(htmlProblem("<style>p { color: red }"), "unclosed <style>");
});

test("a quote inside an attribute value does not end the tag", () => {
  assert.equal(htmlProblem(`<div title="a > b">x</div>`), null);
  assert.equal(htmlProblem(`<div title="a > b`), "unfinished tag");
});

test("CSS: balanced rules are fine; an open block, comment or string is not", () => {
  assert.equal(cssProblem("h1 { color: red; } p { margin: 0 }"), null);
  assert.equal(cssProblem("h1 { color: re"), "unclosed rule block");
  assert.equal(cssProblem("/* note"), "unclosed comment");
  assert.equal(cssProblem('a::after { content: "x'), "unclosed string");
  assert.equal(cssProblem('a::after { content: "}" }'), null, "a brace in a string is text");
});

test("JS that parses has no problem", () => {
  assert.equal(jsProblem("const x = 1;\nfunction f() { return x; }"), null);
  assert.equal(jsProblem("import { a } from './a.js';\nexport default a;", true), null);
});

test("JS with a syntax error names the line", () => {
  assert.deepEqual(jsProblem("const a = 1;\nconst b = ;\n"), { line: 2, message: "syntax error" });
  assert.deepEqual(jsProblem("function f() {\n  return 1;\n"), { line: 3, message: "unexpected end of script" });
});

test("a body-less function (a TypeScript overload to Lezer) is an error in JS", () => {
  assert.notEqual(jsProblem("function f(a)\nf(1)"), null);
});
