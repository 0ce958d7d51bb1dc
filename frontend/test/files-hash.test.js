import { test } from "node:test";
import assert from "node:assert/strict";
import { hashFiles } from "../src/persistence/files-hash.js";

test("the same files hash the same, whatever their order", () => {
  assert.equal(hashFiles({ "a.js": "1", "b.css": "2" }), hashFiles({ "b.css": "2", "a.js": "1" }));
});

test("a changed text, path or file set changes the hash", () => {
  const base = hashFiles({ "a.js": "1", "b.css": "2" });
  assert.notEqual(hashFiles({ "a.js": "1", "b.css": "3" }), base);
  assert.notEqual(hashFiles({ "a.js": "1", "c.css": "2" }), base);
  assert.notEqual(hashFiles({ "a.js": "1" }), base);
  // Path/text boundaries are separated: moving a character across does not collide.
  assert.notEqual(hashFiles({ ab: "c" }), hashFiles({ a: "bc" }));
});

test("the form is hex:length of the text hashed (path, NUL, text)", () => {
  assert.match(hashFiles({ "index.html": "<p>hi</p>" }), /^[0-9a-f]+:20$/);
  assert.match(hashFiles({}), /^[0-9a-f]+:0$/);
});
