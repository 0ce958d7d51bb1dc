import test from "node:test";
import assert from "node:assert/strict";
import { collisionProblem, newPathProblem, pathProblem } from "../src/editor/path-rules.js";

test("clean relative paths pass", () => {
  for (const p of ["index.html", "src/app.js", "a/b/c.d.txt", "My File.md", "día.txt", "con-game.js"]) assert.equal(pathProblem(p), null, p);
});

test("each rule refuses its paths", () => {
  const cases = {
    "": "empty",
    "a\\b.js": "backslash",
    "a\u0000b": "control character",
    "a\u0085b": "control character",
    "evil\u202etxt.js": "text-direction",
    "/etc/passwd": "absolute",
    "C:x.txt": "drive letter",
    "a//b": "empty, '.' or '..'",
    "../up.js": "empty, '.' or '..'",
    "a/./b": "empty, '.' or '..'",
    "name.": "ending in a dot",
    "folder /x": "ending in a dot or a space",
    "con": "device name",
    "NUL.txt": "device name",
    "lib/com1.js": "device name",
    ["x".repeat(201)]: "over 200 characters",
  };
  for (const [path, says] of Object.entries(cases)) assert.match(pathProblem(path) ?? "", new RegExp(says.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")), JSON.stringify(path));
});

test("collisions: case, and a file that is also a folder", () => {
  assert.match(collisionProblem(["App.js", "app.js"]), /differ only in case/);
  assert.match(collisionProblem(["lib", "lib/x.js"]), /also a folder/);
  assert.equal(collisionProblem(["lib/a.js", "lib/b.js"]), null);
});

test("a new path: not taken, room left; a rename may keep its own name's case", () => {
  assert.match(newPathProblem("a.js", ["a.js"]), /already a file/);
  assert.equal(newPathProblem("b.js", ["a.js"]), null);
  assert.equal(newPathProblem("A.js", ["a.js"], "a.js"), null);
  assert.match(newPathProblem("x.js", Array.from({ length: 50 }, (_, i) => `f${i}`)), /at most 50/);
});
