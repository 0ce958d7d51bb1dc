// Review of a model's answer: once it is done, the editor shows what it
// changed in each file as a unified diff (@codemirror/merge): deleted lines
// inline, inserted ones marked, Accept / Reject on each change. A bar above
// the editor lists the changed files and offers "Accept all" and "Undo this
// answer", which puts every file back as it was before the answer in one step
// (one undoable change per file; added files removed, deleted ones back).
//
// "Before" is the files when the generation started (gen.started). Reject of
// a change and Undo are edits like the user's: the autosave saves them.

import { Compartment } from "@codemirror/state";
import { getChunks, goToNextChunk, unifiedMergeView } from "@codemirror/merge";
import { EditorView } from "@codemirror/view";
import { h } from "../ui/dom.js";
import { changesBetween } from "./apply-later.js";

// Pure: the paths an answer changed: {changed, added, removed}, each sorted.
export function answerChanges(before, after) {
  const paths = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  const out = { changed: [], added: [], removed: [] };
  for (const path of paths) {
    if (!(path in before)) out.added.push(path);
    else if (!(path in after)) out.removed.push(path);
    else if (before[path] !== after[path]) out.changed.push(path);
  }
  return out;
}

// → {open(run), close(), current}
export function installReview({ session, workspace, transcript }, { bar }) {
  const compartment = new Compartment();
  workspace.extend(compartment.of([]));
  let current = null; // {gen, before, files: Set, turn}
  const el = h("div", { class: "review-bar", dataset: { testid: "review" }, role: "region", "aria-label": "Review of the model's changes", hidden: true });
  bar.after(el);

  const setReview = (path, original) => {
    const ext =
      original == null
        ? []
        : unifiedMergeView({ original, mergeControls: chunkButton, gutter: true, highlightChanges: true, syntaxHighlightDeletions: true });
    workspace.dispatchTo(path, { effects: compartment.reconfigure(ext) });
  };

  const remaining = (path) => (workspace.has(path) ? getChunks(workspace.state(path))?.chunks.length ?? 0 : 0);

  const render = () => {
    if (!current) {
      el.hidden = true;
      el.replaceChildren();
      return;
    }
    const { changed, added, removed } = current.changes;
    const files = [...changed, ...added].map((path) => {
      const n = remaining(path);
      const b = h(
        "button",
        { type: "button", class: "btn btn-small review-file", dataset: { testid: "review-file", path, remaining: n }, "aria-pressed": String(path === workspace.active) },
        `${path}${added.includes(path) ? " (new)" : ""} · ${n ? `${n} change${n === 1 ? "" : "s"}` : "reviewed"}`,
      );
      b.addEventListener("click", () => {
        workspace.open(path);
        const view = workspace.view;
        goToNextChunk(view);
        view.focus();
      });
      return b;
    });
    const gone = removed.map((path) => h("span", { class: "review-removed", dataset: { testid: "review-removed" } }, `${path} (deleted)`));
    const accept = h("button", { type: "button", class: "btn btn-small btn-primary", dataset: { testid: "review-accept-all" } }, "Accept all");
    const undo = h("button", { type: "button", class: "btn btn-small", dataset: { testid: "review-undo" }, title: "Put every file back as it was before this answer" }, "Undo this answer");
    accept.addEventListener("click", () => close("accepted"));
    undo.addEventListener("click", () => undoAnswer());
    el.replaceChildren(h("strong", {}, "Review the model's changes:"), ...files, ...gone, h("span", { class: "spacer" }), accept, undo);
    el.hidden = false;
  };

  function open(run) {
    if (!run?.before) return;
    close();
    const after = workspace.files();
    const changes = answerChanges(run.before, after);
    if (!changes.changed.length && !changes.added.length && !changes.removed.length) return;
    current = { gen: run.gen, before: run.before, changes, turn: run.turn };
    for (const path of changes.changed) setReview(path, run.before[path]);
    for (const path of changes.added) setReview(path, "");
    run.turn?.reviewable?.(() => open(run));
    render();
  }

  function close(how = null) {
    if (!current) return;
    const { changes, turn } = current;
    current = null;
    for (const path of [...changes.changed, ...changes.added]) if (workspace.has(path)) setReview(path, null);
    if (how === "undone") turn?.note("↶ answer undone: the files are as they were before it", "note-undo");
    render();
  }

  function undoAnswer() {
    if (!current) return;
    const { before, changes } = current;
    close("undone");
    for (const path of changes.added) if (workspace.has(path)) workspace.removeFile(path);
    for (const path of changes.removed) if (!workspace.has(path)) workspace.addFile(path, before[path]);
    for (const path of changes.changed) {
      if (!workspace.has(path)) continue;
      const now = workspace.text(path);
      if (now === before[path]) continue;
      workspace.dispatchTo(path, { changes: changesBetween(now, before[path]), userEvent: "undo.answer", scrollIntoView: true });
    }
  }

  // Accept/Reject of one change updates the counts.
  workspace.listen(() => current && queueMicrotask(render));
  workspace.extend(EditorView.updateListener.of((update) => {
    if (current && update.transactions.some((tr) => tr.effects.length)) queueMicrotask(render);
  }));
  session.on("gen.started", function reviewSnapshot(msg) {
    close(); // a new answer: the last one's review is over (what is left counts as accepted)
    const run = session.current;
    if (run && run.gen === msg.gen) run.before = workspace.files();
  });
  session.on("gen.done", function reviewAnswer(msg, run) {
    if (session.readOnly) return;
    open(run);
  });
  return {
    open,
    close,
    undo: undoAnswer,
    get current() {
      return current;
    },
  };
}

// Accessible Accept / Reject buttons for a change (the default ones react to mousedown only).
function chunkButton(type, action) {
  const label = type === "accept" ? "Accept" : "Reject";
  const button = h("button", { type: "button", class: `btn btn-small cm-merge-${type}`, name: type, dataset: { testid: `chunk-${type}` }, title: type === "accept" ? "Keep this change" : "Undo this change" }, label);
  button.addEventListener("click", action);
  button.addEventListener("mousedown", (e) => e.preventDefault()); // keep the editor's selection
  return button;
}
