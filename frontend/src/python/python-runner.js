// Run main.py in the browser: Pyodide in a Web Worker (py-worker.js), output
// into the console panel, Stop for a long run.
//
// Stop: when the page is cross-origin isolated (Python pages are served with
// COOP + COEP, see playground/preview/csp.py) the worker shares an interrupt buffer
// (SharedArrayBuffer) and Stop raises KeyboardInterrupt inside the program;
// otherwise, or when the program ignores it for 1 s, the worker is terminated
// and a fresh one starts (Pyodide loads again on the next run).

import { createStdinBuffer, resetStdin, writeEnd, writeLine } from "./stdin-channel.js";

const STOP_GRACE_MS = 1000;

export class PythonRunner {
  // pane: .run-pane element; getFiles(); consolePanel: ConsolePanel
  constructor(pane, { getFiles, consolePanel, entry = "main.py" }) {
    this.getFiles = getFiles;
    this.console = consolePanel;
    this.entry = entry;
    this.workerUrl = pane.dataset.worker;
    this.indexURL = pane.dataset.pyodide;
    this.runButton = pane.querySelector('[data-testid="run"]');
    this.stopButton = pane.querySelector('[data-testid="run-stop"]');
    this.statusEl = pane.querySelector('[data-testid="run-status"]');
    this.worker = null;
    this.running = null; // {id, t0}
    this.nextId = 1;
    this.runButton.disabled = false;
    this.runButton.removeAttribute("title");
    this.runButton.addEventListener("click", () => this.run());
    this.stopButton.addEventListener("click", () => this.stop());
  }

  get busy() {
    return !!this.running;
  }

  say(text) {
    this.statusEl.textContent = text;
  }

  ensureWorker() {
    if (this.worker) return this.worker;
    const worker = new Worker(this.workerUrl, { type: "module", name: "flint-python" });
    this.interrupt = typeof SharedArrayBuffer !== "undefined" && self.crossOriginIsolated ? new SharedArrayBuffer(1) : null;
    this.stdin = createStdinBuffer(); // input(): see stdin-channel.js
    worker.onmessage = (event) => this.message(event.data);
    worker.onerror = (event) => {
      this.console.add({ level: "error", text: `Python worker failed: ${event.message ?? "unknown error"}`, source: "python" });
      this.reset("Python failed to start.");
    };
    worker.postMessage({ type: "init", indexURL: this.indexURL, interrupt: this.interrupt, stdin: this.stdin });
    this.worker = worker;
    this.ready = false;
    return worker;
  }

  run() {
    if (this.running) return;
    const files = this.getFiles();
    const code = files[this.entry];
    if (code === undefined) {
      this.say(`No ${this.entry} to run.`);
      return;
    }
    this.console.clearSource("python");
    const worker = this.ensureWorker();
    if (this.interrupt) new Uint8Array(this.interrupt)[0] = 0;
    if (this.stdin) resetStdin(this.stdin);
    const id = this.nextId++;
    this.running = { id, t0: performance.now() };
    this.runButton.disabled = true;
    this.stopButton.disabled = false;
    this.say(this.ready ? "Running…" : "Loading Python (first run takes a few seconds)…");
    worker.postMessage({ type: "run", id, code, filename: this.entry, files });
  }

  stop() {
    if (!this.running) return;
    const id = this.running.id;
    this.running.stopping = true;
    this.endInput(); // a program waiting in input() reads end-of-file, then sees the interrupt
    if (this.interrupt) {
      new Uint8Array(this.interrupt)[0] = 2; // SIGINT → KeyboardInterrupt
      this.say("Stopping…");
      setTimeout(() => {
        if (this.running?.id === id) this.kill("Stopped (the program did not react; Python restarted).");
      }, STOP_GRACE_MS);
    } else this.kill("Stopped (Python restarted).");
  }

  kill(message) {
    this.worker?.terminate();
    this.console.add({ level: "warn", text: message, source: "python" });
    this.reset(message);
  }

  // input(): the program waits for a line; the console panel asks for it.
  askInput(prompt) {
    const id = this.running?.id;
    this.say("Waiting for input…");
    this.console.ask(prompt, (line) => {
      if (this.running?.id !== id || !this.stdin) return;
      this.console.add({ level: "stdin", text: `${prompt}${line}`, source: "python" });
      this.say("Running…");
      writeLine(this.stdin, line);
    });
  }

  endInput() {
    this.console.cancelAsk();
    if (this.stdin) writeEnd(this.stdin);
  }

  reset(status) {
    this.console.cancelAsk();
    this.worker = null;
    this.ready = false;
    this.running = null;
    this.runButton.disabled = false;
    this.stopButton.disabled = true;
    this.say(status);
  }

  message(m) {
    switch (m.type) {
      case "loading":
        return;
      case "ready":
        this.ready = true;
        if (this.running) this.say("Running…");
        return;
      case "input":
        return this.askInput(m.prompt ?? "");
      case "stdout":
      case "stderr":
        return this.console.add({ level: m.type, text: m.text, source: "python" });
      case "fatal":
        this.console.add({ level: "error", text: `Python: ${m.message}`, source: "python" });
        this.worker?.terminate();
        return this.reset("Python failed to start.");
      case "done": {
        if (this.running?.id !== m.id) return;
        const stopped = this.running.stopping;
        this.running = null;
        this.console.cancelAsk();
        this.runButton.disabled = false;
        this.stopButton.disabled = true;
        if (m.ok) this.say(`Finished in ${Math.round(m.ms)} ms.`);
        else {
          const interrupted = stopped || /KeyboardInterrupt/.test(m.error.message);
          this.say(interrupted ? "Stopped." : "Failed: see the console.");
          const line = m.error.line;
          const lineText = line ? this.getFiles()[this.entry]?.split("\n")[line - 1] : undefined;
          this.console.add({
            level: interrupted ? "warn" : "error",
            text: m.error.message,
            source: "python",
            file: this.entry,
            line,
            lineText,
          });
        }
        return;
      }
    }
  }
}
