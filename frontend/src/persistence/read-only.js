// Read-only mode for viewers (anyone but the owner, e.g. a share link): the
// editors do not take input, History and Share are off, the session sends
// nothing (Session.send refuses while session.readOnly), and a banner offers
// to fork.

import { EditorState } from "@codemirror/state";
import { EditorView } from "@codemirror/view";
import { h } from "../ui/dom.js";

// `live`: a live link's page, whose banner (live/watch.js) says it instead.
export function installReadOnly({ session, workspace }, { app, buttons = [], live = false }) {
  let viewer = false;
  session.on("session.ready", function readOnlyMode(msg) {
    session.readOnly = msg.role === "viewer";
    if (!session.readOnly || viewer) return;
    viewer = true;
    workspace.extend([EditorState.readOnly.of(true), EditorView.editable.of(false)]);
    for (const button of buttons) if (button) button.disabled = true;
    if (!live) document.querySelector(".topbar")?.after(banner(new URLSearchParams(window.location.search).get("share")));
    app.classList.add("read-only");
    session.emit("busy");
  });
}

function banner(shareId) {
  return h(
    "div",
    { class: "readonly-banner", dataset: { testid: "readonly-banner" }, role: "note" },
    shareId
      ? ["Read-only — ", h("a", { href: `/s/${encodeURIComponent(shareId)}/` }, "Fork to edit")]
      : "Read-only — this playground belongs to someone else.",
  );
}
