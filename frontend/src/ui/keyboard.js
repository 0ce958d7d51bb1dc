// Page-wide shortcuts: Ctrl/Cmd+Enter sends from anywhere (also from inside the
// editor, where it would otherwise insert a blank line), Escape stops a running
// generation unless something else (search panel, completion) used it.

export function installShortcuts({ send, stop, isBusy }) {
  // Capture phase: before CodeMirror's keymap sees Mod-Enter.
  window.addEventListener(
    "keydown",
    (e) => {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey) && !e.isComposing) {
        e.preventDefault();
        e.stopPropagation();
        send();
      }
    },
    true,
  );
  // Bubble phase: editor widgets handle their own Escape first.
  window.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && !e.defaultPrevented && isBusy()) {
      e.preventDefault();
      stop();
    }
  });
}

// Enter sends, Shift+Enter inserts a newline (not while composing with an IME).
export function bindInstructionBox(textarea, send) {
  textarea.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.ctrlKey && !e.metaKey && !e.altKey && !e.isComposing) {
      e.preventDefault();
      send();
    }
  });
}
