// Steer mid-generation: while a generation runs, Send becomes Steer (same
// button, data-testid "send") and sends gen.steer. In the transcript the cut
// is marked "↪ steered: …"; a discarded tail (a half-received edit) stays
// visible, struck through; the continuation streams in after the marker.

import { h } from "../ui/dom.js";
import { flushNow, schedule } from "../ui/frame.js";
import { AnswerRenderer } from "../transcript/answer.js";

// Send / Steer / disabled, from the session's state.
export function updateSendButton(button, session, socket) {
  const steering = !!session.current && !session.readOnly;
  button.textContent = steering ? "Steer" : "Send";
  button.dataset.mode = steering ? "steer" : "send";
  button.title = steering
    ? "Steer the running generation with a correction (Enter)"
    : "Send (Enter, or Ctrl/⌘+Enter anywhere)";
  button.disabled = !socket.isOpen || session.readOnly || (session.busy && !steering);
}

// The answer of a run as segments, so a reloaded page can draw it again:
// run.answerLog = [{text}, {steer: {instruction, tail}}, {text}, …]
export function logText(run, text) {
  const log = (run.answerLog ??= []);
  const last = log[log.length - 1];
  if (last && "text" in last) last.text += text;
  else log.push({ text });
  run.answerText = (run.answerText ?? "") + text;
}

// gen.steered: cut the rendered answer at `kept` (UTF-16 units of the whole
// answer so far), strike what was discarded, mark the steer, and go on.
export function applySteer(run, { instruction, kept, discarded }) {
  const turn = run.turn;
  const full = run.answerText ?? "";
  const cut = Math.max(0, Math.min(kept ?? full.length, full.length));
  const tail = discarded > 0 ? full.slice(cut) : "";
  run.answerText = full.slice(0, cut);
  // Trim the log to the kept text, then record the steer.
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
  renderSteer(turn, instruction, tail);
}

// Draw a steer marker into a turn (live, or when a reloaded page redraws).
export function renderSteer(turn, instruction, tail) {
  flushNow(turn.frame);
  if (tail) {
    // The cut lies inside what is on screen: draw the current segment again,
    // up to the cut, then the dropped tail struck through.
    const segment = turn.steerSegment ?? turn.answerEl;
    const text = (turn.segmentText ?? "").slice(0, Math.max(0, (turn.segmentText ?? "").length - tail.length));
    segment.replaceChildren();
    const again = new AnswerRenderer(segment);
    again.push(text);
    again.finish();
    segment.append(h("div", { class: "steer-discarded", dataset: { testid: "steer-discarded" }, title: "Dropped by the steer" }, tail));
  } else {
    turn.answer.finish();
  }
  turn.answerEl.append(
    h("div", { class: "steer-marker", dataset: { testid: "steer-marker" } }, `↪ steered: ${instruction}`),
  );
  const next = h("div", { class: "steer-segment" });
  turn.answerEl.append(next);
  turn.steerSegment = next;
  turn.segmentText = "";
  turn.answer = new AnswerRenderer(next);
  turn.onRendered();
  schedule(turn.frame);
}

// Track the text of the turn's current segment (for redrawing a cut).
export function segmentDelta(turn, text) {
  turn.segmentText = (turn.segmentText ?? "") + text;
}
