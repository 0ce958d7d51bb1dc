import { test } from "node:test";
import assert from "node:assert/strict";
import { backoffDelay } from "../src/net/backoff.js";

test("the delay grows as base·2^n up to the cap (random = 1 gives the ceiling)", () => {
  const ceil = (n) => backoffDelay(n, { random: () => 1 });
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6].map(ceil), [500, 1000, 2000, 4000, 8000, 10_000, 10_000]);
});

test("full jitter: the wait is random in [0, ceiling]", () => {
  assert.equal(backoffDelay(3, { random: () => 0 }), 0);
  assert.equal(backoffDelay(3, { random: () => 0.25 }), 1000);
  for (let i = 0; i < 200; i++) {
    const d = backoffDelay(10);
    assert.ok(d >= 0 && d <= 10_000, `delay ${d} out of range`);
  }
});

test("base and cap are options", () => {
  assert.equal(backoffDelay(2, { base: 100, cap: 300, random: () => 1 }), 300);
  assert.equal(backoffDelay(1, { base: 100, cap: 300, random: () => 1 }), 200);
});
