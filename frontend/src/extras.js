// The persistence side of the page, wired in one place: autosave and its
// indicator, the history timeline, share / export / import, the allowance,
// and read-only mode for viewers (anyone but the owner).

import "./extras.css";
import { h } from "./ui/dom.js";
import { Autosave, makeReadOnly } from "./persistence/autosave.js";
import { HistoryPanel } from "./persistence/history.js";
import { SharePanel } from "./persistence/share.js";
import { AllowanceView } from "./session/queue-status.js";

export function installExtras({ boot, workspace, session, socket, status, updateButtons }) {
  const app = document.querySelector(".app") ?? document.body;
  const shareButton = document.querySelector('[data-testid="share"]');
  const saveState = h("span", { class: "save-state", dataset: { testid: "save-state" }, role: "status", "aria-live": "polite" });
  const historyButton = h("button", { type: "button", class: "btn btn-small", dataset: { testid: "history" }, title: "Saved revisions", "aria-expanded": "false" }, "History");
  if (shareButton) shareButton.before(saveState, historyButton);
  else document.querySelector(".topbar")?.append(saveState, historyButton);

  const autosave = new Autosave({
    socket,
    workspace,
    indicator: saveState,
    panelHost: app,
    playground: boot.playground,
    hold: () => session.busy,
    run: () => session.current,
  });
  const allowance = new AllowanceView(status.el);
  const history = new HistoryPanel({ button: historyButton, host: app, playground: boot.playground, autosave });
  const share = shareButton ? new SharePanel({ button: shareButton, host: app, playground: boot.playground, autosave }) : null;

  let viewer = false;
  const onReady = (msg) => {
    if (msg.role !== "viewer" || viewer) return;
    viewer = true;
    makeReadOnly(workspace);
    historyButton.disabled = true;
    if (shareButton) shareButton.disabled = true;
    const shareId = new URLSearchParams(window.location.search).get("share");
    const banner = h(
      "div",
      { class: "readonly-banner", dataset: { testid: "readonly-banner" }, role: "note" },
      shareId
        ? ["Read-only — ", h("a", { href: `/s/${encodeURIComponent(shareId)}/` }, "Fork to edit")]
        : "Read-only — this playground belongs to someone else.",
    );
    document.querySelector(".topbar")?.after(banner);
    app.classList.add("read-only");
    updateButtons();
  };
  session.attach({ playground: boot.playground, autosave, allowance, onReady });
  return { autosave, history, share, allowance };
}
