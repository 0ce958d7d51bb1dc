// The transcript of answers that finished before this page loaded: the server
// keeps each generation's events (playground/generations/transcript.py) and
// the page's boot data carries the last ones. Each is drawn as a turn again,
// through the same Turn methods as a live answer: the text with its steers,
// each edit's outcome (a rejected edit with "Ask model to fix" and "Apply
// anyway"), errors, the outcome. Which rejected edits were applied anyway is
// remembered in this browser, so a reload shows them applied.

import { appendText, cutAnswer } from "../session/answer-log.js";

const STATUS_REASON = { done: "stop", stopped: "stopped", error: "error" };

export class AppliedMarks {
  constructor(playground, storage = globalThis.localStorage) {
    this.key = `flint:applied-anyway:${playground}`;
    this.storage = storage;
  }

  all() {
    try {
      return new Set(JSON.parse(this.storage?.getItem(this.key) ?? "[]"));
    } catch {
      return new Set();
    }
  }

  has(gen, seq) {
    return this.all().has(`${gen}:${seq}`);
  }

  add(gen, seq) {
    if (!gen || seq == null) return;
    const marks = [...this.all(), `${gen}:${seq}`].slice(-500);
    try {
      this.storage?.setItem(this.key, JSON.stringify([...new Set(marks)]));
    } catch {
      // storage full or disabled: the mark is only lost after a reload
    }
  }
}

// Pure: one record's events → the calls a Turn gets, in order:
// [["delta", text] | ["steered", instruction, tail] | ["editApplied", ev] |
//  ["editRejected", ev] | ["error", ev] | ["done", reason]]
export function turnCalls(record) {
  const run = { answerLog: [], answerText: "" };
  const calls = [];
  let reason = null;
  for (const ev of record.events ?? []) {
    if (ev.event === "text") {
      appendText(run, ev.text);
      calls.push(["delta", ev.text]);
    } else if (ev.event === "steer") {
      calls.push(["steered", ev.instruction, cutAnswer(run, ev)]);
    } else if (ev.event === "edit") calls.push(["editApplied", ev]);
    else if (ev.event === "rejected") calls.push(["editRejected", { ...ev, gen: record.gen }]);
    else if (ev.event === "error") calls.push(["error", ev]);
    else if (ev.event === "done") reason = ev.reason;
  }
  calls.push(["done", reason ?? STATUS_REASON[record.status] ?? "stop"]);
  return calls;
}

// records: boot.transcript; skip: a generation another part draws (the one a
// reload resumes). → {marks}
export function installPastTurns({ transcript }, { records = [], skip = null, marks }) {
  for (const record of records) {
    if (record.gen === skip) continue;
    const turn = transcript.addTurn(record.instruction);
    turn.gen = record.gen;
    turn.el.dataset.restored = "true";
    for (const [method, ...args] of turnCalls(record)) {
      if (method === "editRejected" && marks?.has(record.gen, args[0].seq)) args[0] = { ...args[0], appliedAnyway: true };
      turn[method](...args);
    }
  }
  return { marks };
}
