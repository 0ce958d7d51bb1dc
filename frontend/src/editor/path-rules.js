// The server's rules for a file's path (playground/pathrules.py, and
// persistence/files.py until that lands), mirrored so the page refuses a name
// before saving it. Pure. tests/test_path_rules.py runs these over the same
// cases as the server's and checks that the page never accepts a path the
// server refuses.

export const MAX_PATH = 200; // playground/protocol/client.py
export const MAX_FILES = 50;

// Marks, embeddings, overrides and isolates: they can make a name look like another.
const BIDI = new Set(["\u200e", "\u200f", "\u061c", "\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"]);
const DEVICES = new Set([
  "con", "prn", "aux", "nul", "conin$", "conout$",
  ...["com", "lpt"].flatMap((name) => [..."123456789¹²³"].map((n) => `${name}${n}`)),
]);

const q = (s) => `'${s}'`;

// → why `path` cannot name a file, or null.
export function pathProblem(path) {
  if (typeof path !== "string" || !path) return "A file path is empty; give every file a name.";
  if (path.length > MAX_PATH) return `Path ${q(path.slice(0, 40))}… is over ${MAX_PATH} characters; shorten it.`;
  if (path.includes("\\")) return `Path ${q(path)} contains a backslash; use / between folders.`;
  for (const ch of path) {
    const code = ch.codePointAt(0);
    if (code < 32 || (code >= 127 && code < 160)) return `Path ${q(path)} contains a control character (or NUL); remove it.`;
    if (BIDI.has(ch)) return `Path ${q(path)} contains a text-direction control character, which can make a name look like another; remove it.`;
  }
  if (path.startsWith("/")) return `Path ${q(path)} is absolute; make it relative to the project.`;
  if (/^[A-Za-z]:/.test(path)) return `Path ${q(path)} starts with a drive letter; make it relative.`;
  for (const part of path.split("/")) {
    if (part === "" || part === "." || part === "..") return `Path ${q(path)} has an empty, '.' or '..' segment; files must stay inside the project.`;
    if (part.endsWith(".") || part.endsWith(" ")) return `Path ${q(path)} has a name ending in a dot or a space; remove it.`;
    if (DEVICES.has(part.split(".")[0].trimEnd().toLowerCase())) return `Path ${q(path)} uses ${q(part)}, a reserved device name on Windows; rename it.`;
  }
  return null;
}

// → why these paths cannot live side by side, or null.
export function collisionProblem(paths) {
  const seen = new Map(); // lower case → path
  for (const path of paths) {
    const key = path.toLowerCase();
    if (seen.has(key) && seen.get(key) !== path) {
      return `Paths ${q(seen.get(key))} and ${q(path)} differ only in case, which is one file on macOS and Windows; rename one.`;
    }
    seen.set(key, path);
  }
  for (const [key, path] of seen) {
    const parts = key.split("/");
    for (let n = 1; n < parts.length; n++) {
      const folder = parts.slice(0, n).join("/");
      if (seen.has(folder)) return `${q(seen.get(folder))} is a file and also a folder of ${q(path)}; rename one.`;
    }
  }
  return null;
}

// → why `path` cannot join (or, renaming `from`, replace it in) the file set `paths`, or null.
export function newPathProblem(path, paths, from = null) {
  const own = pathProblem(path);
  if (own) return own;
  const others = paths.filter((p) => p !== from);
  if (others.includes(path)) return `There is already a file named ${q(path)}.`;
  if (!from && others.length >= MAX_FILES) return `A playground holds at most ${MAX_FILES} files; remove one first.`;
  return collisionProblem([...others, path]);
}
