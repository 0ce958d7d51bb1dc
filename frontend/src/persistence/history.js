// The history timeline: every saved revision (who made it — you, the model
// with its instruction, a restore, a fork, an import — and when), what it
// changed against the revision before it (rendered by the server), on request
// its diff to the current files, and Restore (not on the current one), which
// saves that revision's files as a new revision and loads them into the
// editors as one undoable change per file.

import { h } from "../ui/dom.js";
import { getJson, postJson } from "../net/http.js";
import { placeInTopbar } from "./autosave.js";
import { closePanel, trapKeys } from "../ui/dialog.js";

const AUTHOR = { user: "you", model: "model", restore: "restore", fork: "fork", import: "import" };

export class HistoryPanel {
  constructor({ button, host, playground, autosave }) {
    Object.assign(this, { button, host, playground, autosave });
    this.panel = null;
    button.addEventListener("click", () => (this.panel ? this.close() : this.open()));
  }

  api(path = "") {
    return `/api/p/${encodeURIComponent(this.playground)}/revisions${path}`;
  }

  async open() {
    this.close();
    this.list = h("ol", { class: "history-list", dataset: { testid: "history-list" } }, h("li", { class: "muted" }, "Loading…"));
    this.detail = h("div", { class: "history-detail", dataset: { testid: "history-detail" } });
    const close = h("button", { type: "button", class: "btn btn-small", "aria-label": "Close history" }, "×");
    close.addEventListener("click", () => this.close());
    this.panel = h(
      "aside",
      { class: "overlay-panel history-panel", dataset: { testid: "history-panel" }, role: "dialog", "aria-label": "History", tabindex: "-1" },
      h("div", { class: "overlay-head" }, h("strong", {}, "History"), h("span", { class: "spacer" }), close),
      h("div", { class: "history-body" }, this.list, this.detail),
    );
    this.host.append(this.panel);
    this.panel.addEventListener("keydown", (event) => trapKeys(event, this.panel, () => this.close({ focus: true })));
    close.focus(); // the dialog takes focus; Esc closes it and gives it back
    this.button.setAttribute("aria-expanded", "true");
    await this.autosave?.whenSaved(3000);
    await this.refresh();
  }

  close(options) {
    closePanel(this, options);
  }

  async refresh(select = null) {
    let data;
    try {
      data = await getJson(this.api());
    } catch (err) {
      this.list.replaceChildren(h("li", { class: "error-text" }, err.message));
      return;
    }
    const items = [...data.revisions].reverse();
    this.list.replaceChildren(
      ...items.map((rev) => {
        const item = h(
          "button",
          {
            type: "button",
            class: "history-item",
            dataset: { testid: "revision", number: rev.number, author: rev.author },
            "aria-current": rev.number === data.version ? "true" : null,
          },
          h("span", { class: "history-number" }, `#${rev.number}`),
          h("span", { class: `history-author author-${rev.author}` }, AUTHOR[rev.author] ?? rev.author),
          rev.instruction ? h("span", { class: "history-instruction", title: rev.instruction }, rev.instruction) : null,
          h("time", { class: "history-time", datetime: rev.created_at, title: rev.created_at }, when(rev.created_at)),
          rev.number === data.version ? h("span", { class: "history-current" }, "current") : null,
        );
        item.addEventListener("click", () => this.show(rev.number));
        return h("li", {}, item);
      }),
    );
    if (select != null) this.show(select);
  }

  async show(number) {
    for (const b of this.list.querySelectorAll(".history-item")) b.classList.toggle("selected", Number(b.dataset.number) === number);
    this.detail.replaceChildren(h("p", { class: "muted" }, "Loading…"));
    let rev;
    try {
      rev = await getJson(this.api(`/${number}`));
    } catch (err) {
      this.detail.replaceChildren(h("p", { class: "error-text" }, err.message));
      return;
    }
    const isCurrent = rev.number === rev.current_version;
    const status = h("span", { class: "muted", dataset: { testid: "restore-status" } }, isCurrent ? "This is the current version." : "");
    // The current revision has nothing to restore: no button.
    const restore = isCurrent ? null : h("button", { type: "button", class: "btn btn-primary btn-small", dataset: { testid: "restore" } }, `Restore #${number}`);
    restore?.addEventListener("click", () => this.restore(rev, restore, status));
    const head = h(
      "div",
      { class: "history-detail-head" },
      h("strong", {}, `#${rev.number}`),
      ` · ${AUTHOR[rev.author] ?? rev.author}`,
      rev.instruction ? ` · “${rev.instruction}”` : "",
      h("span", { class: "spacer" }),
      restore,
      status,
    );
    // What this revision changed, against the one before it.
    const what = rev.previous == null ? `Files of #${rev.number}, the first revision:` : `What #${rev.number} changed (against #${rev.previous}):`;
    const body = [h("div", { class: "muted history-note" }, what), ...diffSections(rev.diff, "No file changed.")];
    // And, on request, what a restore would undo: from it to the current files.
    if (!isCurrent) {
      const compare = h("details", { class: "history-compare", dataset: { testid: "revision-to-current" } }, h("summary", {}, `Compare with the current files (#${rev.current_version})`), ...diffSections(rev.diff_to_current ?? [], "Same files as now."));
      body.push(compare);
    }
    this.detail.replaceChildren(head, ...body);
  }

  async restore(rev, button, status) {
    button.disabled = true;
    status.textContent = "Saving your changes first…";
    await this.autosave.whenSaved(5000);
    status.textContent = "Restoring…";
    try {
      const result = await postJson(this.api(`/${rev.number}/restore`), { base_version: this.autosave.version ?? rev.current_version });
      this.autosave.loadFromServer(rev.files, result.version);
      const said = result.saved ? `Restored as #${result.version}.` : "Already the current files.";
      await this.refresh();
      await this.show(rev.number);
      const now = this.detail.querySelector('[data-testid="restore-status"]');
      if (now) now.textContent = said;
    } catch (err) {
      status.textContent = err.message;
      button.disabled = false;
    }
  }
}

function diffSections(diffs, empty) {
  if (!diffs.length) return [h("p", { class: "muted" }, empty)];
  return diffs.map((d) => h("section", { class: "history-file" }, h("div", { class: "history-file-head" }, `${d.path} (${d.status})`), diffPre(d.diff)));
}

// A unified diff, +/- lines coloured (text only, never HTML).
function diffPre(text) {
  const pre = h("pre", { class: "diff", dataset: { testid: "revision-diff" } });
  for (const line of text.split("\n")) {
    const cls = line.startsWith("+++") || line.startsWith("---") ? "diff-file"
      : line.startsWith("@@") ? "diff-hunk"
      : line.startsWith("+") ? "diff-add"
      : line.startsWith("-") ? "diff-del"
      : "diff-ctx";
    pre.append(h("span", { class: cls }, line), "\n");
  }
  return pre;
}

function when(iso) {
  const t = new Date(iso);
  const secs = Math.round((Date.now() - t.getTime()) / 1000);
  if (secs < 60) return "just now";
  if (secs < 3600) return `${Math.round(secs / 60)} min ago`;
  if (secs < 86400) return `${Math.round(secs / 3600)} h ago`;
  return t.toLocaleString();
}

// The History button (next to the save indicator) and its panel:
// → the HistoryPanel (window.flint.history).
export function installHistory({ playground, host, autosave }) {
  const button = h("button", { type: "button", class: "btn btn-small", dataset: { testid: "history" }, title: "Saved revisions", "aria-expanded": "false" }, "History");
  placeInTopbar(button);
  return new HistoryPanel({ button, host, playground, autosave });
}
