// A modal dialog: takes focus when it opens (the first field, or the first
// button), keeps Tab inside, closes on Esc, and gives focus back to what had
// it. role="dialog", aria-modal, labelled by its title.

import { h } from "./dom.js";

let nextId = 1;

const FOCUSABLE = 'button:not([disabled]), [href], input:not([disabled]), textarea:not([disabled]), select:not([disabled]), [tabindex]:not([tabindex="-1"])';

// → {el, body, close()}; onClose() runs once, however it closes.
export function openDialog({ title, body = [], actions = [], host = document.body, onClose = () => {}, testid = "dialog", className = "" }) {
  const opener = document.activeElement;
  const titleId = `flint-dialog-${nextId++}`;
  const el = h(
    "div",
    { class: `overlay-panel dialog ${className}`, role: "dialog", "aria-modal": "true", "aria-labelledby": titleId, dataset: { testid } },
    h("div", { class: "overlay-head" }, h("strong", { id: titleId }, title)),
    h("div", { class: "dialog-body" }, body),
    actions.length ? h("div", { class: "overlay-actions" }, actions) : null,
  );
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    el.remove();
    onClose();
    if (opener instanceof HTMLElement && opener.isConnected) opener.focus();
  };
  el.addEventListener("keydown", (event) => trapKeys(event, el, close));
  host.append(el);
  (el.querySelector("input, textarea") ?? el.querySelector(FOCUSABLE) ?? el).focus();
  return { el, close };
}

// Esc closes; Tab and Shift+Tab cycle inside `el`. Also for the overlay panels.
export function trapKeys(event, el, close) {
  if (event.key === "Escape") {
    event.preventDefault();
    event.stopPropagation();
    close();
    return;
  }
  if (event.key !== "Tab") return;
  const items = [...el.querySelectorAll(FOCUSABLE)].filter((n) => n.offsetParent !== null || n === document.activeElement);
  if (!items.length) return;
  const first = items[0];
  const last = items[items.length - 1];
  if (event.shiftKey && document.activeElement === first) {
    event.preventDefault();
    last.focus();
  } else if (!event.shiftKey && document.activeElement === last) {
    event.preventDefault();
    first.focus();
  }
}

// Close the overlay panel a top-bar button opened: `owner.panel` (removed, then null)
// and `owner.button` (collapsed; focused again when asked, or when focus was inside).
export function closePanel(owner, { focus = false } = {}) {
  const had = owner.panel?.contains(document.activeElement);
  owner.panel?.remove();
  owner.panel = null;
  owner.button.setAttribute("aria-expanded", "false");
  if (focus || had) owner.button.focus();
}
