// Reload safety and network blips: the session follows its generation across
// socket reconnects (gen.resume with the last seq seen) and across page
// reloads (the last seq, the answer so far and the edits already applied are
// kept per tab in sessionStorage, see run-store.js). No event is handled
// twice: anything with seq ≤ the last seen is dropped by the session, and an
// event replayed after a reload is handled again only if it is an edit the
// reloaded files do not contain (it was applied but never saved).

import { PROTOCOL, newRun } from "./session.js";
import { RunStore, restoreTrackers, saveTrackers } from "./run-store.js";
import { hashFiles } from "../persistence/files-hash.js";

// Run messages after which the bookkeeping is written (soon) for a reload.
const PERSIST_AFTER = ["gen.started", "gen.delta", "gen.retry", "gen.edit", "gen.edit_rejected", "gen.steered"];

// recovered(): a promise settled once a reloaded page has its unsaved files
// back in the editors (the autosave's), so resuming replays onto them.
export function installResume({ session, socket, workspace, transcript, status }, { playground, recovered = () => undefined }) {
  const store = new RunStore(playground);
  let persistTimer = null;

  const resume = (run, after) => {
    run.detached = false;
    status.detach(false);
    socket.send({ type: "gen.resume", v: PROTOCOL, gen: run.gen, after });
  };

  // Follow generation `gen` with a new (or the pending) run from seq `after`.
  // `ask`: send gen.resume (false: the server sends the events by itself, a live link).
  const adopt = (run, gen, after, instruction = null, ask = true) => {
    if (!run) {
      const turn = transcript.addTurn(instruction || "(a generation already running in this playground)");
      run = newRun({ turn, edits: workspace.track(), instruction: "" });
      status.begin(performance.now());
    }
    Object.assign(run, { seq: after, applied: [], answerLog: [], answerText: "" });
    session.bind(run, gen);
    session.emit("busy");
    if (ask) resume(run, after);
  };

  // After a reload: redraw the answer so far, rebuild what the server thinks
  // each file is, and resume from the last event this tab handled (earlier
  // if some applied edits are not in the reloaded files).
  const restore = (stored) => {
    const turn = transcript.addTurn(stored.instruction || "(generation in progress)");
    const run = newRun({ turn, instruction: stored.instruction, edits: workspace.track() });
    redraw(turn, stored.answerLog ?? []);
    run.answerLog = stored.answerLog ?? [];
    run.answerText = stored.answerText ?? "";
    const snap = stored.snap;
    const matches = snap && snap.hash === hashFiles(workspace.files());
    run.applied = matches ? [...snap.applied] : [];
    if (matches) restoreTrackers(run.edits, snap.trackers);
    const unsaved = (stored.applied ?? []).filter((s) => !run.applied.includes(s));
    const after = Math.max(0, Math.min(stored.lastSeq ?? 0, ...unsaved.map((s) => s - 1)));
    run.seq = after;
    run.replayUntil = stored.lastSeq ?? 0;
    session.bind(run, stored.gen);
    status.begin(performance.now());
    session.emit("busy");
    if (unsaved.length) turn.note(`re-applying ${unsaved.length} edit(s) that were not saved before the reload`, "note-edit");
    socket.send({ type: "gen.resume", v: PROTOCOL, gen: run.gen, after });
  };

  const pickUp = (msg) => {
    // A network blip: follow the same generation from the last event seen.
    if (session.current) return resume(session.current, session.current.seq);
    if (session.pending) {
      const run = session.pending;
      session.pending = null;
      if (msg.running) return adopt(run, msg.running, 0);
      session.fail(run, { code: "connection.lost", message: "The connection dropped before the generation started; send it again.", retryable: true });
      return;
    }
    // A reload (or another tab's generation): pick it up.
    // (A generation that ended during the reload is followed to its end too,
    // unless the record is old: a tab restored much later must not replay it.)
    const stored = store.load();
    const fresh = stored && Date.now() - (stored.at ?? 0) < 60_000;
    if (stored && (stored.gen === msg.running || (!msg.running && fresh))) return restore(stored);
    store.clear();
    if (msg.running) adopt(null, msg.running, 0);
  };

  // Keep the running generation's bookkeeping for a reload. `leaving`: the
  // page is going away; the files as they are now are what the last save
  // attempt sends, so record which edits they contain.
  const persist = (leaving) => {
    clearTimeout(persistTimer);
    persistTimer = null;
    const run = session.current;
    if (!run?.gen || run.finished) return;
    const record = {
      gen: run.gen,
      at: Date.now(),
      instruction: run.instruction ?? "",
      lastSeq: run.seq,
      applied: run.applied ?? [],
      answerLog: run.answerLog ?? [],
      answerText: run.answerText ?? "",
      snap: store.load()?.snap ?? null,
    };
    if (leaving) {
      record.snap = { hash: hashFiles(workspace.files()), applied: [...(run.applied ?? [])], trackers: saveTrackers(run.edits) };
    }
    store.save(record);
  };
  const persistSoon = () => {
    if (!persistTimer) persistTimer = setTimeout(() => persist(false), 300);
  };
  window.addEventListener("pagehide", () => persist(true));
  window.addEventListener("beforeunload", () => persist(true));

  // Replayed after a reload (seq ≤ the last this tab handled): only edits the
  // reloaded files lack are applied again; everything else was drawn already.
  session.hook("replay", (msg, run) => {
    if (typeof msg.seq !== "number" || msg.seq > (run.replayUntil ?? 0)) return true;
    return msg.type === "gen.edit" && !run.applied.includes(msg.seq);
  });

  // The socket dropped. The server keeps the generation going for a while, so
  // keep the turn open and resume it after the reconnect.
  session.hook("lost", () => {
    if (!session.current && !session.pending) return false;
    if (session.current) session.current.detached = true;
    if (session.pending) session.pending.detached = true;
    status.detach(true);
    return true;
  });

  // After a reload the unsaved copy is back in the editors before resuming.
  session.on("session.ready", function followAgain(msg) {
    Promise.resolve(recovered()).then(() => pickUp(msg));
  });
  for (const type of PERSIST_AFTER) session.on(type, persistSoon);
  session.on("error", function persistAfterError(msg, run) {
    if (run) persistSoon();
  });
  session.on("gen.done", function forget(msg, run) {
    status.detach(false);
    store.clear();
    run.finished = true;
  });
  // The generation's log expired (a resume came too late): it is over.
  session.on("error:gen.unknown", function expired(msg, run) {
    if (!run) return false;
    run.error = msg;
    run.turn.error(msg);
    session.finish(run, "error", {}, msg);
    store.clear();
  });
  // A live viewer's socket follows each generation the presenter starts, from its
  // start, by itself: the page only opens the turn its events go to.
  const follow = (gen, instruction) => adopt(null, gen, 0, instruction, false);
  return { store, persist, follow };
}

// Draw a stored answer log into a fresh turn (text, steers and their tails).
function redraw(turn, log) {
  for (const item of log) {
    if ("text" in item) turn.delta(item.text);
    else {
      // The struck-through tail is not part of the kept text: draw it, then cut it.
      if (item.steer.tail) turn.delta(item.steer.tail);
      turn.steered(item.steer.instruction, item.steer.tail);
    }
  }
}
