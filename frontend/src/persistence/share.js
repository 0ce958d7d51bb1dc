// Share: a read-only link to the current revision (saved first), with Copy,
// the embed snippet, and the small file menu: export as .zip, import.

import { h } from "../ui/dom.js";
import { postJson } from "../net/http.js";
import { closePanel, trapKeys } from "../ui/dialog.js";

export class SharePanel {
  constructor({ button, host, playground, autosave }) {
    Object.assign(this, { button, host, playground, autosave });
    this.panel = null;
    button.disabled = false;
    button.title = "Share a read-only link, embed, export or import";
    button.addEventListener("click", () => (this.panel ? this.close() : this.open()));
  }

  async open() {
    this.close();
    const status = h("p", { class: "muted", dataset: { testid: "share-status" } }, "Saving and creating the link…");
    const close = h("button", { type: "button", class: "btn btn-small", "aria-label": "Close" }, "×");
    close.addEventListener("click", () => this.close());
    this.body = h("div", { class: "share-body" }, status);
    const id = encodeURIComponent(this.playground);
    this.panel = h(
      "aside",
      { class: "overlay-panel share-panel", dataset: { testid: "share-panel" }, role: "dialog", "aria-label": "Share", tabindex: "-1" },
      h("div", { class: "overlay-head" }, h("strong", {}, "Share"), h("span", { class: "spacer" }), close),
      this.body,
      h(
        "div",
        { class: "share-files" },
        h("a", { class: "btn btn-small", href: `/p/${id}/export.zip`, dataset: { testid: "export" }, download: "" }, "Export .zip"),
        h("a", { class: "btn btn-small", href: "/import", dataset: { testid: "import" } }, "Import…"),
      ),
    );
    this.host.append(this.panel);
    this.panel.addEventListener("keydown", (event) => trapKeys(event, this.panel, () => this.close({ focus: true })));
    close.focus(); // the dialog takes focus; Esc closes it and gives it back
    this.button.setAttribute("aria-expanded", "true");
    if (this.autosave && !this.autosave.canSave) {
      status.textContent = "Only the owner can share this playground.";
      return;
    }
    await this.autosave?.whenSaved(5000);
    let link;
    try {
      link = await postJson(`/api/p/${id}/share`, {});
    } catch (err) {
      status.textContent = `Could not share: ${err.message}`;
      return;
    }
    this.render(link);
  }

  render(link) {
    const url = h("input", { class: "share-url", readonly: true, value: link.url, dataset: { testid: "share-url" }, "aria-label": "Share link" });
    url.value = link.url;
    const embedUrl = `${link.url.replace(/\/$/, "")}/embed`;
    const snippet = `<iframe src="${embedUrl}" width="100%" height="480" style="border:0" loading="lazy" title="Flint playground"></iframe>`;
    const embed = h("textarea", { class: "share-embed", readonly: true, rows: 3, dataset: { testid: "share-embed" }, "aria-label": "Embed snippet" });
    embed.value = snippet;
    this.body.replaceChildren(
      h("label", { class: "muted" }, `Read-only link to revision #${link.version}:`),
      h("div", { class: "share-row" }, url, copyButton(url, "copy-share-url")),
      h("label", { class: "muted" }, "Embed:"),
      h("div", { class: "share-row" }, embed, copyButton(embed, "copy-embed")),
      h("p", { class: "muted" }, "Later edits are not shared until you share again."),
    );
    if (this.panel?.contains(document.activeElement) || document.activeElement === document.body) url.focus();
    url.select();
  }

  close(options) {
    closePanel(this, options);
  }
}

function copyButton(field, testid) {
  const button = h("button", { type: "button", class: "btn btn-small", dataset: { testid } }, "Copy");
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(field.value);
    } catch {
      field.select();
      document.execCommand?.("copy");
    }
    button.textContent = "Copied";
    setTimeout(() => (button.textContent = "Copy"), 1500);
  });
  return button;
}

// The template's Share button, enabled: → the SharePanel (window.flint.share),
// or null on a page without one.
export function installShare({ playground, host, autosave }) {
  const button = document.querySelector('[data-testid="share"]');
  return button ? new SharePanel({ button, host, playground, autosave }) : null;
}
