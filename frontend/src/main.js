// The playground page: reads the boot data the view rendered, builds the
// parts, and wires them together. Each part lives in its own module.

import "./app.css";
import { byTestId } from "./dom.js";
import { Socket, socketUrl } from "./socket.js";
import { ConnectionIndicator } from "./connection.js";
import { Workspace } from "./workspace.js";
import { Transcript } from "./transcript.js";
import { StatusLine } from "./status.js";
import { Preview } from "./preview.js";
import { ConsolePanel } from "./console-panel.js";
import { Session } from "./session.js";
import { installShortcuts, bindInstructionBox } from "./keyboard.js";

function start() {
  const boot = JSON.parse(document.getElementById("flint-boot").textContent);
  const ui = {
    instruction: byTestId("instruction"),
    send: byTestId("send"),
    stop: byTestId("stop"),
    previewFrame: byTestId("preview"),
    model: document.querySelector(".model-info"),
  };

  const preview = ui.previewFrame ? new Preview(ui.previewFrame, () => workspace.files()) : null;
  const workspace = new Workspace({
    editorEl: byTestId("editor"),
    tabsEl: document.querySelector(".tabs"),
    files: boot.files,
    onChange: () => preview?.update(),
  });
  preview?.update();
  new ConsolePanel(byTestId("console").querySelector(".console-list"));

  const status = new StatusLine(byTestId("status"));
  const indicator = new ConnectionIndicator(byTestId("connection"));
  let session;
  const transcript = new Transcript(byTestId("transcript"), {
    retry: (instruction) => session.send(instruction),
    askFix: (rejection) => session.askFix(rejection),
    applyAnyway: (turn, rejection) => session.applyAnyway(turn, rejection),
  });

  const updateButtons = () => {
    ui.send.disabled = session.busy || !socket.isOpen;
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
  session = new Session({
    socket,
    workspace,
    transcript,
    status,
    maxMessageBytes: boot.max_message_bytes,
    onBusyChange: updateButtons,
  });

  const send = () => {
    if (session.send(ui.instruction.value)) ui.instruction.value = "";
  };
  ui.send.addEventListener("click", send);
  ui.stop.addEventListener("click", () => session.stop());
  bindInstructionBox(ui.instruction, send);
  installShortcuts({ send, stop: () => session.stop(), isBusy: () => session.busy });

  updateButtons();
  socket.connect();
  // For debugging and browser tests: the live objects, read-only use.
  window.flint = { boot, workspace, session, socket };
}

start();
