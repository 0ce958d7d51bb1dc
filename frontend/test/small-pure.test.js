// Smaller pure helpers: the preview's message vocabulary, the Send button,
// the allowance text, languages, socket URLs, rejection text.
import { test } from "node:test";
import assert from "node:assert/strict";
import { validMessage } from "../src/preview/frame-messages.js";
import { sendButtonState } from "../src/ui/controls.js";
import { allowanceText } from "../src/status/allowance.js";
import { languageName, languageOfInfo } from "../src/editor/languages.js";
import { socketUrl } from "../src/net/socket.js";
import { describeRejection } from "../src/transcript/turn.js";
import { fixInstruction } from "../src/preview/console-panel.js";

test("the frame → app vocabulary: known shapes pass, anything else is dropped", () => {
  assert.equal(validMessage({ type: "ready" }), true);
  assert.equal(validMessage({ type: "rendered", version: 3, mode: "morph" }), true);
  assert.equal(validMessage({ type: "rendered", version: "3", mode: "morph" }), false);
  assert.equal(validMessage({ type: "console", level: "log", args: ["a", "b"], line: 2 }), true);
  assert.equal(validMessage({ type: "console", level: "trace", args: [] }), false);
  assert.equal(validMessage({ type: "console", level: "log", args: [{}] }), false);
  assert.equal(validMessage({ type: "error", kind: "rejection", message: "x" }), true);
  assert.equal(validMessage({ type: "error", kind: "oops", message: "x" }), false);
  assert.equal(validMessage({ type: "navigate", url: "https://evil" }), false);
  assert.equal(validMessage(["ready"]), false);
  assert.equal(validMessage(null), false);
});

test("Send becomes Steer while a generation runs (not for viewers)", () => {
  const idle = sendButtonState({ current: null, busy: false, readOnly: false }, true);
  assert.deepEqual([idle.label, idle.mode, idle.disabled], ["Send", "send", false]);
  const running = sendButtonState({ current: {}, busy: true, readOnly: false }, true);
  assert.deepEqual([running.label, running.mode, running.disabled], ["Steer", "steer", false]);
  const waiting = sendButtonState({ current: null, busy: true, readOnly: false }, true);
  assert.deepEqual([waiting.label, waiting.disabled], ["Send", true]);
  assert.equal(sendButtonState({ current: {}, busy: true, readOnly: true }, true).label, "Send");
  assert.equal(sendButtonState({ current: null, busy: false, readOnly: false }, false).disabled, true);
});

test("allowance text", () => {
  assert.equal(allowanceText({ generations: 1, tokens: 950 }), "1 generation · 950 tokens left");
  assert.equal(allowanceText({ generations: 3, tokens: 12_400 }), "3 generations · 12k tokens left");
  assert.equal(allowanceText({}), "");
});

test("languages by extension and fence info", () => {
  assert.equal(languageName("index.html"), "html");
  assert.equal(languageName("App.TSX"), "jsx");
  assert.equal(languageName("notes.txt"), null);
  assert.equal(languageOfInfo("html index.html"), "html");
  assert.equal(languageOfInfo("main.py"), "python");
  assert.equal(languageOfInfo("text"), null);
});

test("socket URL follows the page's scheme", () => {
  assert.equal(socketUrl("/ws/p/x/", { protocol: "https:", host: "a.example" }), "wss://a.example/ws/p/x/");
  assert.equal(socketUrl("/ws/p/x/", { protocol: "http:", host: "localhost:8000" }), "ws://localhost:8000/ws/p/x/");
});

test("a rejection's reason names its line once", () => {
  assert.equal(describeRejection({ reason: "no match.", line: 3, column: 5 }), "no match (line 3, column 5)");
  assert.equal(describeRejection({ reason: "syntax error at line 3, column 5", line: 3 }), "syntax error at line 3, column 5");
  assert.equal(describeRejection({}), "rejected");
});

test("Fix asks about the error, where it happened and that line", () => {
  const text = fixInstruction({ text: "TypeError: x is undefined", file: "app.js", line: 4, lineText: "x.y()" });
  assert.match(text, /^Fix this error in app\.js at line 4:\n\nTypeError: x is undefined/);
  assert.match(text, /That line is:\n```\nx\.y\(\)\n```/);
});

test("a finished edit is described in plain words, and no change says so", async () => {
  const { describeEdit } = await import("../src/transcript/turn.js");
  assert.equal(describeEdit({ path: "style.css", kind: "update" }), "✎ changed style.css");
  assert.match(describeEdit({ path: "main.py", kind: "unchanged" }), /^✓ main\.py: no change/);
  assert.equal(describeEdit({ path: "a.js", kind: "move", new_path: "b.js" }), "✎ moved a.js → b.js");
  for (const kind of ["update", "add", "delete", "move", "unchanged"]) {
    assert.doesNotMatch(describeEdit({ path: "x", kind, new_path: "y" }), /hunk/);
  }
});
