// Present: the owner's side of a live link. "Present" starts a presentation
// (POST /api/p/<id>/present) and from then on the editors' changes go to the
// server as `live.push`, batched (one message per BATCH_MS at most, never one
// per keystroke) and one at a time: the next batch waits for the server's
// `live.pushed`, which carries the version the batch became. The server orders
// the batches and hands them to every viewer (docs/protocol.md, "Presenting").
// A batch the server cannot take at that version (another tab presenting, a
// server restart) is answered by sending the whole file set, which it takes
// at any version.

import { h } from "../ui/dom.js";
import { postJson } from "../net/http.js";
import { smallestChange } from "../editor/smallest-change.js";
import { PROTOCOL } from "../session/session.js";

export const BATCH_MS = 40;

// The `live.push` that takes the page from `sent` ({files, active}, or null:
// the server's copy is unknown) to `now` at `base`; null when nothing changed.
export function pushMessage(sent, now, base) {
  const paths = Object.keys(now.files);
  const samePaths = sent && paths.length === Object.keys(sent.files).length && paths.every((p) => p in sent.files);
  if (!samePaths) return { type: "live.push", v: PROTOCOL, base, files: now.files, active: now.active ?? undefined };
  const changes = [];
  for (const path of paths) {
    const old = sent.files[path];
    if (old !== now.files[path]) changes.push({ path, ...smallestChange(old, now.files[path]) });
  }
  if (!changes.length && now.active === sent.active) return null;
  const message = { type: "live.push", v: PROTOCOL, base, changes };
  if (now.active !== sent.active && now.active) message.active = now.active;
  return message;
}

export class Presenter {
  constructor({ session, socket, workspace }, { playground, host, button }) {
    Object.assign(this, { session, socket, workspace, playground, host, button });
    this.on = false;
    this.link = null;
    this.version = 0;
    this.sent = null; // {files, active} the server has, as far as this page knows
    this.inflight = null; // the batch sent, not yet acknowledged
    this.timer = null;
    this.bar = null;
    button.disabled = false;
    button.title = "Present live: people with the link watch your editors and the model's answers as they happen";
    button.addEventListener("click", () => (this.on ? this.bar?.querySelector("input")?.focus() : this.start()));
    workspace.listen(() => this.schedule());
    workspace.onOpen(() => this.schedule());
    session
      .on("live.pushed", (msg) => this.pushed(msg))
      .on("live.viewers", (msg) => this.count(msg.count))
      .on("live.ended", () => this.stopped("The presentation has ended."))
      .on("error:live.behind", (msg) => this.resync(msg.detail?.version))
      .on("error:live.invalid", (msg) => this.refused(msg))
      .on("error:live.not_presenting", () => this.stopped("The presentation has ended."))
      .on("session.ready", () => this.on && this.resync()); // a reconnect: the server's copy may be older
  }

  async start() {
    this.button.disabled = true;
    try {
      this.link = await postJson(`/api/p/${encodeURIComponent(this.playground)}/present`, {});
    } catch (err) {
      this.session.status.say(`Could not present: ${err.message}`);
      this.button.disabled = false;
      return;
    }
    this.on = true;
    this.showBar();
    this.count(this.link.viewers ?? 0);
    this.resync();
  }

  async end() {
    this.flush(); // the last keystrokes first
    try {
      await postJson(`/api/p/${encodeURIComponent(this.playground)}/present/end`, {});
    } catch (err) {
      this.session.status.say(`Could not end the presentation: ${err.message}`);
      return;
    }
    this.stopped("Presentation ended. The link now shows its last state.");
  }

  stopped(note) {
    if (!this.on) return;
    this.on = false;
    clearTimeout(this.timer);
    this.timer = null;
    this.inflight = null;
    this.bar?.remove();
    this.bar = null;
    this.button.disabled = false;
    this.button.textContent = "Present";
    this.session.status.say(note);
  }

  schedule() {
    if (!this.on || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.flush();
    }, BATCH_MS);
  }

  flush() {
    if (!this.on || this.inflight || !this.socket.isOpen) return;
    const now = { files: this.workspace.files(), active: this.workspace.active };
    const message = pushMessage(this.sent, now, this.version);
    if (!message) return;
    this.inflight = now;
    this.socket.send(message);
  }

  pushed(msg) {
    if (!this.inflight) return;
    this.version = msg.version;
    this.sent = this.inflight;
    this.inflight = null;
    this.flush(); // whatever changed while that batch was on its way
  }

  // Send the whole file set next (taken at any version).
  resync(version) {
    if (typeof version === "number") this.version = version;
    this.sent = null;
    this.inflight = null;
    this.flush();
  }

  refused(msg) {
    this.inflight = null;
    this.sent = null;
    this.setNote(`Viewers are not seeing your latest change: ${msg.message}`);
  }

  count(n) {
    const el = this.bar?.querySelector('[data-testid="live-viewers"]');
    if (el) el.textContent = n === 1 ? "1 watching" : `${n} watching`;
  }

  setNote(text) {
    const el = this.bar?.querySelector('[data-testid="live-note"]');
    if (el) el.textContent = text;
  }

  showBar() {
    this.button.textContent = "Presenting";
    const url = h("input", { class: "share-url", readonly: true, value: this.link.url, "aria-label": "Live link", dataset: { testid: "live-url" } });
    url.value = this.link.url;
    const copy = h("button", { type: "button", class: "btn btn-small", dataset: { testid: "live-copy" } }, "Copy link");
    copy.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(url.value);
        copy.textContent = "Copied";
      } catch {
        url.select();
      }
      setTimeout(() => (copy.textContent = "Copy link"), 1500);
    });
    const end = h("button", { type: "button", class: "btn btn-small", dataset: { testid: "live-end" } }, "End");
    end.addEventListener("click", () => this.end());
    this.bar = h(
      "div",
      { class: "live-bar", role: "status", dataset: { testid: "live-bar" } },
      h("span", { class: "live-dot", "aria-hidden": "true" }, "●"),
      h("strong", {}, "Presenting live"),
      h("span", { dataset: { testid: "live-viewers" } }, "0 watching"),
      url,
      copy,
      end,
      h("span", { class: "muted", dataset: { testid: "live-note" } }),
    );
    (this.host.querySelector(".topbar") ?? this.host.firstChild).after(this.bar);
  }
}

// The template's Present button → a Presenter (window.flint.present), or null.
// `presenting`: the page was presenting before a reload: go on.
export function installPresent(parts, { playground, host, presenting }) {
  const button = document.querySelector('[data-testid="present"]');
  if (!button) return null;
  const presenter = new Presenter(parts, { playground, host, button });
  if (presenting) presenter.start();
  return presenter;
}
