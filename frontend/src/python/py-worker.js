// The Python worker (built into static/flint/py-worker.js, a module worker):
// Pyodide, loaded from Flint's own static/pyodide/ (no CDN), runs main.py off
// the page's thread. Only the standard library: other packages would be
// fetched from a CDN, which Flint does not use.
//
// page → worker: init {indexURL, interrupt?: SharedArrayBuffer}, run {id, code, filename}
// worker → page: loading, ready {version}, stdout {text}, stderr {text},
//                done {id, ok, ms, error?: {message, line}}, fatal {message}

let pyodide = null;
let loading = null;

function post(msg) {
  self.postMessage(msg);
}

async function init({ indexURL, interrupt }) {
  post({ type: "loading" });
  const { loadPyodide } = await import(`${indexURL}pyodide.mjs`);
  const py = await loadPyodide({ indexURL, fullStdLib: false });
  py.setStdout({ batched: (text) => post({ type: "stdout", text }) });
  py.setStderr({ batched: (text) => post({ type: "stderr", text }) });
  py.setStdin({ error: true });
  if (interrupt) py.setInterruptBuffer(new Uint8Array(interrupt));
  pyodide = py;
  post({ type: "ready", version: py.version, interruptible: !!interrupt });
}

async function run({ id, code, filename }) {
  const t0 = performance.now();
  const globals = pyodide.globals.get("dict")();
  globals.set("__name__", "__main__");
  globals.set("__file__", filename);
  try {
    await pyodide.loadPackagesFromImports(code).catch(() => {}); // stdlib modules only; no network
    await pyodide.runPythonAsync(code, { globals, filename });
    post({ type: "done", id, ok: true, ms: performance.now() - t0 });
  } catch (err) {
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
