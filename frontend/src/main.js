// The playground page: reads the boot data the view rendered, builds the
// parts, and wires them together. Each part lives in its own module.

import "./app.css";
import { byTestId } from "./ui/dom.js";
import { Socket, socketUrl } from "./net/socket.js";
import { ConnectionIndicator } from "./net/connection.js";
import { Workspace } from "./editor/workspace.js";
import { Transcript } from "./transcript/transcript.js";
import { StatusLine } from "./status/status-line.js";
import { Preview } from "./preview/preview.js";
import { ConsolePanel, fixInstruction } from "./preview/console-panel.js";
import { Drafts } from "./preview/draft.js";
import { PythonRunner } from "./python/python-runner.js";
import { Session } from "./session/session.js";
import { installShortcuts, bindInstructionBox } from "./ui/keyboard.js";
import { LiveSession } from "./session/resume.js";
import { LiveStatusLine } from "./session/queue-status.js";
import { updateSendButton } from "./session/steer.js";
import { installExtras } from "./extras.js";

function start() {
  const boot = JSON.parse(document.getElementById("flint-boot").textContent);
  const ui = {
    instruction: byTestId("instruction"),
    send: byTestId("send"),
    stop: byTestId("stop"),
    previewFrame: byTestId("preview"),
    model: document.querySelector(".model-info"),
  };

  let session;
  const consolePanel = new ConsolePanel(byTestId("console"), {
    onFix: (entry) => session.send(fixInstruction(entry)),
    placeholder: ui.previewFrame ? undefined : "Output of Run appears here.",
  });
  const files = () => workspace.files();
  const drafts = ui.previewFrame
    ? new Drafts(
        () => workspace.paths(),
        (path) => workspace.text(path),
      )
    : null;
  const preview = ui.previewFrame ? new Preview(ui.previewFrame, { getFiles: files, drafts, consolePanel }) : null;
  const workspace = new Workspace({
    editorEl: byTestId("editor"),
    tabsEl: document.querySelector(".tabs"),
    files: boot.files,
    onChange: () => preview?.update(),
  });
  preview?.update();
  const runPane = document.querySelector(".run-pane");
  const python = runPane ? new PythonRunner(runPane, { getFiles: files, consolePanel }) : null;

  const status = new LiveStatusLine(byTestId("status"));
  const indicator = new ConnectionIndicator(byTestId("connection"));
  const transcript = new Transcript(byTestId("transcript"), {
    retry: (instruction) => session.send(instruction),
    askFix: (rejection) => session.askFix(rejection),
    applyAnyway: (turn, rejection) => session.applyAnyway(turn, rejection),
  });

  const updateButtons = () => {
    updateSendButton(ui.send, session, socket);
    ui.stop.disabled = !session.busy;
  };
  const socket = new Socket(socketUrl(boot.ws_path), {
    onMessage: (msg) => {
      session.onMessage(msg);
      if (msg.type === "session.ready" && ui.model) ui.model.textContent = `${msg.model} · ${msg.backend}`;
    },
    onState: (state, s) => {
      indicator.show(state, s);
      if (session) updateButtons();
    },
    onClose: () => session.connectionLost(),
  });
  session = new LiveSession({
    socket,
    workspace,
    transcript,
    status,
    maxMessageBytes: boot.max_message_bytes,
    onBusyChange: updateButtons,
    hooks: drafts
      ? {
          delta: (text) => drafts.push(text) && preview.update(),
          edit: (path, newPath) => (drafts.drop(path) | (newPath ? drafts.drop(newPath) : false)) && preview.update(),
          rejected: (path) => drafts.drop(path) && preview.update(),
          done: () => drafts.clear() && preview.update(),
        }
      : {},
  });

  const send = () => {
    if (session.send(ui.instruction.value)) ui.instruction.value = "";
  };
  ui.send.addEventListener("click", send);
  ui.stop.addEventListener("click", () => session.stop());
  bindInstructionBox(ui.instruction, send);
  installShortcuts({ send, stop: () => session.stop(), isBusy: () => session.busy });

  const extras = installExtras({ boot, workspace, session, socket, status, updateButtons });
  updateButtons();
  socket.connect();
  // For debugging and browser tests: the live objects, read-only use.
  window.flint = { boot, workspace, session, socket, preview, python, console: consolePanel };
  Object.assign(window.flint, extras);
}

start();
