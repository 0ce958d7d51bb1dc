// Add, rename and delete files in the page. Names follow the server's path
// rules (path-rules.js, checked as you type); the change is an ordinary
// workspace change, so the autosave saves the new file set and History can
// bring a deleted file back. Off for viewers and while a generation runs.

import { h } from "../ui/dom.js";
import { openDialog } from "../ui/dialog.js";
import { newPathProblem } from "./path-rules.js";

// → {update()}
export function installFileActions({ session, workspace }, { bar, host, kind = "web" }) {
  const button = (label, testid, title, onclick) =>
    h("button", { type: "button", class: "btn btn-small", dataset: { testid }, title, "aria-label": title, onclick }, label);
  const add = button("+", "file-add", "New file", () => nameDialog({ title: "New file", initial: suggestName(workspace.paths(), kind), confirm: "Create" }, (path) => {
    workspace.addFile(path, "");
    workspace.open(path);
  }));
  const rename = button("Rename", "file-rename", "Rename this file", () => {
    const from = workspace.active;
    if (!from) return;
    nameDialog({ title: `Rename ${from}`, initial: from, confirm: "Rename", from }, (to) => {
      if (to !== from) workspace.renameFile(from, to);
    });
  });
  const remove = button("Delete", "file-delete", "Delete this file", () => {
    const path = workspace.active;
    if (!path) return;
    const yes = h("button", { type: "button", class: "btn btn-primary", dataset: { testid: "file-delete-confirm" } }, "Delete");
    const no = h("button", { type: "button", class: "btn" }, "Cancel");
    const dialog = openDialog({
      title: `Delete ${path}?`,
      body: h("p", { class: "muted" }, "History keeps every saved revision, so you can bring it back."),
      actions: [yes, no],
      host,
      testid: "file-dialog",
    });
    yes.addEventListener("click", () => {
      dialog.close();
      workspace.removeFile(path);
    });
    no.addEventListener("click", () => dialog.close());
  });
  bar.append(h("div", { class: "file-actions", role: "group", "aria-label": "File actions" }, add, rename, remove));

  function nameDialog({ title, initial, confirm, from = null }, done) {
    const input = h("input", { class: "file-name", type: "text", value: initial, dataset: { testid: "file-name" }, "aria-label": "File name", "aria-describedby": "file-name-error", autocomplete: "off", spellcheck: "false" });
    input.value = initial;
    const error = h("p", { class: "error-text file-name-error", id: "file-name-error", dataset: { testid: "file-name-error" }, "aria-live": "polite" });
    const ok = h("button", { type: "submit", class: "btn btn-primary", dataset: { testid: "file-name-ok" } }, confirm);
    const cancel = h("button", { type: "button", class: "btn" }, "Cancel");
    const problem = () => {
      const path = input.value.trim();
      return path === from ? null : newPathProblem(path, workspace.paths(), from);
    };
    const check = () => {
      const why = problem();
      error.textContent = why ?? "";
      input.setAttribute("aria-invalid", why ? "true" : "false");
      ok.disabled = !!why;
      return !why;
    };
    const form = h("form", { class: "file-form" }, h("label", { class: "muted", for: "flint-file-name" }, "Path (folders with /):"), input, error);
    input.id = "flint-file-name";
    const dialog = openDialog({ title, body: form, actions: [ok, cancel], host, testid: "file-dialog" });
    const submit = (event) => {
      event?.preventDefault();
      if (!check()) return;
      dialog.close();
      done(input.value.trim());
    };
    form.addEventListener("submit", submit);
    ok.addEventListener("click", submit);
    cancel.addEventListener("click", () => dialog.close());
    input.addEventListener("input", check);
    input.select();
    check();
  }

  const update = () => {
    const off = session.readOnly || session.busy;
    for (const b of [add, rename, remove]) b.disabled = off;
    rename.disabled ||= !workspace.active;
    remove.disabled ||= !workspace.active;
  };
  session.hook("busy", update);
  workspace.listen(update);
  update();
  return { update };
}

// Pure: a free name for a new file ("untitled.js", "untitled-2.js", …).
export function suggestName(paths, kind = "web") {
  const ext = kind === "python" ? "py" : "js";
  const taken = new Set(paths.map((p) => p.toLowerCase()));
  for (let n = 1; ; n++) {
    const name = n === 1 ? `untitled.${ext}` : `untitled-${n}.${ext}`;
    if (!taken.has(name)) return name;
  }
}
