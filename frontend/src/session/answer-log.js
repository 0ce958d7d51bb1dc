// The answer of a run as segments, so a reloaded page can draw it again and a
// steer can cut it: run.answerLog = [{text}, {steer: {instruction, tail}}, {text}, …]
// and run.answerText = the kept answer so far. Pure: plain objects only.

export function appendText(run, text) {
  const log = (run.answerLog ??= []);
  const last = log[log.length - 1];
  if (last && "text" in last) last.text += text;
  else log.push({ text });
  run.answerText = (run.answerText ?? "") + text;
}

// gen.steered: keep `kept` UTF-16 units of the answer (clamped to what
// arrived); with `discarded` > 0 the rest is the dropped tail. Trims the log
// to the kept text, records the steer, and → the tail ("" when none).
export function cutAnswer(run, { instruction, kept, discarded }) {
  const full = run.answerText ?? "";
  const cut = Math.max(0, Math.min(kept ?? full.length, full.length));
  const tail = discarded > 0 ? full.slice(cut) : "";
  run.answerText = full.slice(0, cut);
  let keep = cut;
  const log = [];
  for (const item of run.answerLog ?? []) {
    if ("text" in item) {
      if (keep <= 0) break;
      log.push({ text: item.text.slice(0, keep) });
      keep -= item.text.length;
    } else log.push(item);
  }
  log.push({ steer: { instruction, tail } });
  run.answerLog = log;
  return tail;
}
