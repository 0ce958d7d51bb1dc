// The client side of the playground protocol (docs/protocol.md): sends
// gen.start / gen.stop, and routes every server message to the turn, the
// status line and the workspace. One generation runs at a time.

import { describeRejection } from "../transcript/turn.js";

const PROTOCOL = 1;

export class Session {
  // hooks (optional): {delta(text), edit(path), rejected(path), done()} — the
  // preview's drafts follow the answer through these.
  constructor({ socket, workspace, transcript, status, onBusyChange, maxMessageBytes, hooks = {} }) {
    Object.assign(this, { socket, workspace, transcript, status, onBusyChange, hooks });
    this.maxMessageBytes = maxMessageBytes;
    this.pending = null; // gen.start sent, gen.started not yet received
    this.current = null; // the running generation
    this.byGen = new Map(); // gen id → {turn, edits, seq, ...}
    this.info = null; // session.ready
  }

  get busy() {
    return !!(this.pending || this.current);
  }

  // → true when the request went out.
  send(instruction) {
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
    this.pending = { turn, edits, seq: 0, tSend: t, instruction };
    this.socket.ws.send(frame);
    this.status.begin(t);
    this.onBusyChange(true);
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

  onMessage(msg) {
    if (msg.type === "session.ready") {
      this.info = msg;
      if (msg.max_message_bytes) this.maxMessageBytes = msg.max_message_bytes;
      return;
    }
    if (msg.type === "pong") return;
    if (msg.type === "gen.started") return this.started(msg);
    if (msg.type === "error" && !msg.gen) return this.sessionError(msg);
    const run = this.byGen.get(msg.gen);
    if (!run) return; // a generation from before a reconnect, or unknown
    if (typeof msg.seq === "number") {
      if (msg.seq <= run.seq) return; // duplicate or stale
      run.seq = msg.seq;
    }
    const handler = HANDLERS[msg.type];
    if (handler) handler.call(this, run, msg);
    else console.warn("Flint: unhandled message", msg.type);
  }

  started(msg) {
    const run = this.pending;
    if (!run) return;
    this.pending = null;
    Object.assign(run, { gen: msg.gen, seq: msg.seq ?? 0 });
    run.edits.gen = msg.gen;
    run.turn.gen = msg.gen;
    run.turn.started();
    this.byGen.set(msg.gen, run);
    this.current = run;
    this.status.started(msg.model);
  }

  // An error not tied to a generation: if a gen.start awaits its answer, this
  // is the answer (busy, too large, rate limited, invalid); otherwise a notice.
  sessionError(msg) {
    if (msg.code === "gen.not_running") return;
    if (this.pending) {
      const run = this.pending;
      this.pending = null;
      run.turn.error(msg);
      this.finish(run, "error", {}, msg);
      return;
    }
    this.transcript.notice(`${msg.code}: ${msg.message}`, "notice-error");
  }

  finish(run, reason, stats, error = null) {
    this.hooks.done?.();
    run.turn.done(reason);
    this.status.done(reason, stats, error ?? run.error ?? null);
    if (this.current === run) this.current = null;
    this.onBusyChange(this.busy);
  }

  // The socket closed: the server cancels the generation, nobody will finish it.
  connectionLost() {
    for (const run of [this.pending, this.current]) {
      if (!run) continue;
      const error = { code: "connection.lost", message: "The connection dropped; the answer stopped here.", retryable: true };
      run.turn.error(error);
      this.finish(run, "error", {}, error);
    }
    this.pending = null;
    this.current = null;
    this.hooks.done?.();
    this.onBusyChange(false);
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
    if (!run) return { ok: false, reason: "this turn never started" };
    return run.edits.apply(rejection, { intoBase: false });
  }
}

const HANDLERS = {
  "gen.delta"(run, msg) {
    this.status.delta(msg.tokens ?? 0, performance.now());
    run.turn.delta(msg.text);
    this.hooks.delta?.(msg.text);
  },
  "gen.retry"(run, msg) {
    run.turn.retry(msg);
    this.status.retry(msg);
  },
  "gen.edit"(run, msg) {
    this.hooks.edit?.(msg.path, msg.new_path);
    const result = run.edits.apply(msg, { intoBase: true });
    if (result.ok) run.turn.editApplied(msg);
    else run.turn.editRejected({ ...msg, reason: result.reason, snippet: insertedText(msg.ops), local: true });
  },
  "gen.edit_rejected"(run, msg) {
    run.turn.editRejected(msg);
    this.hooks.rejected?.(msg.path);
  },
  error(run, msg) {
    run.error = msg;
    run.turn.error(msg);
  },
  "gen.done"(run, msg) {
    this.finish(run, msg.reason, msg.stats);
  },
};

function insertedText(ops) {
  return (ops ?? []).map((op) => op.insert ?? "").filter(Boolean).join("\n…\n");
}
