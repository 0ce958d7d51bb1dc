// What a reloaded tab needs to pick its generation up again, kept per tab
// and playground in sessionStorage: the gen id, the last seq handled, the
// answer so far, the edits applied, and (when the page went away) a snapshot
// of what the server believes each file is.

import { ChangeSet, Text } from "@codemirror/state";
import { FileTracker } from "../editor/rebase.js";

export class RunStore {
  constructor(playground, storage = globalThis.sessionStorage) {
    this.key = `flint:run:${playground}`;
    this.storage = storage;
  }

  load() {
    try {
      return JSON.parse(this.storage.getItem(this.key) ?? "null");
    } catch {
      return null;
    }
  }

  save(record) {
    try {
      this.storage.setItem(this.key, JSON.stringify(record));
    } catch {
      // Storage full or disabled: a reload then replays from the server's log.
    }
  }

  clear() {
    this.storage.removeItem(this.key);
  }
}

// A generation's per-file trackers as JSON (base text, the user's ChangeSet).
export function saveTrackers(edits) {
  const out = {};
  for (const [path, tracker] of edits?.files ?? []) {
    out[path] = { base: tracker.base.toString(), user: tracker.user.toJSON() };
  }
  return out;
}

// Put saved trackers back where they still fit the reloaded files; a file
// whose saved tracker does not fit keeps its fresh one (the file as the base).
export function restoreTrackers(edits, saved) {
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
