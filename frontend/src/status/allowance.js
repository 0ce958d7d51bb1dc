// "N generations · M tokens left": what is left of this browser's rate
// limits, shown small next to the status line (session/queue-status.js feeds it).

import { h } from "../ui/dom.js";

export class AllowanceView {
  constructor(statusEl) {
    this.el = h("span", { class: "allowance", dataset: { testid: "allowance" }, title: "What is left of your rate limits" });
    statusEl.after(this.el);
  }

  show({ generations, tokens } = {}) {
    this.el.textContent = allowanceText({ generations, tokens });
    Object.assign(this.el.dataset, { generations: generations ?? "", tokens: tokens ?? "" });
  }
}

// Pure: {generations, tokens} → "3 generations · 12k tokens left" ("" when unknown).
export function allowanceText({ generations, tokens } = {}) {
  const parts = [];
  if (generations != null) parts.push(`${generations} generation${generations === 1 ? "" : "s"}`);
  if (tokens != null) parts.push(`${formatCount(tokens)} tokens`);
  return parts.length ? `${parts.join(" · ")} left` : "";
}

function formatCount(n) {
  return n >= 10_000 ? `${Math.round(n / 1000)}k` : String(n);
}
