// The session's one dispatch table, with fake parts: routing by gen/seq,
// the error fallbacks, hooks, and how installed features compose.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Session } from "../src/session/session.js";
import { installSteer } from "../src/session/steer.js";

function fakeTurn() {
  const log = [];
  const record = (name) => (...args) => log.push([name, ...args]);
  return {
    log,
    set gen(id) {
      log.push(["gen", id]);
    },
    started: record("started"),
    delta: record("delta"),
    retry: record("retry"),
    editApplied: (m) => log.push(["editApplied", m.path]),
    editRejected: (m) => log.push(["editRejected", m.path, m.reason]),
    error: (e) => log.push(["error", e.code]),
    done: record("done"),
    note: record("note"),
    steered: record("steered"),
    eventsEl: { lastElementChild: { remove() {} } },
  };
}

function setup() {
  const sent = [];
  const turns = [];
  const notices = [];
  const statusLog = [];
  const status = new Proxy({}, { get: (_, name) => (...args) => statusLog.push([name, ...args]) });
  const socket = { isOpen: true, ws: { send: (frame) => sent.push(JSON.parse(frame)) }, send: (m) => sent.push(m) };
  const applied = [];
  const workspace = {
    active: "index.html",
    files: () => ({ "index.html": "<p>hi</p>" }),
    selection: () => null,
    track: () => ({ gen: null, apply: (edit) => (applied.push(edit), edit.path === "bad" ? { ok: false, reason: "no" } : { ok: true }) }),
  };
  const transcript = {
    addTurn: () => (turns.push(fakeTurn()), turns.at(-1)),
    notice: (text) => notices.push(text),
  };
  const session = new Session({ socket, workspace, transcript, status, maxMessageBytes: 1_000_000 });
  return { session, sent, turns, notices, statusLog, applied, socket, status };
}

function started(t, gen = "g1") {
  assert.equal(t.session.send("make it blue"), true);
  t.session.receive({ type: "gen.started", gen, seq: 1, model: "m" });
  return t.session.current;
}

test("send → gen.start; gen.started binds the pending run to its gen", () => {
  const t = setup();
  const run = started(t);
  assert.equal(t.sent[0].type, "gen.start");
  assert.equal(t.sent[0].instruction, "make it blue");
  assert.equal(run.gen, "g1");
  assert.equal(t.session.byGen.get("g1"), run);
  assert.deepEqual(t.turns[0].log.slice(0, 2), [["gen", "g1"], ["started"]]);
});

test("run messages: stale or duplicate seq and unknown gens are dropped", () => {
  const t = setup();
  const run = started(t);
  t.session.receive({ type: "gen.delta", gen: "g1", seq: 2, text: "a", tokens: 1 });
  t.session.receive({ type: "gen.delta", gen: "g1", seq: 2, text: "a", tokens: 1 });
  t.session.receive({ type: "gen.delta", gen: "g1", seq: 1, text: "old", tokens: 1 });
  t.session.receive({ type: "gen.delta", gen: "other", seq: 9, text: "x", tokens: 1 });
  t.session.receive({ type: "gen.delta", gen: "g1", seq: 3, text: "b", tokens: 1 });
  assert.deepEqual(t.turns[0].log.filter(([n]) => n === "delta"), [["delta", "a"], ["delta", "b"]]);
  assert.equal(run.seq, 3);
  assert.equal(run.answerText, "ab");
});

test("gen.edit records the seqs of applied edits; a failed apply shows as rejected", () => {
  const t = setup();
  const run = started(t);
  t.session.receive({ type: "gen.edit", gen: "g1", seq: 2, path: "index.html", ops: [] });
  t.session.receive({ type: "gen.edit", gen: "g1", seq: 3, path: "bad", ops: [{ from: 0, insert: "x" }] });
  assert.deepEqual(run.applied, [2]);
  assert.deepEqual(t.turns[0].log.slice(-2), [["editApplied", "index.html"], ["editRejected", "bad", "no"]]);
});

test("gen.done finishes the run and the session is idle", () => {
  const t = setup();
  const finished = [];
  t.session.hook("finish", (run) => finished.push(run?.gen));
  started(t);
  t.session.receive({ type: "gen.done", gen: "g1", seq: 2, reason: "stop", stats: {} });
  assert.equal(t.session.busy, false);
  assert.deepEqual(finished, ["g1"]);
  assert.deepEqual(t.turns[0].log.at(-1), ["done", "stop"]);
});

test("an error without gen answers a pending gen.start, else is a notice", () => {
  const t = setup();
  t.session.send("hi");
  t.session.receive({ type: "error", code: "gen.busy", message: "busy" });
  assert.equal(t.session.busy, false);
  assert.deepEqual(t.turns[0].log.slice(-2), [["error", "gen.busy"], ["done", "error"]]);
  t.session.receive({ type: "error", code: "protocol.invalid", message: "bad" });
  assert.deepEqual(t.notices, ["bad (protocol.invalid)"]);
  t.session.receive({ type: "error", code: "gen.not_running", message: "nothing" });
  assert.equal(t.notices.length, 1, "gen.not_running without a run is ignored");
});

test("error:<code> handlers go first; returning false hands on to the error handlers", () => {
  const t = setup();
  const seen = [];
  t.session.on("error:save.conflict", (msg) => seen.push(msg.code));
  t.session.on("error:files.invalid", () => false);
  t.session.receive({ type: "error", code: "save.conflict", message: "x" });
  t.session.receive({ type: "error", code: "files.invalid", message: "y" });
  assert.deepEqual(seen, ["save.conflict"]);
  assert.deepEqual(t.notices, ["y (files.invalid)"]);
});

test("send hooks can take a send over; the first defined result wins", () => {
  const t = setup();
  t.session.hook("send", (text) => (text === "no" ? false : undefined));
  assert.equal(t.session.send("no"), false);
  assert.equal(t.sent.length, 0);
  assert.equal(t.session.send("yes"), true);
  assert.equal(t.sent[0].type, "gen.start");
});

test("a replay hook returning false drops a run message (the seq still counts as seen)", () => {
  const t = setup();
  const run = started(t);
  t.session.hook("replay", (msg) => msg.seq > 5);
  t.session.receive({ type: "gen.delta", gen: "g1", seq: 4, text: "replayed", tokens: 1 });
  t.session.receive({ type: "gen.delta", gen: "g1", seq: 6, text: "new", tokens: 1 });
  assert.deepEqual(t.turns[0].log.filter(([n]) => n === "delta"), [["delta", "new"]]);
  assert.equal(run.seq, 6);
});

test("without a lost hook keeping them, runs fail when the socket closes", () => {
  const t = setup();
  started(t);
  t.session.connectionLost();
  assert.equal(t.session.busy, false);
  assert.deepEqual(t.turns[0].log.slice(-2), [["error", "connection.lost"], ["done", "error"]]);

  const kept = setup();
  kept.session.hook("lost", () => true);
  started(kept);
  kept.session.connectionLost();
  assert.equal(kept.session.busy, true, "a lost hook that returns true keeps the run");
});

test("installSteer: send while running is gen.steer; gen.steered cuts the answer", () => {
  const t = setup();
  installSteer(t);
  const run = started(t);
  t.session.receive({ type: "gen.delta", gen: "g1", seq: 2, text: "Hello wor", tokens: 3 });
  assert.equal(t.session.send("  say bye  "), true);
  assert.deepEqual(t.sent.at(-1), { type: "gen.steer", v: 1, instruction: "say bye", gen: "g1" });
  t.session.receive({ type: "gen.steered", gen: "g1", seq: 3, instruction: "say bye", kept: 6, discarded: 3 });
  assert.deepEqual(t.turns[0].log.at(-1), ["steered", "say bye", "wor"]);
  assert.equal(run.answerText, "Hello ");
  t.session.receive({ type: "gen.delta", gen: "g1", seq: 4, text: "bye", tokens: 1 });
  assert.ok(t.statusLog.some(([name]) => name === "steered"), "steer → first token time reported");
});

test("installSteer: a steer that came too late is said, not shown as the turn's error", () => {
  const t = setup();
  installSteer(t);
  started(t);
  t.session.receive({ type: "error", code: "gen.not_running", gen: "g1", message: "late" });
  assert.equal(t.turns[0].log.some(([n]) => n === "error"), false);
  assert.match(t.statusLog.at(-1)[1], /already finished/);
});

test("a read-only session sends nothing, not even a steer, whatever hooks are installed", () => {
  const t = setup();
  installSteer(t);
  started(t);
  t.session.readOnly = true;
  const before = t.sent.length;
  assert.equal(t.session.send("steer it"), false);
  assert.equal(t.sent.length, before);
  assert.match(t.statusLog.at(-1)[1], /Read-only/);
});

test("installQueueStatus: gen.queued and gen.loading reach the status line", async () => {
  const { installQueueStatus } = await import("../src/session/queue-status.js");
  const t = setup();
  installQueueStatus(t);
  started(t);
  t.session.receive({ type: "gen.queued", gen: "g1", seq: 2, position: 3 });
  t.session.receive({ type: "gen.loading", gen: "g1", seq: 3 });
  t.session.receive({ type: "gen.queued", gen: "other", seq: 9, position: 1 });
  assert.deepEqual(
    t.statusLog.filter(([name]) => name === "queued" || name === "loadingModel"),
    [["queued", 3], ["loadingModel"]],
  );
});
