import { test } from "node:test";
import assert from "node:assert/strict";
import { inlineTokens } from "../src/transcript/inline.js";

test("plain text is one piece", () => {
  assert.deepEqual(inlineTokens("just words"), ["just words"]);
  assert.deepEqual(inlineTokens(""), []);
});

test("code, bold and emphasis", () => {
  assert.deepEqual(inlineTokens("use `let x` and **not** *var*"), [
    "use ",
    { tag: "code", text: "let x" },
    " and ",
    { tag: "strong", text: "not" },
    " ",
    { tag: "em", text: "var" },
  ]);
});

test("double backticks enclose a backtick-free span", () => {
  assert.deepEqual(inlineTokens("a ``b`` c"), ["a ", { tag: "code", text: "b" }, " c"]);
});

test("asterisks inside words or around spaces are not emphasis", () => {
  assert.deepEqual(inlineTokens("2*3*4"), ["2*3*4"]);
  assert.deepEqual(inlineTokens("a * b * c"), ["a * b * c"]);
});

test("markup inside code is text, not HTML", () => {
  assert.deepEqual(inlineTokens("`<b>**x**</b>`"), [{ tag: "code", text: "<b>**x**</b>" }]);
});

test("an unclosed marker stays literal", () => {
  assert.deepEqual(inlineTokens("**half"), ["**half"]);
  assert.deepEqual(inlineTokens("`open"), ["`open"]);
});
