// Put files that came from elsewhere (the server's revision, a recovered
// backup) into the editors as edits: one undoable change per changed file (the
// smallest replacement), new files added, files not in `files` removed.

import { isolateHistory } from "@codemirror/commands";
import { Transaction } from "@codemirror/state";

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
    let from = 0;
    const max = Math.min(old.length, text.length);
    while (from < max && old.charCodeAt(from) === text.charCodeAt(from)) from++;
    let endOld = old.length;
    let endNew = text.length;
    while (endOld > from && endNew > from && old.charCodeAt(endOld - 1) === text.charCodeAt(endNew - 1)) {
      endOld--;
      endNew--;
    }
    const spec = {
      changes: { from, to: endOld, insert: text.slice(from, endNew) },
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

