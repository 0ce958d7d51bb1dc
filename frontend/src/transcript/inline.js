// Inline markdown for one line of prose: `code`, **bold**, *emphasis*.
// Built as DOM nodes (never innerHTML): the model's text is untrusted.

const INLINE = /(`+)([^`]+?)\1|\*\*([^*]+?)\*\*|(?<![*\w])\*([^*\s][^*]*?)\*(?![*\w])/g;

export function renderInline(parent, text) {
  let last = 0;
  for (const m of text.matchAll(INLINE)) {
    if (m.index > last) parent.append(text.slice(last, m.index));
    const [tag, inner] = m[2] !== undefined ? ["code", m[2]] : m[3] !== undefined ? ["strong", m[3]] : ["em", m[4]];
    const el = document.createElement(tag);
    el.textContent = inner;
    parent.append(el);
    last = m.index + m[0].length;
  }
  if (last < text.length) parent.append(text.slice(last));
}
