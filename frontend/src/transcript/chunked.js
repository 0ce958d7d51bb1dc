// Append-only lists of many elements (answer lines, code lines), grouped in
// chunks of CHUNK children. Appending then dirties one small chunk plus a
// parent with few children, so the browser's layout work per appended line
// stays flat as an answer grows to thousands of lines (a flat list of N
// children costs O(N) per layout pass; measured: ~10 ms/frame at 3000 lines).
// Finished chunks use content-visibility, so off-screen ones skip rendering.

const CHUNK = 64;

export class ChunkedList {
  constructor(parent, before = null) {
    this.parent = parent;
    this.before = before; // keep this element (a live tail) after the chunks
    this.chunk = null;
  }

  append(el) {
    if (!this.chunk || this.chunk.childElementCount >= CHUNK) {
      this.chunk?.classList.add("chunk-done");
      this.chunk = document.createElement("div");
      this.chunk.className = "chunk";
      this.parent.insertBefore(this.chunk, this.before);
    }
    this.chunk.append(el);
    return el;
  }

  get last() {
    return this.chunk?.lastElementChild ?? null;
  }
}
