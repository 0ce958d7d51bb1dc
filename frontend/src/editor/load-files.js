// Put files that came from elsewhere (the server's revision, a recovered
// backup) into the editors as edits: one undoable change per changed file (the
// smallest replacement), new files added, files not in `files` removed.

import { isolateHistory } from "@codemirror/commands";
import { Transaction } from "@codemirror/state";
import { smallestChange } from "./smallest-change.js";

export function loadFiles(workspace, files) {
  for (const path of workspace.paths()) if (!(path in files)) workspace.removeFile(path);
  for (const [path, text] of Object.entries(files)) {
    if (!workspace.has(path)) {
      workspace.addFile(path, text);
      continue;
    }
    const state = workspace.state(path);
    const old = state.doc.toString();
    if (old === text) continue;
    const { from, to, insert } = smallestChange(old, text);
    const spec = {
      changes: { from, to, insert },
      annotations: [Transaction.userEvent.of("input.load"), isolateHistory.of("full")],
    };
    if (path === workspace.active) workspace.view.dispatch(spec);
    else {
      const tr = workspace.states.get(path).update(spec);
      workspace.states.set(path, tr.state);
      workspace.recordUser(path, tr.changes, null);
      workspace.changed(path);
    }
  }
}

