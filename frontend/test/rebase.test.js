import { test } from "node:test";
import assert from "node:assert/strict";
import { ChangeSet, Text } from "@codemirror/state";
import { FileTracker, OVERLAP } from "../src/editor/rebase.js";

const doc = (s) => Text.of(s.split("\n"));

// The user's change as CodeMirror would record it, applied to `tracker`;
// → the document after it.
function userTypes(tracker, current, spec) {
  const changes = ChangeSet.of(spec, current.length);
  tracker.recordUser(changes);
  return changes.apply(current);
}

test("an edit with no concurrent typing applies as sent", () => {
  const base = doc("hello world");
  const t = new FileTracker(base);
  assert.equal(t.userEdited, false);
  const r = t.rebase([{ from: 6, to: 11, insert: "there" }]);
  assert.equal(r.ok, true);
  assert.equal(r.mapped.apply(base).toString(), "hello there");
});

test("an edit after the user's typing is shifted past it", () => {
  const base = doc("abc def");
  const t = new FileTracker(base);
  const now = userTypes(t, base, { from: 0, insert: ">> " }); // ">> abc def"
  assert.equal(t.userEdited, true);
  const r = t.rebase([{ from: 4, to: 7, insert: "XYZ" }]); // "def" in the server's view
  assert.equal(r.ok, true);
  assert.equal(r.mapped.apply(now).toString(), ">> abc XYZ");
});

test("an edit touching what the user changed is refused", () => {
  const base = doc("abc def");
  const t = new FileTracker(base);
  userTypes(t, base, { from: 5, to: 6, insert: "E" });
  const r = t.rebase([{ from: 4, to: 7, insert: "XYZ" }]);
  assert.deepEqual(r, { ok: false, reason: OVERLAP });
});

test("ops that do not fit the server's view are out of sync", () => {
  const t = new FileTracker(doc("short"));
  const r = t.rebase([{ from: 3, to: 99, insert: "x" }]);
  assert.equal(r.ok, false);
  assert.match(r.reason, /out of sync/);
});

test("commitAI advances the base; later edits are against base + AI edits", () => {
  const base = doc("one two three");
  const t = new FileTracker(base);
  let now = userTypes(t, base, { from: 13, insert: "!" }); // "one two three!"
  const first = t.rebase([{ from: 0, to: 3, insert: "ONE" }]);
  now = first.mapped.apply(now);
  t.commitAI(first.ai);
  assert.equal(t.base.toString(), "ONE two three");
  // The server's second edit is against "ONE two three", its own view.
  const second = t.rebase([{ from: 4, to: 7, insert: "TWO" }]);
  assert.equal(second.ok, true);
  assert.equal(second.mapped.apply(now).toString(), "ONE TWO three!");
});

test("typing right next to an edited range counts as touching it", () => {
  const base = doc("one two");
  const t = new FileTracker(base);
  userTypes(t, base, { from: 7, insert: "!" });
  assert.equal(t.rebase([{ from: 4, to: 7, insert: "TWO" }]).reason, OVERLAP);
});

test("commitAsUser books an edit the server never applied as the user's", () => {
  const base = doc("x = 1");
  const t = new FileTracker(base);
  const r = t.rebase([{ from: 4, to: 5, insert: "2" }]);
  t.commitAsUser(r.mapped);
  assert.equal(t.base.toString(), "x = 1", "the server's view is unchanged");
  assert.equal(t.userEdited, true);
  assert.equal(t.rebase([{ from: 4, to: 5, insert: "3" }]).reason, OVERLAP);
});
