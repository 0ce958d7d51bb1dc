import test from "node:test";
import assert from "node:assert/strict";
import { Text } from "@codemirror/state";
import { AppliedMarks, turnCalls } from "../src/transcript/past-turns.js";
import { changesBetween, rebaseOnto } from "../src/editor/apply-later.js";
import { OVERLAP } from "../src/editor/rebase.js";

test("a record's events become the turn's calls, steers cut like live ones", () => {
  const record = {
    gen: "g_1",
    status: "done",
    events: [
      { event: "text", text: "Hello wor" },
      { event: "steer", instruction: "shorter", kept: 6, discarded: 3 },
      { event: "text", text: "there." },
      { event: "edit", seq: 4, path: "a.css", hunk: 1, kind: "update" },
      { event: "rejected", seq: 5, path: "a.js", hunk: 2, reason: "syntax", ops: [{ from: 0, to: 0, insert: "(" }] },
      { event: "done", reason: "stop" },
    ],
  };
  const calls = turnCalls(record);
  assert.deepEqual(calls.map((c) => c[0]), ["delta", "steered", "delta", "editApplied", "editRejected", "done"]);
  assert.deepEqual(calls[1], ["steered", "shorter", "wor"]);
  assert.equal(calls[4][1].gen, "g_1");
  assert.deepEqual(calls[5], ["done", "stop"]);
});

test("a record without gen.done ends by its status", () => {
  assert.deepEqual(turnCalls({ status: "stopped", events: [] }), [["done", "stopped"]]);
  assert.deepEqual(turnCalls({ status: "error" }), [["done", "error"]]);
});

test("applied-anyway marks survive in storage", () => {
  const store = new Map();
  const storage = { getItem: (k) => store.get(k) ?? null, setItem: (k, v) => store.set(k, v) };
  new AppliedMarks("p1", storage).add("g_1", 5);
  assert.ok(new AppliedMarks("p1", storage).has("g_1", 5));
  assert.ok(!new AppliedMarks("p1", storage).has("g_1", 6));
  assert.ok(!new AppliedMarks("p2", storage).has("g_1", 5));
});

test("changesBetween maps one text onto the other", () => {
  const a = "one\ntwo\nthree\n";
  const b = "one\n2\nthree\nfour\n";
  assert.equal(changesBetween(a, b).apply(textOf(a)).toString(), b);
});

test("Apply anyway later: ops rebase onto a file changed elsewhere, not over a change", () => {
  const base = "let a = 1;\nlet b = 2;\n";
  const ops = [{ from: 19, to: 20, insert: "(2" }]; // "2" of b → "(2"
  const current = "// mine\nlet a = 1;\nlet b = 2;\n";
  const ok = rebaseOnto(base, current, ops);
  assert.ok(ok.ok);
  assert.equal(ok.mapped.apply(textOf(current)).toString(), "// mine\nlet a = 1;\nlet b = (2;\n");
  const clash = rebaseOnto(base, "let a = 1;\nlet b = 3;\n", ops);
  assert.deepEqual(clash, { ok: false, reason: OVERLAP });
});

function textOf(s) {
  return Text.of(s.split("\n"));
}
