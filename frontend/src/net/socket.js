// The page's one WebSocket: connects, reconnects by itself with jittered
// backoff, and reports its state for the connection indicator. Generations
// never open sockets; they share this one.

import { backoffDelay } from "./backoff.js";

const CLOSE_NOT_FOUND = 4404; // playground/socket/consumer.py: the playground is gone
// The server cannot serve this playground (misconfigured); the error it sent just
// before says why. Retrying would fail the same way: wait for the user.
export const CLOSE_MISCONFIGURED = 4500;
const PING_EVERY = 25_000;

export const State = Object.freeze({
  CONNECTING: "connecting",
  OPEN: "open",
  WAITING: "waiting", // closed, reconnect scheduled at `retryAt`
  OFFLINE: "offline", // no network, or the server said not to come back
});

export class Socket {
  constructor(url, { onMessage, onState, onClose }) {
    this.url = url;
    this.onMessage = onMessage;
    this.onState = onState;
    this.onClose = onClose;
    this.ws = null;
    this.attempt = 0;
    this.state = null;
    this.retryAt = 0;
    this.timer = null;
    this.pinger = null;
    this.failures = 0; // attempts in a row that closed without ever opening
    this.closeCode = null; // the last close's code
    window.addEventListener("online", () => this.state === State.OFFLINE && this.connectNow());
    window.addEventListener("offline", () => this.ws?.close());
  }

  get isOpen() {
    return this.state === State.OPEN;
  }

  connect() {
    clearTimeout(this.timer);
    this.setState(State.CONNECTING);
    const ws = new WebSocket(this.url);
    this.ws = ws;
    ws.onopen = () => {
      if (ws !== this.ws) return;
      this.failures = 0;
      this.setState(State.OPEN);
      this.pinger = setInterval(() => this.send({ type: "ping", v: 1, t: Date.now() }), PING_EVERY);
    };
    ws.onmessage = (ev) => {
      if (ws !== this.ws || typeof ev.data !== "string") return;
      // Back off afresh only once the server has really talked to us: a server
      // that accepts and drops at once must not be hammered.
      this.attempt = 0;
      let message;
      try {
        message = JSON.parse(ev.data);
      } catch {
        console.error("Flint: server sent a frame that is not JSON", ev.data);
        return;
      }
      this.onMessage(message);
    };
    ws.onclose = (ev) => {
      if (ws !== this.ws) return;
      this.ws = null;
      const opened = this.state === State.OPEN;
      clearInterval(this.pinger);
      if (!opened) this.failures++;
      this.closeCode = ev.code;
      this.onClose?.(ev);
      if (ev.code === CLOSE_NOT_FOUND || ev.code === CLOSE_MISCONFIGURED || navigator.onLine === false) {
        this.setState(State.OFFLINE);
      } else {
        this.scheduleReconnect();
      }
    };
  }

  connectNow() {
    this.attempt = 0;
    this.connect();
  }

  scheduleReconnect() {
    const delay = backoffDelay(this.attempt++);
    this.retryAt = Date.now() + delay;
    this.timer = setTimeout(() => this.connect(), delay);
    this.setState(State.WAITING);
  }

  send(message) {
    if (!this.isOpen) return false;
    this.ws.send(JSON.stringify(message));
    return true;
  }

  setState(state) {
    this.state = state;
    this.onState(state, this);
  }
}

export function socketUrl(path, location = window.location) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}${path}`;
}
