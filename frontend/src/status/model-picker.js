// The model picker in the top bar: shows the playground's model ("name · backend"),
// and opens a list of every model it can use (models.list → models.listed): the
// configured endpoint's (its /v1/models) and the local registry's, each local one
// "on disk" or "Download N MB". Choosing one sends model.select; every socket of the
// playground hears model.selected and the next answer comes from that model (no
// restart). A local model not on disk is downloaded from here (model.fetch) with
// its progress (model.download), seen by everyone on the playground; "Download and
// use" chooses it once it is there. Viewers see the list but cannot change it.
// Protocol: docs/protocol.md.

import { h } from "../ui/dom.js";
import { closePanel, trapKeys } from "../ui/dialog.js";
import { PROTOCOL } from "../session/session.js";

// → the picker (window.flint.models).
export function installModelPicker({ session, socket, transcript }, { host, slot }) {
  if (!slot) return null;
  const picker = new ModelPicker({ session, socket, transcript, host });
  slot.replaceWith(picker.button);
  session
    .on("session.ready", (msg) => picker.ready(msg))
    .on("models.listed", (msg) => picker.listed(msg))
    .on("model.selected", (msg) => picker.selected(msg))
    .on("model.download", (msg) => picker.download(msg));
  for (const code of ["model.unknown", "model.wrong_endpoint", "model.not_downloadable", "model.download_busy"]) {
    session.on(`error:${code}`, (msg) => picker.refused(msg));
  }
  return picker;
}

class ModelPicker {
  constructor({ session, socket, transcript, host }) {
    Object.assign(this, { session, socket, transcript, host });
    this.current = null; // {id, name, backend}
    this.list = null; // the last models.listed
    this.downloads = new Map(); // model id → the last model.download
    this.useWhenDone = new Set(); // "Download and use": select once it is on disk
    this.panel = null;
    this.problem = "";
    this.role = "owner";
    this.button = h(
      "button",
      { type: "button", class: "btn btn-small model-button", dataset: { testid: "model-button" }, "aria-haspopup": "dialog", "aria-expanded": "false", title: "Choose the model" },
      "model…",
    );
    this.button.addEventListener("click", () => (this.panel ? this.close() : this.open()));
  }

  // -- server messages ---------------------------------------------------------------
  ready(msg) {
    this.current = { id: msg.model_id ?? null, name: msg.model, backend: msg.backend };
    this.role = msg.role ?? "owner";
    if (msg.model_note) this.transcript.notice(msg.model_note, "notice-info");
    this.drawButton();
    if (this.panel) this.ask();
  }

  listed(msg) {
    this.list = msg;
    for (const model of msg.models) {
      if (model.state === "downloading" && !this.downloads.has(model.id)) {
        this.downloads.set(model.id, { model: model.id, state: "progress", stage: "hub", done: model.done, total: model.total });
      }
    }
    this.drawButton();
    this.drawPanel();
  }

  selected(msg) {
    const changed = this.current?.id !== msg.model;
    this.current = { id: msg.model, name: msg.name, backend: msg.backend };
    if (this.list) this.list.current = msg.model;
    if (changed) this.transcript.notice(`Model: ${msg.name} (${msg.backend}). The next answer comes from it.`, "notice-info");
    this.problem = "";
    this.drawButton();
    this.drawPanel();
  }

  download(msg) {
    this.downloads.set(msg.model, msg);
    const item = this.list?.models.find((m) => m.id === msg.model);
    if (msg.state === "done") {
      this.downloads.delete(msg.model);
      if (item) item.state = "on_disk";
      if (this.useWhenDone.delete(msg.model)) this.choose(msg.model);
    } else if (msg.state === "failed") {
      this.useWhenDone.delete(msg.model);
      if (item) item.state = "missing";
      this.problem = `Download of ${nameOf(msg.model)} failed: ${msg.message ?? "unknown error"}`;
      this.transcript.notice(this.problem, "notice-error");
    } else if (item) {
      item.state = "downloading";
    }
    this.drawButton();
    this.drawPanel();
  }

  refused(msg) {
    this.problem = `${msg.message} (${msg.code})`;
    if (this.panel) this.drawPanel();
    else this.transcript.notice(this.problem, "notice-error");
  }

  // -- what the user does ----------------------------------------------------------------
  ask() {
    this.socket.send({ type: "models.list", v: PROTOCOL });
  }

  choose(id) {
    const message = { type: "model.select", v: PROTOCOL, model: id };
    const url = this.list?.endpoint?.url;
    if (url && id.startsWith("endpoint:")) message.endpoint = url;
    this.problem = "";
    this.socket.send(message);
  }

  fetch(id, { use = false } = {}) {
    if (use) this.useWhenDone.add(id);
    this.problem = "";
    this.socket.send({ type: "model.fetch", v: PROTOCOL, model: id });
  }

  open() {
    this.close();
    const close = h("button", { type: "button", class: "btn btn-small", "aria-label": "Close the model list" }, "×");
    close.addEventListener("click", () => this.close({ focus: true }));
    this.body = h("div", { class: "model-body" }, h("p", { class: "muted" }, "Loading the models…"));
    this.panel = h(
      "aside",
      { class: "overlay-panel model-panel", dataset: { testid: "model-panel" }, role: "dialog", "aria-label": "Model", tabindex: "-1" },
      h("div", { class: "overlay-head" }, h("strong", {}, "Model"), h("span", { class: "spacer" }), close),
      this.body,
    );
    this.panel.addEventListener("keydown", (event) => trapKeys(event, this.panel, () => this.close({ focus: true })));
    this.host.append(this.panel);
    close.focus();
    this.button.setAttribute("aria-expanded", "true");
    if (this.list) this.drawPanel();
    this.ask();
  }

  close(options) {
    closePanel(this, options);
  }

  // -- drawing -------------------------------------------------------------------------
  drawButton() {
    const c = this.current;
    const running = [...this.downloads.values()].find((d) => d.state !== "failed");
    let text = c ? `${c.name} · ${c.backend}` : "model…";
    if (running) text += ` · ⬇ ${percent(running)}%`;
    this.button.textContent = `${text} ▾`;
    this.button.dataset.model = c?.id ?? "";
  }

  drawPanel() {
    if (!this.panel) return;
    const rows = [];
    const list = this.list;
    if (this.role === "viewer") rows.push(h("p", { class: "muted", dataset: { testid: "model-viewer-note" } }, "Read-only: only the playground's owner can change the model."));
    if (list?.endpoint?.error) {
      rows.push(h("p", { class: "error-text", dataset: { testid: "model-endpoint-error" } }, `The endpoint ${list.endpoint.url} could not list its models: ${list.endpoint.error}.`));
    }
    if (this.problem) rows.push(h("p", { class: "error-text", role: "alert", dataset: { testid: "model-problem" } }, this.problem));
    if (list) {
      for (const [source, title] of [["endpoint", list.endpoint ? `Endpoint · ${list.endpoint.url}` : null], ["local", "Local (llama.cpp on this server; one loaded at a time)"]]) {
        const models = list.models.filter((m) => m.source === source);
        if (!models.length || !title) continue;
        rows.push(h("h3", { class: "model-group" }, title));
        rows.push(h("ul", { class: "model-list" }, models.map((m) => this.row(m, list.current))));
      }
    }
    this.body.replaceChildren(...rows);
  }

  row(model, current) {
    const d = this.downloads.get(model.id);
    const view = modelRowView(model, { current, download: d, readOnly: this.role === "viewer" });
    const actions = view.actions.map(({ label, kind, testid }) =>
      h("button", {
        type: "button",
        class: `btn btn-small${kind === "use" || kind === "download-use" ? " btn-primary" : ""}`,
        dataset: { testid },
        disabled: this.role === "viewer",
        onclick: () => (kind === "use" ? this.choose(model.id) : this.fetch(model.id, { use: kind === "download-use" })),
      }, label),
    );
    const progress = view.progress
      ? h("div", { class: "model-progress" },
          h("progress", { max: view.progress.total, value: view.progress.done, "aria-label": `Downloading ${model.name}` }),
          h("span", { class: "muted", dataset: { testid: "model-progress-text" } }, view.progress.text))
      : null;
    return h(
      "li",
      { class: `model-row${view.current ? " current" : ""}`, dataset: { testid: "model-row", model: model.id, state: view.state } },
      h("div", { class: "model-main" },
        h("span", { class: "model-name" }, model.name),
        view.current ? h("span", { class: "model-tag" }, "in use") : null,
        model.default ? h("span", { class: "model-tag muted" }, "default") : null,
        h("span", { class: "muted model-state" }, view.stateText),
        h("span", { class: "spacer" }),
        actions),
      model.description ? h("div", { class: "muted model-desc" }, model.description) : null,
      progress,
      d?.note && d.stage === "wheels" ? h("div", { class: "muted model-desc" }, d.note) : null,
    );
  }
}

// Pure: what one row of the list shows. → {current, state, stateText, actions, progress}
export function modelRowView(model, { current, download = null, readOnly = false } = {}) {
  const isCurrent = model.id === current;
  let state = model.source === "endpoint" ? "endpoint" : model.state;
  if (download && download.state !== "failed" && download.state !== "done") state = "downloading";
  const actions = [];
  let stateText = "";
  let progress = null;
  if (state === "endpoint") {
    stateText = "on the endpoint";
  } else if (state === "on_disk") {
    stateText = "on disk";
  } else if (state === "missing") {
    stateText = `download ${formatMB(model.size)}`;
  } else if (state === "downloading") {
    const done = download?.done ?? model.done ?? 0;
    const total = download?.total ?? model.total ?? model.size ?? 1;
    stateText = "downloading…";
    progress = { done, total, text: progressText({ ...download, done, total }) };
  }
  if (!isCurrent && !readOnly && state !== "downloading") {
    if (state === "missing") {
      actions.push({ label: `Download ${formatMB(model.size)} and use`, kind: "download-use", testid: "model-download-use" });
      actions.push({ label: "Download only", kind: "download", testid: "model-download" });
    } else {
      actions.push({ label: "Use", kind: "use", testid: "model-use" });
    }
  } else if (isCurrent && state === "missing" && !readOnly) {
    actions.push({ label: `Download ${formatMB(model.size)}`, kind: "download", testid: "model-download" });
  }
  return { current: isCurrent, state, stateText, actions, progress };
}

// Pure: "hub · 45% · 220 / 491 MB · 12 s", "verifying · 80%", with the fallback's note.
export function progressText({ stage = "hub", done = 0, total = 1, elapsed = null } = {}) {
  const where = { hub: "from the hub", wheels: "from the registry wheels", verify: "checking SHA-256", file: "copying" }[stage] ?? stage;
  const parts = [where, `${percent({ done, total })}%`, `${formatMB(done, false)} / ${formatMB(total)}`];
  if (elapsed != null) parts.push(`${Math.round(elapsed)} s`);
  return parts.join(" · ");
}

export function formatMB(bytes, unit = true) {
  const mb = (bytes ?? 0) / 1e6;
  const text = mb >= 10 ? Math.round(mb).toLocaleString("en") : mb.toFixed(1);
  return unit ? `${text} MB` : text;
}

function percent({ done = 0, total = 1 }) {
  return Math.min(100, Math.floor((100 * done) / Math.max(total, 1)));
}

function nameOf(id) {
  return id.split(":").slice(1).join(":");
}
