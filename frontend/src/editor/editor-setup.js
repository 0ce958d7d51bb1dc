// The editor's extensions, assembled once per file state. A lean version of
// codemirror's basicSetup: what a playground needs, nothing it does not.

import { EditorState } from "@codemirror/state";
import {
  EditorView, keymap, lineNumbers, highlightActiveLine, highlightActiveLineGutter,
  highlightSpecialChars, drawSelection, dropCursor,
} from "@codemirror/view";
import { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
import {
  bracketMatching, indentOnInput, syntaxHighlighting, indentUnit,
} from "@codemirror/language";
import { classHighlighter } from "@lezer/highlight";
import {
  autocompletion, closeBrackets, closeBracketsKeymap, completionKeymap,
} from "@codemirror/autocomplete";
import { highlightSelectionMatches, search, searchKeymap } from "@codemirror/search";
import { editorLanguage } from "./languages.js";

// Shared by every file's state, so it is built once (extension identity matters
// to CodeMirror: the same instance means the same configuration).
const common = [
  lineNumbers(),
  highlightActiveLineGutter(),
  highlightSpecialChars(),
  history(),
  drawSelection(),
  dropCursor(),
  EditorState.allowMultipleSelections.of(true),
  indentOnInput(),
  indentUnit.of("  "),
  // Token classes (tok-keyword…) styled in app.css: one palette for the editor
  // and the transcript's code blocks.
  syntaxHighlighting(classHighlighter),
  bracketMatching(),
  closeBrackets(),
  autocompletion(),
  highlightActiveLine(),
  highlightSelectionMatches(),
  search({ top: true }),
  keymap.of([
    ...closeBracketsKeymap,
    ...defaultKeymap,
    ...searchKeymap,
    ...historyKeymap,
    ...completionKeymap,
    indentWithTab,
  ]),
  // Dark unless the system asks for light (app.css follows the same query).
  EditorView.theme({}, { dark: !globalThis.matchMedia?.("(prefers-color-scheme: light)").matches }),
];

export function editorExtensions(path, extra) {
  // The editable area is a textbox: name it after the file it shows.
  const label = EditorView.contentAttributes.of({ "aria-label": `Code of ${path}` });
  return [common, editorLanguage(path), label, extra];
}
