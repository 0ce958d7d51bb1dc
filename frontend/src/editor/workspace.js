// The playground's files: one EditorState per file (so each keeps its own undo
// history and selection), one EditorView showing the active one, the tab bar,
// and the model's edits arriving into any of them.

import { ChangeSet, EditorState, StateEffect, Text } from "@codemirror/state";
import { EditorView } from "@codemirror/view";
import { editorExtensions } from "./editor-setup.js";
import { aiTransactionSpec, isAiTransaction } from "./ai-edit.js";
import { FileTracker, OVERLAP } from "./rebase.js";
import { TabBar } from "./tabs.js";

// Generations whose edits can still be applied (their "Apply anyway" buttons).
const MAX_TRACKED = 4;

export class Workspace {
  constructor({ editorEl, tabsEl, files }) {
    this.listeners = []; // (path | null) after any document or file-set change
    this.openListeners = []; // (path) after another file is shown
    this.extra = []; // extensions added to every file's state (extend)
    this.trackers = []; // GenerationEdits, oldest first
    this.states = new Map();
    this.scroll = new Map();
    this.listener = EditorView.updateListener.of((update) => this.viewUpdated(update));
    for (const [path, text] of Object.entries(files)) this.states.set(path, this.createState(path, text));
    const paths = this.paths();
    this.active = paths.includes("index.html") ? "index.html" : paths[0] ?? null;
    this.view = new EditorView({
      parent: editorEl,
      state: this.active ? this.states.get(this.active) : this.createState("untitled.txt", ""),
    });
    this.tabs = new TabBar(tabsEl, { onSelect: (path, opts) => this.open(path, opts), panelId: editorEl.id || null });
    this.renderTabs();
  }

  createState(path, doc) {
    return EditorState.create({ doc, extensions: [editorExtensions(path, this.listener), this.extra] });
  }

  // Call `fn(path | null)` after every change of a document or of the file set.
  listen(fn) {
    this.listeners.push(fn);
  }

  // Call `fn(path)` whenever another file is shown in the editor.
  onOpen(fn) {
    this.openListeners.push(fn);
  }

  changed(path) {
    for (const fn of this.listeners) fn(path);
  }

  // Add an extension to every file's state: now, and for files added later.
  extend(extension) {
    this.extra.push(extension);
    const effects = StateEffect.appendConfig.of(extension);
    for (const path of this.paths()) {
      if (path === this.active) this.view.dispatch({ effects });
      else this.states.set(path, this.states.get(path).update({ effects }).state);
    }
    if (!this.active) this.view.dispatch({ effects });
  }

  paths() {
    return [...this.states.keys()];
  }

  has(path) {
    return this.states.has(path);
  }

  state(path) {
    return path === this.active ? this.view.state : this.states.get(path);
  }

  text(path) {
    return this.state(path).doc.toString();
  }

  files() {
    return Object.fromEntries(this.paths().map((p) => [p, this.text(p)]));
  }

  // The user's selection in the active file, or null when it is empty.
  selection() {
    const { from, to } = this.view.state.selection.main;
    return from === to ? null : { path: this.active, start: from, end: to };
  }

  open(path, { focusEditor = true } = {}) {
    if (path === this.active || !this.has(path)) return;
    if (this.active) {
      this.states.set(this.active, this.view.state);
      this.scroll.set(this.active, this.view.scrollDOM.scrollTop);
    }
    this.active = path;
    this.view.setState(this.states.get(path));
    this.view.scrollDOM.scrollTop = this.scroll.get(path) ?? 0;
    this.renderTabs();
    if (focusEditor) this.view.focus();
    for (const fn of this.openListeners) fn(path);
  }

  renderTabs() {
    this.tabs.render(this.paths(), this.active);
  }

  // Start tracking the user's edits for a generation about to be requested.
  track() {
    const edits = new GenerationEdits(this);
    this.trackers.push(edits);
    if (this.trackers.length > MAX_TRACKED) this.trackers.shift();
    return edits;
  }

  isTracked(edits) {
    return this.trackers.includes(edits);
  }

  viewUpdated(update) {
    if (!update.docChanged) return;
    for (const tr of update.transactions) {
      // Model edits are booked by whoever applied them (applyChanges).
      if (tr.docChanged && !isAiTransaction(tr)) this.recordUser(this.active, tr.changes, null);
    }
    this.changed(this.active);
  }

  recordUser(path, changes, except) {
    for (const t of this.trackers) if (t !== except) t.files.get(path)?.recordUser(changes);
  }

  // Dispatch a transaction spec to the file `path`, shown or not.
  dispatchTo(path, spec) {
    if (path === this.active) this.view.dispatch(spec); // → viewUpdated → changed
    else {
      const tr = this.states.get(path).update(spec);
      this.states.set(path, tr.state);
      if (tr.docChanged) {
        this.recordUser(path, tr.changes, null);
        this.changed(path);
      }
    }
  }

  // Apply one model edit (already mapped onto the current document).
  applyChanges(path, changes, meta, source) {
    const spec = aiTransactionSpec(changes, meta);
    if (path === this.active) this.view.dispatch(spec); // → viewUpdated → changed
    else {
      this.states.set(path, this.states.get(path).update(spec).state);
      this.changed(path);
    }
    // Other generations' servers never saw this edit: for them it is the user's.
    this.recordUser(path, changes, source);
    this.tabs.flash(path);
  }

  addFile(path, text) {
    this.states.set(path, this.createState(path, text));
    if (!this.active) this.open(path);
    this.renderTabs();
    this.tabs.flash(path);
    this.changed(path);
  }

  removeFile(path) {
    this.states.delete(path);
    for (const t of this.trackers) t.files.delete(path);
    if (path === this.active) {
      this.active = null;
      const next = this.paths()[0];
      if (next) this.open(next);
      else this.view.setState(this.createState("untitled.txt", ""));
    }
    this.renderTabs();
    this.changed(null);
  }

  renameFile(from, to) {
    // A new state: the language follows the extension. Undo history is lost.
    const state = this.state(from);
    const wasActive = from === this.active;
    this.states.delete(from);
    this.states.set(to, this.createState(to, state.doc));
    for (const t of this.trackers) {
      const f = t.files.get(from);
      t.files.delete(from);
      if (f) t.files.set(to, f);
    }
    if (wasActive) {
      this.active = null;
      this.open(to);
    }
    this.renderTabs();
    this.changed(null);
  }
}

// One generation's view of the files: what the server believes each file is,
// and what the user changed since. Created when gen.start is sent.
export class GenerationEdits {
  constructor(workspace) {
    this.workspace = workspace;
    this.gen = null; // set by gen.started
    this.files = new Map(workspace.paths().map((p) => [p, new FileTracker(workspace.state(p).doc)]));
  }

  // edit: {path, hunk, kind, ops, new_path}. intoBase: the server applied it too
  // (a gen.edit) — false for "Apply anyway" on an edit the server rejected.
  // → {ok: true} or {ok: false, reason}
  apply(edit, { intoBase = true } = {}) {
    if (!this.workspace.isTracked(this)) {
      return { ok: false, reason: "too many turns ago; ask the model again" };
    }
    const kind = edit.kind ?? "update";
    if (kind === "add") return this.add(edit, intoBase);
    if (kind === "delete") return this.remove(edit);
    if (kind === "move") return this.move(edit, intoBase);
    return this.update(edit, intoBase);
  }

  update({ path, ops, hunk }, intoBase) {
    const tracker = this.files.get(path);
    if (!this.workspace.has(path) || !tracker) return { ok: false, reason: `no file named ${path}` };
    const result = tracker.rebase(ops ?? []);
    if (!result.ok) return result;
    this.workspace.applyChanges(path, result.mapped, { gen: this.gen, hunk }, this);
    if (intoBase) tracker.commitAI(result.ai);
    else tracker.commitAsUser(result.mapped);
    return { ok: true };
  }

  add(edit, intoBase) {
    const { path, ops } = edit;
    // The server "adds" over an existing file as a minimal diff against it.
    if (this.workspace.has(path)) return this.update(edit, intoBase);
    let doc;
    try {
      doc = ChangeSet.of(ops ?? [], 0).apply(Text.empty);
    } catch {
      return { ok: false, reason: "the edit does not fit the file (out of sync)" };
    }
    this.workspace.addFile(path, doc);
    if (intoBase) this.files.set(path, new FileTracker(doc));
    return { ok: true };
  }

  remove({ path }) {
    if (!this.workspace.has(path)) return { ok: false, reason: `no file named ${path}` };
    if (this.files.get(path)?.userEdited) return { ok: false, reason: OVERLAP };
    this.workspace.removeFile(path);
    return { ok: true };
  }

  move(edit, intoBase) {
    const { path, new_path: to } = edit;
    if (!to) return { ok: false, reason: "the move names no new path" };
    if (!this.workspace.has(path)) return { ok: false, reason: `no file named ${path}` };
    if (this.workspace.has(to)) return { ok: false, reason: `${to} already exists` };
    if (edit.ops?.length) {
      const result = this.update(edit, intoBase);
      if (!result.ok) return result;
    }
    this.workspace.renameFile(path, to);
    return { ok: true };
  }
}
