// The frame → app vocabulary of the preview (see preview-frame.js): anything
// that is not one of these shapes is dropped. Pure.

const LEVELS = new Set(["log", "info", "warn", "error", "debug"]);

const isInt = (v) => v === undefined || Number.isInteger(v);
const isStr = (v, max = 20000) => typeof v === "string" && v.length <= max;

export function validMessage(m) {
  if (!m || typeof m !== "object" || Array.isArray(m)) return false;
  switch (m.type) {
    case "ready":
    case "heartbeat":
      return true;
    case "rendered":
      return Number.isInteger(m.version) && isStr(m.mode, 16);
    case "invalid":
      return Number.isInteger(m.version) && isInt(m.script) && isStr(m.message);
    case "console":
      return LEVELS.has(m.level) && Array.isArray(m.args) && m.args.length <= 100 && m.args.every((a) => isStr(a)) && isInt(m.script) && isInt(m.line);
    case "error":
      return (m.kind === "error" || m.kind === "rejection") && isStr(m.message) && isInt(m.script) && isInt(m.line) && (m.stack === undefined || isStr(m.stack));
    default:
      return false;
  }
}
