import test from "node:test";
import assert from "node:assert/strict";
import { MAX_LINE, readLine, resetStdin, writeEnd, writeLine } from "../src/python/stdin-channel.js";

const buffer = () => new SharedArrayBuffer(8 + MAX_LINE);

test("a line written by the page is what the worker reads, once", () => {
  const b = buffer();
  writeLine(b, "go north — ☃");
  assert.equal(readLine(b), "go north — ☃");
  writeEnd(b);
  assert.equal(readLine(b), null);
});

test("an end of input nobody read is cleared before the next run", () => {
  const b = buffer();
  writeEnd(b);
  resetStdin(b);
  writeLine(b, "yes");
  assert.equal(readLine(b), "yes");
});

test("a line over the limit is cut, not overflowing", () => {
  const b = buffer();
  writeLine(b, "x".repeat(MAX_LINE + 10));
  assert.equal(readLine(b).length, MAX_LINE);
});
