// The model picker's pure parts: what a row shows and offers, and the progress text.
import { test } from "node:test";
import assert from "node:assert/strict";
import { formatMB, modelRowView, progressText } from "../src/status/model-picker.js";

const local = (state, extra = {}) => ({ id: "local:tiny", source: "local", name: "tiny", size: 98_362_432, state, ...extra });

test("an endpoint model can be used; the one in use offers nothing", () => {
  const m = { id: "endpoint:gpt-x", source: "endpoint", name: "gpt-x" };
  assert.deepEqual(modelRowView(m, { current: "endpoint:other" }).actions.map((a) => a.kind), ["use"]);
  const inUse = modelRowView(m, { current: "endpoint:gpt-x" });
  assert.equal(inUse.current, true);
  assert.deepEqual(inUse.actions, []);
  assert.equal(inUse.stateText, "on the endpoint");
});

test("a local model not on disk offers its download with its size", () => {
  const view = modelRowView(local("missing"), { current: "endpoint:x" });
  assert.equal(view.stateText, "download 98 MB");
  assert.deepEqual(view.actions.map((a) => a.label), ["Download 98 MB and use", "Download only"]);
  assert.equal(modelRowView(local("on_disk"), { current: "endpoint:x" }).stateText, "on disk");
});

test("a download in flight shows its progress and offers nothing else", () => {
  const download = { state: "progress", stage: "hub", done: 49_181_216, total: 98_362_432, elapsed: 12.4 };
  const view = modelRowView(local("missing"), { current: "endpoint:x", download });
  assert.equal(view.state, "downloading");
  assert.deepEqual(view.actions, []);
  assert.equal(view.progress.text, "from the hub · 50% · 49 / 98 MB · 12 s");
  assert.equal(progressText({ stage: "verify", done: 1, total: 4 }), "checking SHA-256 · 25% · 0.0 / 0.0 MB");
});

test("a viewer is offered nothing", () => {
  assert.deepEqual(modelRowView(local("missing"), { current: "endpoint:x", readOnly: true }).actions, []);
  assert.equal(formatMB(491_400_064), "491 MB");
});
