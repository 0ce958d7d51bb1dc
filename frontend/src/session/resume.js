// Reload safety and network blips: the session follows its generation across
// socket reconnects (gen.resume with the last seq seen) and across page
// reloads (the last seq, the answer so far and the edits already applied are
// kept per tab in sessionStorage). No event is handled twice: anything with
// seq ≤ the last seen is ignored, and an edit is applied again only if the
// reloaded files do not contain it (it was applied but never saved).
//
// Also: Steer (gen.steer while a generation runs), gen.queued, allowance, and
// the files.save replies (to the autosave).

import { ChangeSet, Text } from "@codemirror/state";
import { Session } from "./session.js";
import { FileTracker } from "../editor/rebase.js";
import { hashFiles } from "../persistence/autosave.js";
import { applySteer, logText, renderSteer, segmentDelta } from "./steer.js";

const PROTOCOL = 1;
const SAVE_ERRORS = new Set(["save.conflict", "files.invalid", "files.too_many", "files.bad_path", "files.too_large"]);

// The running generation of this tab, per playground, in sessionStorage.
export class RunStore {
  constructor(playground) {
    this.key = `flint:run:${playground}`;
  }

  load() {
    try {
      return JSON.parse(sessionStorage.getItem(this.key) ?? "null");
    } catch {
      return null;
    }
  }

  save(record) {
    try {
      sessionStorage.setItem(this.key, JSON.stringify(record));
    } catch {
      // Storage full or disabled: a reload then replays from the server's log.
    }
  }

  clear() {
    sessionStorage.removeItem(this.key);
  }
}

export class LiveSession extends Session {
  constructor(options) {
    super(options);
    this.extras = {}; // {autosave, allowance, onReady(msg)}: set by installExtras
    this.readOnly = false;
    this.store = null;
    this.persistTimer = null;
    window.addEventListener("pagehide", () => this.persist(true));
    window.addEventListener("beforeunload", () => this.persist(true));
  }

  // Wire the parts that live outside the session (called once, before connect).
  attach({ playground, autosave, allowance, onReady }) {
    this.store = new RunStore(playground);
    Object.assign(this.extras, { autosave, allowance, onReady });
  }

  // Send while a generation runs is a steer.
  send(instruction) {
    if (this.readOnly) {
      this.status.say("Read-only: fork this playground to edit it.");
      return false;
    }
    if (this.current && instruction.trim()) return this.steer(instruction.trim());
    if (!this.busy) this.extras.autosave?.flush();
    return super.send(instruction);
  }

  steer(instruction) {
    const run = this.current;
    if (!run?.gen || !this.socket.isOpen) {
      this.status.say("Not connected; the steer was not sent.");
      return false;
    }
    this.socket.send({ type: "gen.steer", v: PROTOCOL, instruction, gen: run.gen });
    run.steerSent = performance.now();
    run.steerTookEffect = false;
    run.turn.note(`↪ steering: ${instruction}…`, "note-steer-pending");
    run.steerNote = run.turn.eventsEl.lastElementChild;
    return true;
  }

  onMessage(msg) {
    const t = msg.type;
    if (t === "session.ready") {
      super.onMessage(msg);
      this.ready(msg);
      return;
    }
    if (t === "allowance") return this.extras.allowance?.show(msg);
    if (t === "files.saved") return this.extras.autosave?.onReply(msg);
    if (t === "error" && !msg.gen && (SAVE_ERRORS.has(msg.code) || (msg.code === "auth.forbidden" && !this.pending))) {
      return this.extras.autosave?.onReply(msg);
    }
    const run = msg.gen ? this.byGen.get(msg.gen) : null;
    if (!run) return super.onMessage(msg);
    if (typeof msg.seq === "number" && msg.seq <= run.seq) return; // seen
    if (typeof msg.seq === "number" && msg.seq <= (run.replayUntil ?? 0)) {
      // Replayed after a reload: only edits the reloaded files lack are applied.
      if (t === "gen.edit" && !run.applied.includes(msg.seq)) {
        run.seq = msg.seq - 1;
        super.onMessage(msg); // session.js applies it (and records it: wrapApply)
      }
      run.seq = msg.seq;
      return;
    }
    if (t === "gen.delta") {
      logText(run, msg.text);
      segmentDelta(run.turn, msg.text);
      if (run.steerSent != null && run.steerTookEffect) {
        this.status.steered(performance.now() - run.steerSent);
        run.steerSent = null;
      }
    } else if (t === "gen.steered") {
      run.seq = msg.seq;
      run.steerNote?.remove();
      run.steerTookEffect = true;
      applySteer(run, msg);
      this.schedulePersist();
      return;
    } else if (t === "gen.queued") {
      run.seq = msg.seq;
      this.status.queued(msg.position);
      return;
    } else if (t === "gen.loading") {
      run.seq = msg.seq;
      this.status.loadingModel();
      return;
    } else if (t === "error" && msg.code === "gen.not_running") {
      // A steer that arrived after the generation ended.
      run.steerNote?.remove();
      run.steerSent = null;
      this.status.say("The generation had already finished; send the correction as a new instruction.");
      return;
    } else if (t === "error" && msg.code === "gen.unknown") {
      super.onMessage({ ...msg, seq: undefined });
      this.finish(run, "error", {}, msg);
      this.store?.clear();
      return;
    }
    super.onMessage(msg);
    if (t === "gen.done") this.done(run);
    else this.schedulePersist();
  }

  started(msg) {
    const run = this.pending;
    super.started(msg);
    if (!run || this.current !== run) return;
    run.applied = [];
    run.answerLog = [];
    run.answerText = "";
    wrapApply(run);
    this.schedulePersist();
    this.onBusyChange(true); // Send → Steer
  }

  // gen.done: the generation's edits are saved as the model's revision.
  done(run) {
    this.status.detach?.(false);
    this.store?.clear();
    run.finished = true;
    if (this.readOnly) return;
    const autosave = this.extras.autosave;
    if (run.applied?.length) autosave?.flush({ author: "model", gen: run.gen, force: true });
    else autosave?.flush();
  }

  // The socket dropped. The server keeps the generation going for a while, so
  // keep the turn open and resume it after the reconnect.
  connectionLost() {
    this.extras.autosave?.socketClosed();
    if (!this.current && !this.pending) return super.connectionLost();
    if (this.current) this.current.detached = true;
    if (this.pending) this.pending.detached = true;
    this.status.detach?.(true);
    this.onBusyChange(this.busy);
  }

  ready(msg) {
    this.readOnly = msg.role === "viewer";
    this.extras.allowance?.show(msg.allowance ?? {});
    const recovered = this.extras.autosave?.ready(msg);
    this.extras.onReady?.(msg);
    this.onBusyChange(this.busy);
    // After a reload the unsaved copy is back in the editors before resuming.
    Promise.resolve(recovered).then(() => this.follow(msg));
  }

  follow(msg) {
    // A network blip: follow the same generation from the last event seen.
    if (this.current) return this.resume(this.current, this.current.seq);
    if (this.pending) {
      const run = this.pending;
      this.pending = null;
      if (msg.running) return this.adopt(run, msg.running, 0);
      const error = { code: "connection.lost", message: "The connection dropped before the generation started; send it again.", retryable: true };
      run.turn.error(error);
      this.finish(run, "error", {}, error);
      return;
    }
    // A reload (or another tab's generation): pick it up.
    // (A generation that ended during the reload is followed to its end too,
    // unless the record is old: a tab restored much later must not replay it.)
    const stored = this.store?.load();
    const fresh = stored && Date.now() - (stored.at ?? 0) < 60_000;
    if (stored && (stored.gen === msg.running || (!msg.running && fresh))) return this.restore(stored);
    this.store?.clear();
    if (msg.running) this.adopt(null, msg.running, 0);
  }

  resume(run, after) {
    run.detached = false;
    this.status.detach?.(false);
    this.socket.send({ type: "gen.resume", v: PROTOCOL, gen: run.gen, after });
  }

  // Follow generation `gen` with a new (or pending) turn from seq `after`.
  adopt(run, gen, after) {
    if (!run) {
      const turn = this.transcript.addTurn("(a generation already running in this playground)");
      run = { turn, edits: this.workspace.track(), seq: 0, instruction: "" };
      this.status.begin(performance.now());
    }
    Object.assign(run, { gen, seq: after, applied: [], answerLog: [], answerText: "" });
    run.edits.gen = gen;
    run.turn.gen = gen;
    run.turn.started();
    wrapApply(run);
    this.byGen.set(gen, run);
    this.current = run;
    this.onBusyChange(true);
    this.resume(run, after);
  }

  // After a reload: redraw the answer so far, rebuild what the server thinks
  // each file is, and resume from the last event this tab handled (earlier
  // if some applied edits are not in the reloaded files).
  restore(stored) {
    const turn = this.transcript.addTurn(stored.instruction || "(generation in progress)");
    const run = { turn, seq: 0, gen: stored.gen, instruction: stored.instruction, edits: this.workspace.track() };
    run.edits.gen = stored.gen;
    turn.gen = stored.gen;
    turn.started();
    for (const item of stored.answerLog ?? []) {
      if ("text" in item) {
        turn.delta(item.text);
        segmentDelta(turn, item.text);
      } else {
        // The struck-through tail is not part of the kept text: draw it, then cut it.
        if (item.steer.tail) {
          turn.delta(item.steer.tail);
          segmentDelta(turn, item.steer.tail);
        }
        renderSteer(turn, item.steer.instruction, item.steer.tail);
      }
    }
    run.answerLog = stored.answerLog ?? [];
    run.answerText = stored.answerText ?? "";
    const snap = stored.snap;
    const matches = snap && snap.hash === hashFiles(this.workspace.files());
    run.applied = matches ? [...snap.applied] : [];
    if (matches) restoreTrackers(run.edits, snap.trackers);
    const unsaved = (stored.applied ?? []).filter((s) => !run.applied.includes(s));
    const after = Math.max(0, Math.min(stored.lastSeq ?? 0, ...unsaved.map((s) => s - 1)));
    run.seq = after;
    run.replayUntil = stored.lastSeq ?? 0;
    wrapApply(run);
    this.byGen.set(run.gen, run);
    this.current = run;
    this.status.begin(performance.now());
    this.onBusyChange(true);
    if (unsaved.length) turn.note(`re-applying ${unsaved.length} edit(s) that were not saved before the reload`, "note-edit");
    this.socket.send({ type: "gen.resume", v: PROTOCOL, gen: run.gen, after });
  }

  schedulePersist() {
    if (this.persistTimer) return;
    this.persistTimer = setTimeout(() => this.persist(false), 300);
  }

  // Keep the running generation's bookkeeping for a reload. `leaving`: the
  // page is going away; the files as they are now are what the last save
  // attempt sends, so record which edits they contain.
  persist(leaving) {
    clearTimeout(this.persistTimer);
    this.persistTimer = null;
    const run = this.current;
    if (!this.store || !run?.gen || run.finished) return;
    const record = {
      gen: run.gen,
      at: Date.now(),
      instruction: run.instruction ?? "",
      lastSeq: run.seq,
      applied: run.applied ?? [],
      answerLog: run.answerLog ?? [],
      answerText: run.answerText ?? "",
      snap: this.store.load()?.snap ?? null,
    };
    if (leaving) {
      record.snap = {
        hash: hashFiles(this.workspace.files()),
        applied: [...(run.applied ?? [])],
        trackers: saveTrackers(run.edits),
      };
    }
    this.store.save(record);
  }
}

// Record each edit this page applied (by seq), whatever applies it.
function wrapApply(run) {
  if (run.edits.wrapped) return;
  const apply = run.edits.apply.bind(run.edits);
  run.edits.apply = (edit, opts = {}) => {
    const result = apply(edit, opts);
    if (result.ok && opts.intoBase !== false && typeof edit.seq === "number" && !run.applied.includes(edit.seq)) {
      run.applied.push(edit.seq);
    }
    return result;
  };
  run.edits.wrapped = true;
}

function saveTrackers(edits) {
  const out = {};
  for (const [path, tracker] of edits?.files ?? []) {
    out[path] = { base: tracker.base.toString(), user: tracker.user.toJSON() };
  }
  return out;
}

function restoreTrackers(edits, saved) {
  for (const [path, { base, user }] of Object.entries(saved ?? {})) {
    if (!edits.workspace.has(path)) continue;
    try {
      const tracker = new FileTracker(Text.of(base.split("\n")));
      tracker.user = ChangeSet.fromJSON(user);
      if (tracker.user.length !== tracker.base.length) continue;
      if (tracker.user.newLength !== edits.workspace.state(path).doc.length) continue;
      edits.files.set(path, tracker);
    } catch {
      // Keep the fresh tracker (the reloaded file as the base).
    }
  }
}
