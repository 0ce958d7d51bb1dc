// One turn in the transcript: the instruction, the answer streaming in, what
// happened to the model's edits, and the outcome.

import { h } from "../ui/dom.js";
import { schedule, flushNow } from "../ui/frame.js";
import { AnswerRenderer } from "./answer.js";
import { OVERLAP } from "../editor/rebase.js";

const OUTCOME = {
  stop: "done",
  length: "cut off at the length limit",
  stopped: "stopped",
  error: "failed",
};

export class Turn {
  // actions: {retry(instruction), askFix(rejection), applyAnyway(turn, rejection) → {ok, reason}}
  constructor(instruction, { actions, onRendered }) {
    this.instruction = instruction;
    this.actions = actions;
    this.onRendered = onRendered;
    this.answerEl = h("div", { class: "answer", dataset: { testid: "answer" } });
    this.eventsEl = h("div", { class: "turn-events" });
    this.outcomeEl = h("div", { class: "turn-outcome", dataset: { testid: "outcome" } });
    this.retryEl = null;
    this.el = h(
      "article",
      { class: "turn", dataset: { state: "waiting" } },
      h("div", { class: "turn-instruction" }, instruction),
      this.answerEl,
      this.eventsEl,
      this.outcomeEl,
    );
    this.answer = new AnswerRenderer(this.answerEl);
    this.steerSegment = null; // after a steer: the element the continuation streams into
    this.segmentText = ""; // the text of the current segment (to redraw a cut)
    this.frame = () => {
      this.answer.flush();
      this.onRendered();
    };
  }

  set gen(id) {
    this.el.dataset.gen = id;
  }

  started() {
    this.el.dataset.state = "streaming";
  }

  delta(text) {
    this.clearRetry();
    this.segmentText += text;
    this.answer.push(text);
    schedule(this.frame);
  }

  // A steer took effect (gen.steered, or redrawn after a reload): cut the
  // answer, strike the dropped `tail` (the end of what is on screen), mark
  // the steer, and stream the continuation into a new segment.
  steered(instruction, tail) {
    flushNow(this.frame);
    if (tail) {
      // The cut lies inside what is on screen: draw the current segment again,
      // up to the cut, then the dropped tail struck through.
      const segment = this.steerSegment ?? this.answerEl;
      const text = this.segmentText.slice(0, Math.max(0, this.segmentText.length - tail.length));
      segment.replaceChildren();
      const again = new AnswerRenderer(segment);
      again.push(text);
      again.finish();
      segment.append(h("div", { class: "steer-discarded", dataset: { testid: "steer-discarded" }, title: "Dropped by the steer" }, tail));
    } else {
      this.answer.finish();
    }
    this.answerEl.append(h("div", { class: "steer-marker", dataset: { testid: "steer-marker" } }, `↪ steered: ${instruction}`));
    const next = h("div", { class: "steer-segment" });
    this.answerEl.append(next);
    this.steerSegment = next;
    this.segmentText = "";
    this.answer = new AnswerRenderer(next);
    this.onRendered();
    schedule(this.frame);
  }

  retry({ attempt, wait, error }) {
    const secs = Math.max(1, Math.ceil(wait));
    const why = error?.code === "upstream.loading" ? "the model is loading" : error?.message ?? error?.code;
    const text = `retrying in ${secs}s… (attempt ${attempt}${why ? `: ${why}` : ""})`;
    if (!this.retryEl) {
      this.retryEl = h("div", { class: "note note-retry", dataset: { testid: "retry" } });
      this.eventsEl.append(this.retryEl);
    }
    this.retryEl.textContent = text;
    this.onRendered();
  }

  clearRetry() {
    this.retryEl?.remove();
    this.retryEl = null;
  }

  editApplied(edit) {
    this.note(describeEdit(edit), edit.kind === "unchanged" ? "note-edit note-unchanged" : "note-edit");
  }

  // The answer's review (editor/review.js) can be opened again from the turn.
  reviewable(reopen) {
    if (this.reviewButton) return;
    this.reviewButton = h("button", { type: "button", class: "btn btn-small", dataset: { testid: "review-again" } }, "Review changes");
    this.reviewButton.addEventListener("click", reopen);
    this.eventsEl.append(h("div", { class: "turn-review" }, this.reviewButton));
    this.onRendered();
  }

  note(text, cls = "") {
    this.eventsEl.append(h("div", { class: `note ${cls}` }, text));
    this.onRendered();
  }

  // rejection: {path, hunk, reason, snippet, line, column, lines, ops, code, local}
  // (playground/edits/model.py EditRejected; `reason` is a full sentence that
  // already names the line and column of a syntax problem).
  editRejected(rejection) {
    const status = h("span", { class: "rejected-status" });
    const fix = h("button", { type: "button", class: "btn btn-small", dataset: { testid: "ask-fix" } }, "Ask model to fix");
    fix.addEventListener("click", () => this.actions.askFix(rejection));
    const canApply = rejection.ops?.length && rejection.reason !== OVERLAP;
    const apply = canApply
      ? h("button", { type: "button", class: "btn btn-small", dataset: { testid: "apply-anyway" } }, "Apply anyway")
      : null;
    apply?.addEventListener("click", () => {
      const result = this.actions.applyAnyway(this, rejection);
      apply.disabled = result.ok;
      status.textContent = result.ok ? "applied" : `not applied: ${result.reason}`;
    });
    if (apply && rejection.appliedAnyway) {
      apply.disabled = true;
      status.textContent = "applied";
    }
    this.eventsEl.append(
      h(
        "div",
        { class: "rejected", dataset: { testid: "edit-rejected" } },
        h(
          "div",
          { class: "rejected-head" },
          h("strong", {}, rejection.path ?? "edit"),
          ` — not applied: ${describeRejection(rejection)}`,
        ),
        rejection.snippet ? h("pre", { class: "rejected-snippet" }, rejection.snippet) : null,
        h("div", { class: "rejected-actions" }, fix, apply, copyButton(rejection, status), status),
      ),
    );
    this.onRendered();
  }

  // The canonical error: {code, message, retryable, retry_after?}
  error(err) {
    this.clearRetry();
    const after = err.retry_after ? ` in ${Math.ceil(err.retry_after)}s` : "";
    const box = h(
      "div",
      { class: "error", dataset: { testid: "error", code: err.code } },
      // What went wrong and what to do first; the code last, for a bug report.
      h("span", { class: "error-message" }, err.message ?? "Something went wrong."),
      " ",
      h("code", { class: "error-code" }, err.code),
    );
    if (err.retryable) {
      const retry = h("button", { type: "button", class: "btn btn-small", dataset: { testid: "retry-turn" } }, "Retry");
      retry.addEventListener("click", () => this.actions.retry(this.instruction));
      box.append(h("div", { class: "error-hint" }, `This may work if you retry${after}. `, retry));
    }
    this.eventsEl.append(box);
    this.onRendered();
  }

  // gen.done, or the end of a turn that never started (error, lost socket).
  done(reason, partial = reason !== "stop") {
    flushNow(this.frame);
    this.answer.finish();
    this.clearRetry();
    this.el.dataset.state = reason;
    this.el.classList.toggle("partial", partial);
    if (reason !== "stop") {
      this.outcomeEl.textContent = OUTCOME[reason] ?? reason;
      this.outcomeEl.dataset.reason = reason;
    }
    this.onRendered();
  }
}

export function describeRejection({ reason, line, column }) {
  const text = String(reason ?? "rejected").replace(/\.\s*$/, "");
  if (line == null || /\bline \d/.test(text)) return text;
  return `${text} (line ${line}${column != null ? `, column ${column}` : ""})`;
}

// One line a learner reads for a finished edit (no "hunk": that is engine talk).
export function describeEdit({ path, kind, new_path: newPath }) {
  switch (kind) {
    case "unchanged":
      return `✓ ${path}: no change (the answer's code is what the file already has)`;
    case "add":
      return `✎ created ${path}`;
    case "delete":
      return `✎ deleted ${path}`;
    case "move":
      return `✎ moved ${path} → ${newPath}`;
    default:
      return `✎ changed ${path}`;
  }
}

// Copy the refused edit's code, so nothing the model wrote is lost.
function copyButton(rejection, status) {
  const text = rejection.code || rejection.snippet;
  if (!text) return null;
  const button = h("button", { type: "button", class: "btn btn-small", dataset: { testid: "copy-code" } }, "Copy");
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(text);
      status.textContent = "copied";
    } catch {
      status.textContent = "copy failed: select the code above and copy it by hand";
    }
  });
  return button;
}
