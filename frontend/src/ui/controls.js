// The composer's controls: Send (which becomes Steer while a generation
// runs), Stop, the instruction box and the page-wide shortcuts.

import { bindInstructionBox, installShortcuts } from "./keyboard.js";

// Pure: what the Send button shows, from the session's state.
export function sendButtonState({ current, busy, readOnly }, isOpen) {
  const steering = !!current && !readOnly;
  return {
    label: steering ? "Steer" : "Send",
    mode: steering ? "steer" : "send",
    title: steering ? "Steer the running generation with a correction (Enter)" : "Send (Enter, or Ctrl/⌘+Enter anywhere)",
    disabled: !isOpen || readOnly || (busy && !steering),
  };
}

// → {update()}: call it when the socket's state changes (the session's busy
// hook calls it for everything else).
export function installControls({ session, socket }, { instruction, send: sendButton, stop: stopButton }) {
  const update = () => {
    const state = sendButtonState(session, socket.isOpen);
    sendButton.textContent = state.label;
    sendButton.dataset.mode = state.mode;
    sendButton.title = state.title;
    sendButton.disabled = state.disabled;
    stopButton.disabled = !session.busy;
  };
  const send = () => {
    if (session.send(instruction.value)) instruction.value = "";
  };
  const stop = () => session.stop();
  sendButton.addEventListener("click", send);
  stopButton.addEventListener("click", stop);
  bindInstructionBox(instruction, send);
  installShortcuts({ send, stop, isBusy: () => session.busy });
  session.hook("busy", update);
  update();
  return { update };
}
