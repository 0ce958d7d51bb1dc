// What a screen reader hears about answers: once, when an answer ends ("The
// answer is done: 2 changes applied, 1 not applied."), not every token (the
// transcript is not a live region). The announcer is one polite status element.

// Pure: the sentence for a finished run.
export function answerSummary(reason, { applied = 0, rejected = 0, error = null } = {}) {
  const head = { stop: "The answer is done", length: "The answer was cut off at the length limit", stopped: "The answer was stopped", abandoned: "The answer was stopped", error: "The answer failed" }[reason] ?? "The answer ended";
  const parts = [];
  if (applied) parts.push(`${applied} change${applied === 1 ? "" : "s"} applied`);
  if (rejected) parts.push(`${rejected} not applied`);
  let text = parts.length ? `${head}: ${parts.join(", ")}.` : `${head}.`;
  if (error?.message) text += ` ${error.message}`;
  return text;
}

export function installAnnouncer({ session }, el) {
  if (!el) return null;
  const counts = new Map(); // run → {edits, rejected} (edits the server sent; the page may refuse some)
  const count = (run, key) => {
    const c = counts.get(run) ?? { edits: 0, rejected: 0 };
    c[key]++;
    counts.set(run, c);
  };
  const say = (text) => {
    // A new text node each time, so the same sentence twice is announced twice.
    el.textContent = "";
    setTimeout(() => (el.textContent = text), 50);
  };
  session
    .on("gen.edit", function countEdits(msg, run) {
      count(run, "edits");
    })
    .on("gen.edit_rejected", function countRejected(msg, run) {
      count(run, "rejected");
    })
    .on("gen.done", function announceDone(msg, run) {
      const { edits = 0, rejected = 0 } = counts.get(run) ?? {};
      const applied = run.applied?.length ?? 0;
      say(answerSummary(msg.reason, { applied, rejected: rejected + Math.max(0, edits - applied), error: run.error }));
      counts.delete(run);
    })
    // An error that belongs to no answer (a refused request, a notice).
    .on("error", function announceError(msg, run) {
      if (!run && msg.code !== "gen.not_running") say(msg.message ?? msg.code);
    });
  return { say };
}
