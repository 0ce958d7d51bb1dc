// Autosave ("Nothing is lost"): every change is saved over the socket
// (files.save) ~800 ms after the last keystroke, with base_version = the last
// version the server acknowledged. A save that lost a race (save.conflict) is
// never retried blindly: the conflict panel shows both versions and the user
// picks "Keep mine" or "Take theirs". Leaving the page makes one last attempt,
// and keeps a copy in sessionStorage in case that attempt did not land.

import "./panels.css";
import { h } from "../ui/dom.js";
import { getJson } from "../net/http.js";
import { loadFiles } from "../editor/load-files.js";
import { hashFiles } from "./files-hash.js";
import { trapKeys } from "../ui/dialog.js";

const DELAY = 800;
const RETRY_DELAY = 2000; // after a retryable save error (save.unavailable)

export const SaveState = Object.freeze({
  SAVED: "Saved",
  SAVING: "Saving…",
  DIRTY: "Unsaved changes",
  OFFLINE: "Offline — will save when reconnected",
  CONFLICT: "Conflict",
});

export class Autosave {
  // hold(): true while a generation runs in this tab (its edits are saved at gen.done).
  // run(): the generation running in this tab, if any ({gen, applied}).
  constructor({ socket, workspace, indicator, panelHost, playground, hold = () => false, run = () => null }) {
    Object.assign(this, { socket, workspace, indicator, panelHost, playground, hold, run });
    this.version = null; // the last version the server acknowledged
    this.role = null;
    this.dirty = false;
    this.inflight = null; // {files, author, gen}
    this.next = null; // {author, gen} for the save after the in-flight one
    this.conflict = null;
    this.quiet = 0; // > 0 while loading files from the server (not a user change)
    this.timer = null;
    this.waiters = [];
    this.backupKey = `flint:backup:${playground}`;
    workspace.listen(() => this.changed());
    window.addEventListener("pagehide", () => this.final());
    window.addEventListener("beforeunload", () => this.final());
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "hidden") this.flush();
    });
    this.show(SaveState.SAVED);
  }

  get canSave() {
    return this.role === "owner" && this.version != null;
  }

  // session.ready (first connect, or a reconnect).
  // → a promise: settled once a reloaded page has recovered its unsaved copy.
  async ready(msg) {
    this.role = msg.role ?? "owner";
    if (this.role !== "owner") return this.show("Read-only");
    if (this.version == null && typeof msg.version === "number") {
      this.version = msg.version;
      await this.recoverBackup(msg.version);
    }
    if (this.conflict) return;
    if (this.inflight) {
      // The reply to a save sent before the drop never came: send it again.
      this.dirty = true;
      this.inflight = null;
    }
    if (this.dirty) this.flush();
    else this.show(SaveState.SAVED);
  }

  changed() {
    if (this.quiet || this.role === "viewer") return;
    this.dirty = true;
    if (this.conflict) return;
    this.show(this.socket.isOpen ? SaveState.DIRTY : SaveState.OFFLINE);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.flush(), DELAY);
  }

  // Save now if there is anything to save. opts: {author, gen, force}
  flush({ author = "user", gen = null, force = false } = {}) {
    clearTimeout(this.timer);
    if (!this.canSave || this.conflict) return false;
    if (!this.dirty && !force) return false;
    if (!this.socket.isOpen) {
      this.show(SaveState.OFFLINE);
      return false;
    }
    if (this.inflight) {
      if (author === "model" || !this.next) this.next = { author, gen };
      return false;
    }
    if (this.hold() && author !== "model") {
      this.show(SaveState.DIRTY);
      return false;
    }
    this.send(author, gen, this.version);
    return true;
  }

  send(author, gen, base) {
    const files = this.workspace.files();
    const message = { type: "files.save", v: 1, files, base_version: base, author };
    if (gen) message.gen = gen;
    this.inflight = { files, author, gen };
    this.dirty = false;
    this.socket.send(message);
    this.show(SaveState.SAVING);
  }

  // The page is going away: one last attempt, and a copy for the reloaded page.
  final() {
    if (!this.canSave) return;
    const run = this.run();
    const unsaved = this.dirty || this.inflight;
    if (!unsaved) {
      sessionStorage.removeItem(this.backupKey);
      return;
    }
    const files = this.workspace.files();
    const base = this.inflight ? this.version + 1 : this.version;
    sessionStorage.setItem(this.backupKey, JSON.stringify({ base: this.version, hash: hashFiles(files), files }));
    if (this.dirty && !this.conflict && this.socket.isOpen) {
      const author = run?.applied?.length ? "model" : "user";
      const message = { type: "files.save", v: 1, files, base_version: base, author };
      if (author === "model") message.gen = run.gen;
      this.socket.send(message);
      this.dirty = false;
    }
  }

  // After a reload: the copy kept when the page went away, if the reloaded
  // files are not it. Its last save never landed (the server is still at its
  // base): put it back and save it. The server moved on: if to exactly these
  // files, the save landed after the page was read (load them); otherwise
  // someone else saved meanwhile: keep ours in the editor and show the conflict.
  async recoverBackup(serverVersion) {
    const raw = sessionStorage.getItem(this.backupKey);
    sessionStorage.removeItem(this.backupKey);
    if (!raw) return;
    let backup;
    try {
      backup = JSON.parse(raw);
    } catch {
      return;
    }
    if (hashFiles(this.workspace.files()) === backup.hash) return;
    if (backup.base === serverVersion) {
      loadFiles(this.workspace, backup.files);
      this.dirty = true;
      return;
    }
    let server;
    try {
      server = await getJson(`/api/p/${encodeURIComponent(this.playground)}/revisions/${serverVersion}`);
    } catch {
      return;
    }
    if (hashFiles(server.files) === backup.hash) {
      this.loadFromServer(server.files, serverVersion);
      return;
    }
    loadFiles(this.workspace, backup.files);
    this.dirty = true;
    this.conflict = { server_version: serverVersion, server_files: server.files };
    this.show(SaveState.CONFLICT);
    this.openConflict();
  }

  // The server's reply to files.save (files.saved, or an error).
  onReply(msg) {
    if (msg.type === "files.saved") {
      this.version = msg.version;
      this.inflight = null;
      this.resolveWaiters();
      if (this.next) {
        const next = this.next;
        this.next = null;
        this.dirty = this.dirty || next.author === "model";
        this.flush(next);
      } else if (this.dirty) this.changed();
      else {
        this.show(SaveState.SAVED);
        sessionStorage.removeItem(this.backupKey); // nothing left to recover
      }
      return;
    }
    const failed = this.inflight;
    this.inflight = null;
    if (msg.code === "save.conflict") {
      this.dirty = true;
      this.next = null;
      this.conflict = msg.detail ?? {};
      this.show(SaveState.CONFLICT);
      this.openConflict();
      return;
    }
    // files.invalid / auth.forbidden: say so; keep the changes marked unsaved.
    this.dirty = true;
    this.show(`Not saved: ${msg.message ?? msg.code}`, "error");
    // save.unavailable (the database did not answer): again soon, as the same author.
    if (msg.retryable) {
      clearTimeout(this.timer);
      const again = { author: failed?.author ?? "user", gen: failed?.gen ?? null };
      this.timer = setTimeout(() => this.flush(again), RETRY_DELAY);
    }
  }

  // Resolves once everything typed so far is saved (for Share and Restore).
  whenSaved(timeout = 5000) {
    if (!this.canSave) return Promise.resolve(false);
    if (!this.dirty && !this.inflight) return Promise.resolve(true);
    this.flush({ force: false });
    return new Promise((resolve) => {
      const waiter = { resolve };
      this.waiters.push(waiter);
      setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        resolve(false);
      }, timeout);
    });
  }

  resolveWaiters() {
    if (this.dirty || this.inflight || this.next) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.resolve(true);
  }

  // Files that came from the server (restore, "Take theirs"): not a change to save.
  loadFromServer(files, version) {
    this.quiet++;
    try {
      loadFiles(this.workspace, files);
    } finally {
      this.quiet--;
    }
    clearTimeout(this.timer);
    this.version = version;
    this.dirty = false;
    this.show(SaveState.SAVED);
  }

  socketClosed() {
    if (this.role !== "owner") return;
    if (this.dirty || this.inflight) this.show(SaveState.OFFLINE);
  }

  show(text, kind = "") {
    if (!this.indicator) return;
    this.indicator.textContent = text;
    this.indicator.dataset.state = kind || stateName(text);
  }

  // --- the conflict panel ------------------------------------------------------

  openConflict() {
    this.panel?.remove();
    const theirs = this.conflict.server_files ?? {};
    const mine = this.workspace.files();
    const paths = [...new Set([...Object.keys(mine), ...Object.keys(theirs)])].sort();
    const rows = paths
      .filter((p) => mine[p] !== theirs[p])
      .map((p) =>
        h(
          "section",
          { class: "conflict-file" },
          h("h3", {}, p),
          h(
            "div",
            { class: "conflict-sides" },
            h("div", {}, h("div", { class: "conflict-label" }, "Saved elsewhere (theirs)"), h("pre", { dataset: { testid: "conflict-theirs" } }, theirs[p] ?? "(no such file)")),
            h("div", {}, h("div", { class: "conflict-label" }, "In this tab (yours)"), h("pre", { dataset: { testid: "conflict-mine" } }, mine[p] ?? "(no such file)")),
          ),
        ),
      );
    const keep = h("button", { type: "button", class: "btn btn-primary", dataset: { testid: "keep-mine" } }, "Keep mine");
    const take = h("button", { type: "button", class: "btn", dataset: { testid: "take-theirs" } }, "Take theirs");
    keep.addEventListener("click", () => this.keepMine());
    take.addEventListener("click", () => this.takeTheirs());
    this.panel = h(
      "div",
      { class: "overlay-panel conflict", dataset: { testid: "conflict" }, role: "dialog", "aria-label": "Save conflict", tabindex: "-1" },
      h("div", { class: "overlay-head" }, h("strong", {}, "Someone saved this playground first"), h("span", { class: "muted" }, ` (version ${this.conflict.server_version ?? "?"})`)),
      h("p", { class: "muted" }, "Another tab or window saved different files. Nothing was overwritten. Pick which version to keep."),
      h("div", { class: "conflict-body" }, rows.length ? rows : h("p", {}, "The files are the same.")),
      h("div", { class: "overlay-actions" }, keep, take),
    );
    this.panelHost.append(this.panel);
    // Takes focus; Esc hides it (the conflict stays: the indicator opens it again).
    this.panel.addEventListener("keydown", (event) => trapKeys(event, this.panel, () => this.hideConflict()));
    keep.focus();
  }

  hideConflict() {
    this.panel?.remove();
    this.panel = null;
    this.indicator?.focus();
  }

  closeConflict() {
    this.panel?.remove();
    this.panel = null;
    this.conflict = null;
  }

  keepMine() {
    const version = this.conflict?.server_version;
    this.closeConflict();
    if (typeof version === "number") this.version = version;
    this.dirty = true;
    this.flush();
  }

  takeTheirs() {
    const { server_files: files, server_version: version } = this.conflict ?? {};
    this.closeConflict();
    if (files) this.loadFromServer(files, version);
  }
}

function stateName(text) {
  return (
    {
      [SaveState.SAVED]: "saved",
      [SaveState.SAVING]: "saving",
      [SaveState.DIRTY]: "dirty",
      [SaveState.OFFLINE]: "offline",
      [SaveState.CONFLICT]: "conflict",
    }[text] ?? "readonly"
  );
}

// Errors that answer a files.save (the generic "error" handlers never see them).
const SAVE_ERRORS = ["save.conflict", "save.unavailable", "files.invalid", "files.too_many", "files.bad_path", "files.too_large"];

// The autosave and its indicator (before the Share button), wired to the
// session: → the Autosave (window.flint.autosave).
export function installAutosave({ session, socket, workspace }, { playground, panelHost }) {
  // Not live: "Saving…"/"Saved" on every pause in typing would be read out each time.
  const indicator = h("span", { class: "save-state", dataset: { testid: "save-state" }, tabindex: "-1" });
  placeInTopbar(indicator);
  const autosave = new Autosave({
    socket,
    workspace,
    indicator,
    panelHost,
    playground,
    hold: () => session.busy,
    run: () => session.current,
  });
  // In a conflict the indicator opens the conflict panel again.
  indicator.addEventListener("click", () => {
    if (autosave.conflict && !autosave.panel) autosave.openConflict();
  });
  // A save reply comes without `gen`: for a generation's error, hand it on.
  const reply = function saveReply(msg, run) {
    if (run) return false;
    autosave.onReply(msg);
  };
  session
    .on("session.ready", function autosaveReady(msg) {
      autosave.recovered = autosave.ready(msg); // installResume waits for it
    })
    .on("files.saved", reply)
    // While a gen.start waits for its answer, auth.forbidden is that answer.
    .on("error:auth.forbidden", function saveForbidden(msg, run) {
      if (run || session.pending) return false;
      autosave.onReply(msg);
    })
    // The generation's edits are saved as the model's revision.
    .on("gen.done", function saveModelRevision(msg, run) {
      if (session.readOnly) return;
      if (run.applied?.length) autosave.flush({ author: "model", gen: run.gen, force: true });
      else autosave.flush();
    });
  for (const code of SAVE_ERRORS) session.on(`error:${code}`, reply);
  // What was typed before a new instruction is saved as the user's revision.
  session.hook("send", () => {
    if (!session.busy) autosave.flush();
  });
  session.hook("lost", () => autosave.socketClosed());
  return autosave;
}

// Put a control into the top bar, before the Share button (or at the end).
export function placeInTopbar(el) {
  const shareButton = document.querySelector('[data-testid="share"]');
  if (shareButton) shareButton.before(el);
  else document.querySelector(".topbar")?.append(el);
}
