// The live status line under the instruction box: time to first token,
// tokens/s and tokens while generating; the final numbers and the outcome
// after. Also says when a request is waiting on a loading model, a retry or
// the shared waiting line (gen.queued), that a dropped socket is being
// resumed, the steer → first token time, and "try again in N s" after the
// queue or a rate limit refused. Which message sets what is up to the session
// and its features (session/*.js); this is only the view.

import { schedule } from "../ui/frame.js";

const OUTCOME = { stop: "Done", length: "Cut off (length limit)", stopped: "Stopped", error: "Failed" };
const LIMITS = new Set(["gen.queue_full", "rate.limited"]);

export class StatusLine {
  constructor(el) {
    this.el = el;
    this.phase = "idle";
    this.ticker = null;
    this.queueText = null;
    this.steerMs = null;
    this.detached = false;
    this.render = () => this.draw();
    this.set("idle", "Ready.");
  }

  // gen.start sent at `t` (performance.now()).
  begin(t) {
    Object.assign(this, { queueText: null, steerMs: null, detached: false });
    delete this.el.dataset.steerMs;
    delete this.el.dataset.queuePosition;
    delete this.el.dataset.loading;
    delete this.el.dataset.loadingSeconds;
    Object.assign(this, { tSend: t, tFirst: null, tokens: 0, retryText: null, model: null, final: null, loadingSince: null });
    this.phase = "waiting";
    clearInterval(this.ticker);
    this.ticker = setInterval(() => schedule(this.render), 250);
    schedule(this.render);
  }

  started(model) {
    this.model = model;
    schedule(this.render);
  }

  delta(tokens, t) {
    if (this.tFirst === null) this.tFirst = t;
    this.phase = "streaming";
    this.retryText = null;
    this.tokens += tokens;
    schedule(this.render);
  }

  retry({ attempt, wait, error }) {
    const secs = Math.max(1, Math.ceil(wait));
    this.retryText =
      error?.code === "upstream.loading"
        ? `Loading model… retrying in ${secs}s`
        : `Retrying in ${secs}s (attempt ${attempt}: ${error?.code ?? "error"})`;
    schedule(this.render);
  }

  // gen.queued
  queued(position) {
    this.queueText = `Waiting in line: position ${position}`;
    this.el.dataset.queuePosition = position;
    schedule(this.render);
  }

  // gen.loading: the local model is starting (the first request after a start, or
  // after a switch to another local model); the line counts the seconds.
  loadingModel(t = performance.now()) {
    this.loadingSince = t;
    this.queueText = null;
    this.el.dataset.loading = "1";
    schedule(this.render);
  }

  // The first token after a steer took effect, `ms` after gen.steer was sent.
  steered(ms) {
    this.steerMs = ms;
    this.el.dataset.steerMs = Math.round(ms);
    schedule(this.render);
  }

  // The socket dropped mid-generation; it resumes after the reconnect.
  detach(on) {
    this.detached = on;
    schedule(this.render);
  }

  // gen.done: prefer the server's stats; fall back to what the page measured.
  done(reason, stats = {}, error = null) {
    clearInterval(this.ticker);
    this.phase = "done";
    this.final = { reason, stats, error, measured: this.live() };
    schedule(this.render);
  }

  // A short message unrelated to a generation ("Not connected…").
  say(text) {
    if (this.phase === "waiting" || this.phase === "streaming") return;
    this.set("idle", text);
  }

  draw() {
    if (this.phase === "waiting" && this.loadingSince != null && !this.retryText) {
      const secs = Math.floor((performance.now() - this.loadingSince) / 1000);
      this.el.dataset.loadingSeconds = secs;
      const model = this.model ? ` ${this.model}` : " the local model";
      this.set("waiting", `Loading${model}… ${secs} s (a first start takes a while)`);
      return;
    }
    if (this.phase === "waiting" && this.queueText && !this.retryText) {
      this.set("waiting", this.queueText);
      return;
    }
    if (this.phase === "waiting") {
      const secs = ((performance.now() - this.tSend) / 1000).toFixed(1);
      this.set("waiting", this.retryText ?? `Waiting for the model… ${secs}s`);
    } else if (this.phase === "streaming") {
      this.set("streaming", ["Generating", ...this.numbers(this.live())].join(" · "));
    } else if (this.phase === "done") {
      const { reason, stats, error, measured } = this.final;
      const numbers = this.numbers({ ...measured, ...definedOnly(stats) });
      const head = error ? `${OUTCOME.error}: ${error.message ?? error.code}` : OUTCOME[reason] ?? reason;
      this.set("done", [head, ...numbers].join(" · "), reason);
    }
    if (this.detached && (this.phase === "waiting" || this.phase === "streaming")) {
      this.el.textContent = `Reconnecting… (the generation goes on) · ${this.el.textContent}`;
    }
    if (this.phase === "done" && this.final?.error && LIMITS.has(this.final.error.code)) {
      const after = this.final.error.retry_after;
      if (after != null) this.el.textContent += ` · try again in ${Math.max(1, Math.ceil(after))} s`;
    }
  }

  live() {
    const now = performance.now();
    const decode = this.tFirst === null ? 0 : (now - this.tFirst) / 1000;
    return {
      ttft_ms: this.tFirst === null ? null : this.tFirst - this.tSend,
      tokens: this.tokens,
      tokens_per_s: decode > 0 ? this.tokens / decode : null,
      elapsed_ms: now - this.tSend,
    };
  }

  numbers({ ttft_ms, tokens, tokens_per_s, prompt_tokens, elapsed_ms }) {
    const out = [];
    if (ttft_ms != null) out.push(`TTFT ${Math.round(ttft_ms)} ms`);
    if (tokens_per_s != null) out.push(`${tokens_per_s.toFixed(1)} tok/s`);
    out.push(`${tokens ?? 0} tokens${prompt_tokens != null ? ` (+${prompt_tokens} prompt)` : ""}`);
    if (this.phase === "done" && elapsed_ms != null) out.push(`${(elapsed_ms / 1000).toFixed(1)} s`);
    Object.assign(this.el.dataset, {
      ttftMs: ttft_ms == null ? "" : Math.round(ttft_ms),
      tokens: tokens ?? 0,
      tokensPerS: tokens_per_s == null ? "" : tokens_per_s.toFixed(1),
    });
    if (this.steerMs != null) out.push(`steer → first token ${Math.round(this.steerMs)} ms`);
    return out;
  }

  set(phase, text, reason = "") {
    this.el.dataset.phase = phase;
    this.el.dataset.reason = reason;
    this.el.textContent = text;
  }
}

function definedOnly(obj) {
  return Object.fromEntries(Object.entries(obj ?? {}).filter(([, v]) => v != null));
}
