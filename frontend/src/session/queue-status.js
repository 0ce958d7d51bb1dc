// The status line, plus what a shared server adds: the place in the waiting
// line (gen.queued), the steer → first token time, "try again in N s" for the
// queue and rate limits, and the allowance left (shown next to it, small).

import { h } from "../ui/dom.js";
import { schedule } from "../ui/frame.js";
import { StatusLine } from "../status/status-line.js";

const LIMITS = new Set(["gen.queue_full", "rate.limited"]);

export class LiveStatusLine extends StatusLine {
  begin(t) {
    this.queueText = null;
    this.steerMs = null;
    this.detached = false;
    delete this.el.dataset.steerMs;
    delete this.el.dataset.queuePosition;
    delete this.el.dataset.loading;
    super.begin(t);
  }

  // gen.queued
  queued(position) {
    this.queueText = `Waiting in line: position ${position}`;
    this.el.dataset.queuePosition = position;
    schedule(this.render);
  }

  // gen.loading: the local model is starting (the first request after a start).
  loadingModel() {
    this.queueText = "Loading the local model… (the first start takes a while)";
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

  draw() {
    if (this.phase === "waiting" && this.queueText && !this.retryText) {
      this.set("waiting", this.queueText);
      return;
    }
    super.draw();
    if (this.detached && (this.phase === "waiting" || this.phase === "streaming")) {
      this.el.textContent = `Reconnecting… (the generation goes on) · ${this.el.textContent}`;
    }
    if (this.phase === "done" && this.final?.error && LIMITS.has(this.final.error.code)) {
      const after = this.final.error.retry_after;
      if (after != null) this.el.textContent += ` · try again in ${Math.max(1, Math.ceil(after))} s`;
    }
  }

  numbers(stats) {
    const out = super.numbers(stats);
    if (this.steerMs != null) out.push(`steer → first token ${Math.round(this.steerMs)} ms`);
    return out;
  }
}

// "N generations · M tokens left", from session.ready and allowance.
export class AllowanceView {
  constructor(statusEl) {
    this.el = h("span", { class: "allowance", dataset: { testid: "allowance" }, title: "What is left of your rate limits" });
    statusEl.after(this.el);
  }

  show({ generations, tokens } = {}) {
    const parts = [];
    if (generations != null) parts.push(`${generations} generation${generations === 1 ? "" : "s"}`);
    if (tokens != null) parts.push(`${formatCount(tokens)} tokens`);
    this.el.textContent = parts.length ? `${parts.join(" · ")} left` : "";
    Object.assign(this.el.dataset, { generations: generations ?? "", tokens: tokens ?? "" });
  }
}

function formatCount(n) {
  return n >= 10_000 ? `${Math.round(n / 1000)}k` : String(n);
}
