// The playground page: reads the boot data the view rendered, builds the
// shared parts (socket, session, workspace, transcript, status line, preview,
// console), then installs the features. A feature is a function that wires
// itself to the shared parts (handlers in the session's dispatch table, session
// hooks, DOM): see frontend/README.md.

import "./app.css";
import { byTestId } from "./ui/dom.js";
import { Socket, socketUrl } from "./net/socket.js";
import { ConnectionIndicator } from "./net/connection.js";
import { Workspace } from "./editor/workspace.js";
import { Transcript } from "./transcript/transcript.js";
import { StatusLine } from "./status/status-line.js";
import { installModelPicker } from "./status/model-picker.js";
import { installProblems } from "./status/problems.js";
import { AppliedMarks, installPastTurns } from "./transcript/past-turns.js";
import { RunStore } from "./session/run-store.js";
import { Preview } from "./preview/preview.js";
import { ConsolePanel, fixInstruction } from "./preview/console-panel.js";
import { Drafts, installDrafts } from "./preview/draft.js";
import { PythonRunner } from "./python/python-runner.js";
import { Session } from "./session/session.js";
import { installSteer } from "./session/steer.js";
import { installResume } from "./session/resume.js";
import { installAllowance, installQueueStatus } from "./session/queue-status.js";
import { installAutosave } from "./persistence/autosave.js";
import { installHistory } from "./persistence/history.js";
import { installShare } from "./persistence/share.js";
import { installReadOnly } from "./persistence/read-only.js";
import { installControls } from "./ui/controls.js";
import { installFileActions } from "./editor/file-actions.js";
import { installPaneSwitcher } from "./ui/pane-switcher.js";
import { installAnnouncer } from "./status/announcer.js";
import { installReview } from "./editor/review.js";
import { installPresent } from "./live/present.js";
import { installWatch } from "./live/watch.js";

function start() {
  const boot = JSON.parse(document.getElementById("flint-boot").textContent);
  const parts = createParts(boot);
  const features = installFeatures(parts, boot);
  parts.socket.connect();
  // For debugging and browser tests: the live objects, read-only use.
  const { workspace, session, socket, preview, python, consolePanel } = parts;
  window.flint = { boot, workspace, session, socket, preview, python, console: consolePanel, ...features };
}

// The shared parts. Callbacks that need a part built later (the session)
// reach it through `parts` when they run.
function createParts(boot) {
  const parts = { marks: new AppliedMarks(boot.playground) };
  const previewFrame = byTestId("preview");
  parts.consolePanel = new ConsolePanel(byTestId("console"), {
    onFix: (entry) => parts.session.send(fixInstruction(entry)),
    placeholder: previewFrame ? undefined : "Output of Run appears here.",
  });
  parts.workspace = new Workspace({ editorEl: byTestId("editor"), tabsEl: document.querySelector(".tabs"), files: boot.files });
  Object.assign(parts, createOutput(parts, previewFrame));
  parts.status = new StatusLine(byTestId("status"));
  parts.transcript = new Transcript(byTestId("transcript"), {
    retry: (instruction) => parts.session.send(instruction),
    askFix: (rejection) => parts.session.askFix(rejection),
    applyAnyway: (turn, rejection) => {
      const result = parts.session.applyAnyway(turn, rejection);
      if (result.ok) parts.marks.add(rejection.gen ?? turn.el.dataset.gen, rejection.seq);
      return result;
    },
  });
  parts.socket = createSocket(parts, boot);
  parts.session = new Session({ ...parts, maxMessageBytes: boot.max_message_bytes });
  return parts;
}

// Where the files show: the live preview (web playgrounds, with drafts of
// what the model is writing) or the Python runner.
function createOutput({ workspace, consolePanel }, previewFrame) {
  const getFiles = () => workspace.files();
  const runPane = document.querySelector(".run-pane");
  const python = runPane ? new PythonRunner(runPane, { getFiles, consolePanel }) : null;
  if (!previewFrame) return { drafts: null, preview: null, python };
  const drafts = new Drafts(
    () => workspace.paths(),
    (path) => workspace.text(path),
  );
  const preview = new Preview(previewFrame, { getFiles, drafts, consolePanel });
  workspace.listen(() => preview.update());
  preview.update();
  return { drafts, preview, python };
}

function createSocket(parts, boot) {
  const indicator = new ConnectionIndicator(byTestId("connection"));
  return new Socket(socketUrl(boot.ws_path), {
    onMessage: (msg) => parts.session.receive(msg),
    onState: (state, socket) => {
      indicator.show(state, socket);
      parts.controls?.update();
      parts.problems?.socketState(state, socket);
    },
    onClose: () => parts.session.connectionLost(),
  });
}

// The features. Handlers of one message run in the order installed; the one
// order that matters: autosave before resume (resuming after a reload waits
// for the autosave's recovery of the unsaved files, set on session.ready).
function installFeatures(parts, boot) {
  const { playground } = boot;
  const host = document.querySelector(".app") ?? document.body;
  parts.problems = installProblems(parts, { problems: boot.problems ?? [], host });
  // Finished answers first; a generation a reload resumes is drawn by installResume.
  installPastTurns(parts, { records: boot.transcript ?? [], skip: resumedGen(playground), marks: parts.marks });
  parts.controls = installControls(parts, { instruction: byTestId("instruction"), send: byTestId("send"), stop: byTestId("stop") });
  if (parts.drafts) installDrafts(parts);
  installQueueStatus(parts);
  const allowance = installAllowance(parts);
  installSteer(parts);
  const autosave = installAutosave(parts, { playground, panelHost: host });
  const history = installHistory({ playground, host, autosave });
  const share = installShare({ playground, host, autosave });
  // A live link's page watches the presenter; the owner's page can present.
  const present = boot.live ? null : installPresent(parts, { playground, host, presenting: boot.presenting });
  installReadOnly(parts, { app: host, buttons: [history.button, share?.button, present?.button], live: !!boot.live });
  const resume = installResume(parts, { playground, recovered: () => autosave.recovered });
  const watch = boot.live ? installWatch(parts, { live: boot.live, host, follow: resume.follow }) : null;
  const models = installModelPicker(parts, { host, slot: document.querySelector(".model-info") });
  const bar = document.querySelector(".file-bar");
  if (bar) installFileActions(parts, { bar, host, kind: boot.template });
  const review = bar ? installReview(parts, { bar }) : null;
  const panes = host.querySelector(".workarea") ? installPaneSwitcher(parts, { app: host, kind: boot.template }) : null;
  installAnnouncer(parts, byTestId("announcer"));
  return { autosave, history, share, present, watch, allowance, review, panes, models, problems: parts.problems };
}

// The generation a reload will draw itself (installResume restores a fresh stored run).
function resumedGen(playground) {
  const stored = new RunStore(playground).load();
  return stored && Date.now() - (stored.at ?? 0) < 60_000 ? stored.gen : null;
}

start();
