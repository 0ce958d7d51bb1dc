// input() for the Python worker: the worker blocks on a SharedArrayBuffer
// (Atomics.wait) until the page writes the line the user typed into it
// (Atomics.notify). Python pages are cross-origin isolated (COOP + COEP), so
// shared memory is there; without it input() reads end-of-file and says why.
//
// Layout: Int32 [0] state (0 waiting, 1 a line is there, 2 end of input),
//         Int32 [1] the line's length in bytes, then up to MAX_LINE bytes of UTF-8.

export const MAX_LINE = 64 * 1024;
const HEADER = 8;
export const WAITING = 0;
export const LINE = 1;
export const END = 2;

export function createStdinBuffer() {
  if (typeof SharedArrayBuffer === "undefined" || !globalThis.crossOriginIsolated) return null;
  return new SharedArrayBuffer(HEADER + MAX_LINE);
}

// Page side: hand a line (or the end of input) to the waiting worker.
export function writeLine(buffer, text) {
  const control = new Int32Array(buffer, 0, 2);
  const bytes = new TextEncoder().encode(text).slice(0, MAX_LINE);
  new Uint8Array(buffer, HEADER, MAX_LINE).set(bytes);
  Atomics.store(control, 1, bytes.length);
  Atomics.store(control, 0, LINE);
  Atomics.notify(control, 0);
}

export function writeEnd(buffer) {
  const control = new Int32Array(buffer, 0, 2);
  Atomics.store(control, 0, END);
  Atomics.notify(control, 0);
}

// Page side, before a run: nothing left over from the last one (an end of input
// written by Stop when nobody read it).
export function resetStdin(buffer) {
  Atomics.store(new Int32Array(buffer, 0, 2), 0, WAITING);
}

// Worker side: block until the page answers; → the line, or null at the end.
export function readLine(buffer) {
  const control = new Int32Array(buffer, 0, 2);
  Atomics.wait(control, 0, WAITING);
  const state = Atomics.load(control, 0);
  let text = null;
  if (state === LINE) {
    const length = Atomics.load(control, 1);
    // TextDecoder refuses views of shared memory: copy first.
    text = new TextDecoder().decode(new Uint8Array(buffer, HEADER, length).slice());
  }
  Atomics.store(control, 0, WAITING);
  return text;
}
