import test from "node:test";
import assert from "node:assert/strict";
import { answerChanges } from "../src/editor/review.js";

test("an answer's changes: changed, added and removed files, sorted", () => {
  const before = { "a.js": "1", "b.css": "x", "gone.txt": "bye" };
  const after = { "a.js": "2", "b.css": "x", "new.js": "", "lib/z.js": "z" };
  assert.deepEqual(answerChanges(before, after), { changed: ["a.js"], added: ["lib/z.js", "new.js"], removed: ["gone.txt"] });
  assert.deepEqual(answerChanges(before, before), { changed: [], added: [], removed: [] });
});
