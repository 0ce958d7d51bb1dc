// "Apply anyway" on an edit from an answer that finished before this page
// loaded: its ops are against the file as the server saw it then (`base`, kept
// with the generation's record), so they are rebased onto the file as it is now
// through the changes between the two (@codemirror/merge's diff) — the same
// square as a live edit (rebase.js): refused where the file changed since.

import { ChangeSet, Text } from "@codemirror/state";
import { diff } from "@codemirror/merge";
import { FileTracker } from "./rebase.js";

// Pure: the ChangeSet from text `a` to text `b`.
export function changesBetween(a, b) {
  const changes = diff(a, b).map((c) => ({ from: c.fromA, to: c.toA, insert: b.slice(c.fromB, c.toB) }));
  return ChangeSet.of(changes, a.length);
}

// Pure: → {ok: true, mapped} (against `current`) or {ok: false, reason}.
export function rebaseOnto(base, current, ops) {
  const tracker = new FileTracker(Text.of(base.split("\n")));
  tracker.recordUser(changesBetween(base, current));
  return tracker.rebase(ops ?? []);
}

// → {ok} or {ok: false, reason}
export function applyLater(workspace, rejection) {
  const { path, ops, base, hunk } = rejection;
  if (base == null || !ops?.length) return { ok: false, reason: "this answer is from before the reload; ask the model again" };
  if (!workspace.has(path)) return { ok: false, reason: `no file named ${path}` };
  const result = rebaseOnto(base, workspace.text(path), ops);
  if (!result.ok) return result;
  workspace.applyChanges(path, result.mapped, { gen: rejection.gen ?? null, hunk }, null);
  return { ok: true };
}
