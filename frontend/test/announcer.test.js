import test from "node:test";
import assert from "node:assert/strict";
import { answerSummary } from "../src/status/announcer.js";
import { PANES } from "../src/ui/pane-switcher.js";

test("one sentence per finished answer", () => {
  assert.equal(answerSummary("stop", { applied: 2 }), "The answer is done: 2 changes applied.");
  assert.equal(answerSummary("stop", { applied: 1, rejected: 1 }), "The answer is done: 1 change applied, 1 not applied.");
  assert.equal(answerSummary("stopped"), "The answer was stopped.");
  assert.equal(answerSummary("error", { error: { message: "The model server failed." } }), "The answer failed. The model server failed.");
});

test("the phone panes", () => {
  assert.deepEqual(PANES, ["code", "preview", "chat"]);
});
