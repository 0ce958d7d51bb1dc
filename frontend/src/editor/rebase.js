// Rebasing the model's edits onto what the user typed meanwhile.
//
// The server computes each edit's ops against its view of a file: the text
// sent with gen.start plus the model's earlier edits of that generation
// (`base`). The user may type while the model answers, so the page's document
// is `base` followed by the user's changes (`user`, one composed ChangeSet from
// `base` to the document). An incoming op set `ai` (from `base`) is applied as
// `ai.map(user)`, and `user` becomes `user.map(ai, true)`: the usual
// operational-transform square, which CodeMirror's ChangeSet guarantees to
// converge. Edits that touch anything the user changed are refused: the model
// never writes over the user's text.

import { ChangeSet, Text } from "@codemirror/state";

export const OVERLAP = "overlaps your edits";

export class FileTracker {
  constructor(doc) {
    this.base = doc;
    this.user = ChangeSet.empty(doc.length);
  }

  get userEdited() {
    return !this.user.empty;
  }

  recordUser(changes) {
    this.user = this.user.compose(changes);
  }

  // → {ok: true, ai, mapped} with `mapped` against the current document, or
  //   {ok: false, reason}.
  rebase(ops) {
    let ai;
    try {
      ai = ChangeSet.of(ops, this.base.length);
    } catch {
      return { ok: false, reason: "the edit does not fit the file (out of sync)" };
    }
    let overlaps = false;
    ai.iterChangedRanges((from, to) => {
      if (!overlaps && this.user.touchesRange(from, to)) overlaps = true;
    });
    if (overlaps) return { ok: false, reason: OVERLAP };
    return { ok: true, ai, mapped: ai.map(this.user) };
  }

  // The server applied `ai` too: advance its view of the file.
  commitAI(ai) {
    this.user = this.user.map(ai, true);
    this.base = ai.apply(this.base);
  }

  // An edit the server did not apply (e.g. "Apply anyway" on a rejected one)
  // is, from the server's point of view, the user's doing.
  commitAsUser(mapped) {
    this.recordUser(mapped);
  }
}

export function trackerForNewFile() {
  return new FileTracker(Text.empty);
}
