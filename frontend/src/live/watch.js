// Watching a live link (/live/<id>/): the presenter's editors, as they change.
//
// The socket starts with `live.state` (the files, the version, the generation
// running); every change after it is a `live.update` with the next version,
// applied in order. A version that is not the next one means this page missed
// something: it drops the socket and starts again from a fresh `live.state`,
// so it can never show a gap or apply a change twice. The model's answers are
// followed like any generation (gen.resume); their edits reach the files as
// the presenter's changes, so the page does not apply them itself
// (session.mirror).

import { h } from "../ui/dom.js";
import { loadFiles } from "../editor/load-files.js";

export class Watch {
  constructor({ session, socket, workspace }, { live, host, follow }) {
    Object.assign(this, { session, socket, workspace, live, host, follow });
    this.version = null; // none until live.state
    session.mirror = true;
    this.banner = this.drawBanner();
    this.ended(live.ended);
    session
      .on("live.state", (msg) => this.state(msg))
      .on("live.update", (msg) => this.step(msg) && this.update(msg))
      .on("live.gen", (msg) => this.step(msg) && this.follow(msg.gen, msg.instruction))
      .on("live.ended", (msg) => this.step(msg) && this.ended(true))
      .on("live.viewers", (msg) => this.count(msg.count));
  }

  state(msg) {
    this.version = msg.version;
    loadFiles(this.workspace, msg.files);
    if (msg.active) this.workspace.open(msg.active, { focusEditor: false });
    this.count(msg.viewers ?? 0);
    this.ended(!!msg.ended);
    const current = this.session.current;
    if (msg.gen && current?.gen !== msg.gen) this.follow(msg.gen, msg.instruction);
  }

  // → true when `msg` is the next version; a stale one is dropped, a gap resyncs.
  step(msg) {
    if (this.version === null || msg.version <= this.version) return false;
    if (msg.version !== this.version + 1) {
      this.version = null;
      this.socket.ws?.close(); // reconnects, and starts again from live.state
      return false;
    }
    this.version = msg.version;
    return true;
  }

  update(msg) {
    if (msg.files) loadFiles(this.workspace, msg.files);
    for (const c of msg.changes ?? []) {
      if (this.workspace.has(c.path)) this.workspace.dispatchTo(c.path, { changes: { from: c.from, to: c.to, insert: c.insert } });
    }
    if (msg.active && msg.active !== this.workspace.active) this.workspace.open(msg.active, { focusEditor: false });
  }

  count(n) {
    const el = this.banner.querySelector('[data-testid="live-viewers"]');
    el.textContent = n === 1 ? "1 watching" : `${n} watching`;
  }

  ended(yes) {
    this.banner.dataset.ended = yes ? "true" : "false";
    this.banner.querySelector('[data-testid="live-state"]').textContent = yes
      ? "This presentation has ended: you are seeing its last state."
      : "Live: you are watching the presenter's editors as they type.";
  }

  drawBanner() {
    const fork = h("button", { type: "button", class: "btn btn-small", dataset: { testid: "live-fork" } }, "Fork");
    fork.addEventListener("click", () => document.getElementById("live-fork-form")?.requestSubmit());
    const banner = h(
      "div",
      { class: "readonly-banner live-banner", role: "note", dataset: { testid: "live-banner" } },
      h("span", { class: "live-dot", "aria-hidden": "true" }, "●"),
      h("span", { dataset: { testid: "live-state" } }),
      h("span", { dataset: { testid: "live-viewers" } }),
      fork,
    );
    (this.host.querySelector(".topbar") ?? this.host.firstChild).after(banner);
    return banner;
  }
}

export function installWatch(parts, { live, host, follow }) {
  return new Watch(parts, { live, host, follow });
}
