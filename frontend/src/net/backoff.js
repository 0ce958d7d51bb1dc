// Reconnect delays: exponential with "full jitter" (AWS Architecture Blog,
// "Exponential Backoff And Jitter"): a random wait in [0, min(cap, base·2^n)],
// so many pages that lost the server at once do not come back at once.

export function backoffDelay(attempt, { base = 500, cap = 10_000, random = Math.random } = {}) {
  return random() * Math.min(cap, base * 2 ** attempt);
}
