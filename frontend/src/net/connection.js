// The connection indicator in the top bar: "connected", "reconnecting in Ns…",
// "offline" (and "connecting…"/"reconnecting…" while an attempt is under way).

import { CLOSE_MISCONFIGURED, State } from "./socket.js";

export class ConnectionIndicator {
  constructor(el) {
    this.el = el;
    this.ticker = null;
  }

  show(state, socket) {
    clearInterval(this.ticker);
    this.el.dataset.state = state;
    if (state === State.WAITING) {
      const tick = () => {
        const secs = Math.max(0, Math.ceil((socket.retryAt - Date.now()) / 1000));
        this.el.textContent = `reconnecting in ${secs}s…`;
      };
      tick();
      this.ticker = setInterval(tick, 250);
    } else {
      this.el.textContent = {
        [State.CONNECTING]: socket.attempt > 0 ? "reconnecting…" : "connecting…",
        [State.OPEN]: "connected",
        [State.OFFLINE]: socket.closeCode === CLOSE_MISCONFIGURED ? "server misconfigured" : "offline",
      }[state];
    }
  }
}
