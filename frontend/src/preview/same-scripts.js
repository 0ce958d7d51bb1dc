// Same scripts (so the live document can be updated in place)? Shared by the
// app (preview.js) and the frame (preview-frame.js), which must agree. Pure.

export function sameScripts(a, b) {
  return a.length === b.length && a.every((s, i) => s.code === b[i].code && s.type === b[i].type);
}
