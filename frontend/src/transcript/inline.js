// Inline markdown for one line of prose: `code`, **bold**, *emphasis*.
// Built as DOM nodes (never innerHTML): the model's text is untrusted.

const INLINE = /(`+)([^`]+?)\1|\*\*([^*]+?)\*\*|(?<![*\w])\*([^*\s][^*]*?)\*(?![*\w])/g;

// Pure: a line → its pieces, strings (plain text) and {tag, text} with tag
// "code", "strong" or "em".
export function inlineTokens(text) {
  const out = [];
  let last = 0;
  for (const m of text.matchAll(INLINE)) {
    if (m.index > last) out.push(text.slice(last, m.index));
    const [tag, inner] = m[2] !== undefined ? ["code", m[2]] : m[3] !== undefined ? ["strong", m[3]] : ["em", m[4]];
    out.push({ tag, text: inner });
    last = m.index + m[0].length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

export function renderInline(parent, text) {
  for (const token of inlineTokens(text)) {
    if (typeof token === "string") {
      parent.append(token);
      continue;
    }
    const el = document.createElement(token.tag);
    el.textContent = token.text;
    parent.append(el);
  }
}
