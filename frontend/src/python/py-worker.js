// The Python worker (built into static/flint/py-worker.js, a module worker):
// Pyodide, loaded from Flint's own static/pyodide/ (no CDN), runs main.py off
// the page's thread. Only the standard library: other packages would be
// fetched from a CDN, which Flint does not use.
//
// page → worker: init {indexURL, interrupt?: SharedArrayBuffer, stdin?: SharedArrayBuffer},
//                run {id, code, filename, files}
// worker → page: loading, ready {version}, stdout {text}, stderr {text},
//                input {prompt} (then blocks until the page writes a line, stdin-channel.js),
//                done {id, ok, ms, error?: {message, line}}, fatal {message}
//
// Every file of the playground is written into Pyodide's file system before a
// run, so main.py can `import helper` or `open("data.csv")`.

import { readLine } from "./stdin-channel.js";

let pyodide = null;
let loading = null;
let stdin = null;
let written = new Set(); // files the last run wrote (to remove the ones deleted since)
let partial = ""; // stdout since its last newline: the prompt input() shows
const decoder = new TextDecoder();

function post(msg) {
  self.postMessage(msg);
}

async function init({ indexURL, interrupt, stdin: stdinBuffer }) {
  stdin = stdinBuffer ?? null;
  post({ type: "loading" });
  const { loadPyodide } = await import(`${indexURL}pyodide.mjs`);
  const py = await loadPyodide({ indexURL, fullStdLib: false });
  py.setStdout({ write: writeStdout });
  py.setStderr({ batched: (text) => post({ type: "stderr", text }) });
  py.setStdin({ read: readStdin });
  if (interrupt) py.setInterruptBuffer(new Uint8Array(interrupt));
  pyodide = py;
  post({ type: "ready", version: py.version, interruptible: !!interrupt });
}

// Raw stdout: whole lines go out as they end; what follows the last newline
// waits (it is the prompt of an input(), or flushed when the run ends).
function writeStdout(bytes) {
  partial += decoder.decode(bytes, { stream: true });
  const cut = partial.lastIndexOf("\n");
  if (cut >= 0) {
    for (const line of partial.slice(0, cut).split("\n")) post({ type: "stdout", text: line });
    partial = partial.slice(cut + 1);
  }
  return bytes.length;
}

function flushStdout() {
  if (partial) post({ type: "stdout", text: partial });
  partial = "";
}

// input() (any read of stdin): one raw read. Bytes left from the last line
// come first; otherwise ask the page for a line and wait for it (the page shows
// an input box). 0 = end of input.
let pending = new Uint8Array(0);
function readStdin(buffer) {
  if (!pending.length) {
    const prompt = partial;
    partial = "";
    if (!stdin) {
      if (prompt) post({ type: "stdout", text: prompt });
      post({ type: "stderr", text: "input() needs a cross-origin isolated page (SharedArrayBuffer); it reads nothing here." });
      return 0;
    }
    post({ type: "input", prompt });
    const line = readLine(stdin);
    if (line === null) return 0;
    pending = new TextEncoder().encode(`${line}\n`);
  }
  const n = Math.min(buffer.length, pending.length);
  buffer.set(pending.subarray(0, n));
  pending = pending.subarray(n);
  return n;
}

function writeFiles(files) {
  const FS = pyodide.FS;
  for (const path of written) {
    if (!(path in files)) {
      try {
        FS.unlink(path);
      } catch {
        // already gone
      }
    }
  }
  for (const [path, text] of Object.entries(files)) {
    const dir = path.split("/").slice(0, -1).join("/");
    if (dir) FS.mkdirTree(dir);
    FS.writeFile(path, text);
  }
  written = new Set(Object.keys(files));
  // A module edited since the last run is imported afresh.
  pyodide.runPython(
    "import sys, importlib\n" +
      "for _n, _m in list(sys.modules.items()):\n" +
      "    if (getattr(_m, '__file__', None) or '').startswith('/home/pyodide/'):\n" +
      "        del sys.modules[_n]\n" +
      "importlib.invalidate_caches()\n",
  );
}

async function run({ id, code, filename, files = {} }) {
  const t0 = performance.now();
  partial = "";
  pending = new Uint8Array(0);
  const globals = pyodide.globals.get("dict")();
  globals.set("__name__", "__main__");
  globals.set("__file__", filename);
  try {
    // Inside the try: a Stop that lands while the files are written is a KeyboardInterrupt too.
    writeFiles({ ...files, [filename]: code });
    await pyodide.loadPackagesFromImports(code).catch(() => {}); // stdlib modules only; no network
    await pyodide.runPythonAsync(code, { globals, filename });
    flushStdout();
    post({ type: "done", id, ok: true, ms: performance.now() - t0 });
  } catch (err) {
    flushStdout();
    const message = String(err?.message ?? err);
    const lines = [...message.matchAll(new RegExp(`File "${filename.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}", line (\\d+)`, "g"))];
    const line = lines.length ? Number(lines[lines.length - 1][1]) : undefined;
    post({ type: "done", id, ok: false, ms: performance.now() - t0, error: { message: cleanTraceback(message), line } });
  } finally {
    globals.destroy();
  }
}

// Drop Pyodide's own frames (its _pyodide/_base.py eval machinery) from a traceback.
function cleanTraceback(text) {
  const lines = text.split("\n");
  const out = [];
  for (let i = 0; i < lines.length; i++) {
    if (/^\s+File "\/lib\/python[\w.]*\/(site-packages\/)?_pyodide\//.test(lines[i])) {
      while (i + 1 < lines.length && /^\s{4,}/.test(lines[i + 1]) && !/^\s+File /.test(lines[i + 1])) i++;
      continue;
    }
    out.push(lines[i]);
  }
  return out.join("\n").trim();
}

self.onmessage = async (event) => {
  const msg = event.data;
  try {
    if (msg.type === "init") {
      loading ??= init(msg);
      await loading;
    } else if (msg.type === "run") {
      await loading;
      await run(msg);
    }
  } catch (err) {
    post({ type: "fatal", message: String(err?.message ?? err) });
  }
};
