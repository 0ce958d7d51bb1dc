// The client side of the playground protocol (docs/protocol.md): sends
// gen.start / gen.stop, and routes every server message through ONE dispatch
// table (message type → handlers) to the turn, the status line, the workspace
// and whatever features installed themselves (installSteer, installResume, …).
// One generation runs at a time.
//
// Routing (receive): a message whose `gen` names a generation this page
// follows is a *run message*: dropped when its `seq` is not newer than the
// last one seen, then handed to the handlers with its run. A `gen` the page
// does not follow is dropped (a generation from before a reconnect). Anything
// else (session.ready, allowance, files.saved, errors without `gen`,
// gen.started, and live.* which name a generation to follow) is a *session
// message*: handlers get run = null.
//
// Errors are looked up twice: first under "error:<code>" (e.g.
// "error:save.conflict"), then under "error". A code handler that returns
// `false` hands the message on to the "error" handlers.

import { describeRejection } from "../transcript/turn.js";
import { applyLater } from "../editor/apply-later.js";
import { appendText } from "./answer-log.js";

export const PROTOCOL = 1;

export class Session {
  constructor({ socket, workspace, transcript, status, maxMessageBytes }) {
    Object.assign(this, { socket, workspace, transcript, status });
    this.maxMessageBytes = maxMessageBytes;
    this.pending = null; // gen.start sent, gen.started not yet received
    this.current = null; // the running generation
    this.byGen = new Map(); // gen id → run {turn, edits, seq, gen, applied, answerLog, answerText, …}
    this.info = null; // session.ready
    this.readOnly = false; // a viewer's page: sends nothing (set by installReadOnly)
    this.mirror = false; // a live viewer: the files follow the presenter's, edits are only shown
    this.table = new Map(); // the dispatch table: type (or "error:<code>") → [handler(msg, run)]
    // Points where features hook into the page's side (not server messages):
    //   send(instruction)  → undefined (go on), or the result of send (taken or refused)
    //   replay(msg, run)   → false drops a run message (a reload replaying what it has)
    //   busy()             busy / steerable may have changed (buttons)
    //   finish(run|null)   a turn ended, or every run was dropped
    //   lost()             the socket closed; → true: the runs are kept (resumed later)
    this.hooks = { send: [], replay: [], busy: [], finish: [], lost: [] };
    installCoreHandlers(this);
  }

  get busy() {
    return !!(this.pending || this.current);
  }

  // Add `handler(msg, run)` for server messages of `type` (after those already there).
  on(type, handler) {
    if (!this.table.has(type)) this.table.set(type, []);
    this.table.get(type).push(handler);
    return this;
  }

  hook(name, fn) {
    if (!this.hooks[name]) throw new Error(`Flint: no session hook "${name}"`);
    this.hooks[name].push(fn);
    return this;
  }

  // Call every `name` hook; → true when any of them returned true.
  emit(name, ...args) {
    let any = false;
    for (const fn of this.hooks[name]) if (fn(...args) === true) any = true;
    return any;
  }

  // The one entry point for server messages.
  receive(msg) {
    let run = null;
    if (msg.gen && msg.type !== "gen.started" && !msg.type.startsWith("live.")) {
      run = this.byGen.get(msg.gen);
      if (!run) return; // a generation from before a reconnect, or unknown
      if (typeof msg.seq === "number") {
        if (msg.seq <= run.seq) return; // duplicate or stale
        run.seq = msg.seq;
      }
      if (!this.hooks.replay.every((keep) => keep(msg, run) !== false)) return;
    }
    if (msg.type === "error" && this.dispatch(`error:${msg.code}`, msg, run)) return;
    if (!this.dispatch(msg.type, msg, run) && run) console.warn("Flint: unhandled message", msg.type);
  }

  // → true when some handler took the message (a handler returning false did not).
  dispatch(key, msg, run) {
    let taken = false;
    for (const handle of this.table.get(key) ?? []) if (handle(msg, run) !== false) taken = true;
    return taken;
  }

  // → true when the request (or whatever a send hook made of it) went out.
  send(instruction) {
    if (this.readOnly) {
      this.status.say("Read-only: fork this playground to edit it.");
      return false;
    }
    for (const hook of this.hooks.send) {
      const result = hook(instruction);
      if (result !== undefined) return result;
    }
    return this.start(instruction);
  }

  start(instruction) {
    instruction = instruction.trim();
    if (!instruction) return false;
    if (this.busy) {
      this.status.say("A generation is running; stop it first (Esc).");
      return false;
    }
    if (!this.socket.isOpen) {
      this.status.say("Not connected; Flint reconnects by itself, then try again.");
      return false;
    }
    const message = {
      type: "gen.start",
      v: PROTOCOL,
      instruction,
      files: this.workspace.files(),
      active: this.workspace.active ?? undefined,
    };
    const selection = this.workspace.selection();
    if (selection) message.selection = selection;
    const frame = JSON.stringify(message);
    const bytes = new TextEncoder().encode(frame).length;
    const turn = this.transcript.addTurn(instruction);
    if (bytes > this.maxMessageBytes) {
      turn.error({
        code: "protocol.too_large",
        message: `The files and instruction are ${bytes} bytes; the limit is ${this.maxMessageBytes}. Shorten them.`,
        retryable: false,
      });
      turn.done("error");
      return false;
    }
    // Snapshot the files now: the server's view of them is what we send.
    const edits = this.workspace.track();
    const t = performance.now();
    this.pending = newRun({ turn, edits, tSend: t, instruction });
    this.socket.ws.send(frame);
    this.status.begin(t);
    this.emit("busy");
    return true;
  }

  stop() {
    const run = this.current ?? this.pending;
    if (!run) return false;
    const message = { type: "gen.stop", v: PROTOCOL };
    if (run.gen) message.gen = run.gen;
    this.socket.send(message);
    return true;
  }

  // From now on, generation `gen`'s events go to `run`, the current run.
  bind(run, gen) {
    run.gen = gen;
    run.edits.gen = gen;
    run.turn.gen = gen;
    run.turn.started();
    this.byGen.set(gen, run);
    this.current = run;
  }

  finish(run, reason, stats, error = null) {
    this.emit("finish", run);
    run.turn.done(reason);
    this.status.done(reason, stats, error ?? run.error ?? null);
    if (this.current === run) this.current = null;
    this.emit("busy");
  }

  // A turn that ends with `error` (it never started, or its socket is gone).
  fail(run, error) {
    run.turn.error(error);
    this.finish(run, "error", {}, error);
  }

  // The socket closed. Unless a feature keeps the runs (installResume), the
  // server cancels the generation and nobody will finish it: fail it here.
  connectionLost() {
    if (this.emit("lost")) {
      this.emit("busy");
      return;
    }
    for (const run of [this.pending, this.current]) {
      if (run) this.fail(run, { code: "connection.lost", message: "The connection dropped; the answer stopped here.", retryable: true });
    }
    this.pending = null;
    this.current = null;
    this.emit("finish", null);
    this.emit("busy");
  }

  // "Ask model to fix" on a rejected edit.
  askFix(rejection) {
    const snippet = rejection.snippet ? `\n\n\`\`\`\n${rejection.snippet}\n\`\`\`` : "";
    const hunk = rejection.hunk != null ? ` (hunk ${rejection.hunk})` : "";
    return this.send(
      `Your edit to ${rejection.path}${hunk} was rejected: ${describeRejection(rejection)}.${snippet}\n\n` +
        "Please make that change again so that it applies cleanly to the current file.",
    );
  }

  applyAnyway(turn, rejection) {
    const run = [...this.byGen.values()].find((r) => r.turn === turn);
    // An answer from before this page loaded: rebase onto the file as it is now.
    if (!run) return applyLater(this.workspace, rejection);
    return run.edits.apply(rejection, { intoBase: false });
  }
}

// A run: one generation as this page follows it.
//   applied    seqs of the gen.edits this page applied (a reload re-applies the rest)
//   answerLog  the answer as segments, [{text}, {steer: {instruction, tail}}, …]
export function newRun(fields) {
  return { seq: 0, gen: null, applied: [], answerLog: [], answerText: "", ...fields };
}

// The protocol itself: what every page does with each server message.
function installCoreHandlers(session) {
  const { status } = session;
  session
    .on("session.ready", function ready(msg) {
      session.info = msg;
      if (msg.max_message_bytes) session.maxMessageBytes = msg.max_message_bytes;
      session.emit("busy");
    })
    .on("pong", function pong() {})
    .on("gen.started", function started(msg) {
      const run = session.pending;
      if (!run) return;
      session.pending = null;
      run.seq = msg.seq ?? 0;
      session.bind(run, msg.gen);
      status.started(msg.model);
      session.emit("busy"); // Send → Steer
    })
    .on("gen.delta", function delta(msg, run) {
      appendText(run, msg.text);
      status.delta(msg.tokens ?? 0, performance.now());
      run.turn.delta(msg.text);
    })
    .on("gen.retry", function retry(msg, run) {
      run.turn.retry(msg);
      status.retry(msg);
    })
    .on("gen.edit", function edit(msg, run) {
      if (session.mirror) return run.turn.editApplied(msg); // in the files by the presenter's change
      const result = run.edits.apply(msg, { intoBase: true });
      if (result.ok && typeof msg.seq === "number" && !run.applied.includes(msg.seq)) run.applied.push(msg.seq);
      if (result.ok) run.turn.editApplied(msg);
      else run.turn.editRejected({ ...msg, reason: result.reason, snippet: insertedText(msg.ops), local: true });
    })
    .on("gen.edit_rejected", function editRejected(msg, run) {
      run.turn.editRejected(msg);
    })
    .on("gen.done", function done(msg, run) {
      session.finish(run, msg.reason, msg.stats);
    })
    .on("error", function error(msg, run) {
      if (run) {
        run.error = msg;
        run.turn.error(msg);
        return;
      }
      // Not tied to a generation: if a gen.start awaits its answer, this is
      // the answer (busy, too large, rate limited, invalid); otherwise a notice.
      if (msg.code === "gen.not_running") return;
      if (session.pending) {
        const pending = session.pending;
        session.pending = null;
        pending.turn.error(msg);
        session.finish(pending, "error", {}, msg);
        return;
      }
      session.transcript.notice(`${msg.message} (${msg.code})`, "notice-error");
    });
}

function insertedText(ops) {
  return (ops ?? []).map((op) => op.insert ?? "").filter(Boolean).join("\n…\n");
}
