// The smallest single replacement that turns `old` into `text`: the common
// start and end are kept. Offsets are JavaScript string indices (UTF-16), the
// unit of CodeMirror and of every text position on the wire. Pure.

export function smallestChange(old, text) {
  let from = 0;
  const max = Math.min(old.length, text.length);
  while (from < max && old.charCodeAt(from) === text.charCodeAt(from)) from++;
  let endOld = old.length;
  let endNew = text.length;
  while (endOld > from && endNew > from && old.charCodeAt(endOld - 1) === text.charCodeAt(endNew - 1)) {
    endOld--;
    endNew--;
  }
  // Never split a surrogate pair: widen the change by one unit on either side.
  if (from > 0 && isHigh(old.charCodeAt(from - 1))) from--;
  if (endOld < old.length && isLow(old.charCodeAt(endOld))) {
    endOld++;
    endNew++;
  }
  return { from, to: endOld, insert: text.slice(from, endNew) };
}

const isHigh = (c) => c >= 0xd800 && c <= 0xdbff;
const isLow = (c) => c >= 0xdc00 && c <= 0xdfff;
