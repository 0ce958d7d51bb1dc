import { test } from "node:test";
import assert from "node:assert/strict";
import { appendText, cutAnswer } from "../src/session/answer-log.js";

test("appendText merges consecutive text into one segment", () => {
  const run = {};
  appendText(run, "Hel");
  appendText(run, "lo");
  assert.deepEqual(run.answerLog, [{ text: "Hello" }]);
  assert.equal(run.answerText, "Hello");
});

test("a steer keeps `kept` units, returns the discarded tail, and starts a new segment", () => {
  const run = {};
  appendText(run, "Keep this. Drop");
  const tail = cutAnswer(run, { instruction: "shorter", kept: 10, discarded: 5 });
  assert.equal(tail, " Drop");
  assert.equal(run.answerText, "Keep this.");
  assert.deepEqual(run.answerLog, [{ text: "Keep this." }, { steer: { instruction: "shorter", tail: " Drop" } }]);
  appendText(run, " More");
  assert.deepEqual(run.answerLog.at(-1), { text: " More" });
  assert.equal(run.answerText, "Keep this. More");
});

test("nothing discarded: no tail; kept past the end is clamped", () => {
  const run = {};
  appendText(run, "abc");
  assert.equal(cutAnswer(run, { instruction: "x", kept: 99, discarded: 0 }), "");
  assert.equal(run.answerText, "abc");
});

test("a cut inside an earlier segment drops the later ones", () => {
  const run = {};
  appendText(run, "one ");
  cutAnswer(run, { instruction: "a", kept: 4, discarded: 0 });
  appendText(run, "two three");
  const tail = cutAnswer(run, { instruction: "b", kept: 6, discarded: 7 });
  assert.equal(tail, "o three");
  assert.equal(run.answerText, "one tw");
  assert.deepEqual(run.answerLog, [
    { text: "one " },
    { steer: { instruction: "a", tail: "" } },
    { text: "tw" },
    { steer: { instruction: "b", tail: "o three" } },
  ]);
});
