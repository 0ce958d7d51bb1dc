// Build the playground bundle into ../static/flint/ (committed, so running
// Flint needs no Node):
//   app.js + app.css     the playground page (ESM, minified)
//   preview-frame.js     the preview frame's bootstrap (IIFE; served by /preview/frame)
//   py-worker.js         the Python worker (module worker; loads Pyodide at run time)
// and copies Pyodide's runtime (from the pinned npm package) into ../static/pyodide/.
//   npm run build         one build (no sourcemap: the committed bundle stays small),
//                         plus ../static/flint/SOURCES.sha256 (see sourcesHash)
//   npm run watch         rebuild on change, with linked sourcemaps for debugging
//                         (writes no SOURCES.sha256: watch output is not for committing)

import * as esbuild from "esbuild";
import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";

const watch = process.argv.includes("--watch");
const OUT_DIR = "../static/flint";
const common = {
  outdir: OUT_DIR,
  bundle: true,
  target: ["es2022", "chrome110", "firefox115", "safari16"],
  minify: true,
  sourcemap: watch ? "linked" : false,
  legalComments: "eof",
  metafile: true,
  logLevel: "info",
};
const builds = [
  { ...common, entryPoints: { app: "src/main.js", "py-worker": "src/python/py-worker.js" }, format: "esm" },
  { ...common, entryPoints: { "preview-frame": "src/preview/preview-frame.js" }, format: "iife" },
];

// Pyodide's runtime, served by Flint itself (no CDN). Source maps are left out
// (and so are the comments pointing at them).
const PYODIDE_FILES = [
  "pyodide.js",
  "pyodide.mjs",
  "pyodide.asm.js",
  "pyodide.asm.wasm",
  "python_stdlib.zip",
  "pyodide-lock.json",
  "package.json",
];
function copyPyodide() {
  const from = "node_modules/pyodide";
  const to = "../static/pyodide";
  mkdirSync(to, { recursive: true });
  for (const file of PYODIDE_FILES) {
    if (file.endsWith(".js") || file.endsWith(".mjs")) {
      // The maps are not shipped: drop the comments that point at them (a 404 in
      // devtools, and `collectstatic`'s manifest storage refuses a missing target).
      const text = readFileSync(`${from}/${file}`, "utf8").replace(/\n\/\/# sourceMappingURL=\S+\s*$/, "\n");
      writeFileSync(`${to}/${file}`, text);
    } else copyFileSync(`${from}/${file}`, `${to}/${file}`);
  }
  const { version } = JSON.parse(readFileSync(`${from}/package.json`, "utf8"));
  console.log(`pyodide ${version} → static/pyodide/`);
}

// What the committed bundle was built from, so a test can tell that it is
// stale (tests/test_frontend_bundle.py computes the same): SHA-256 over
// every file of src/ (recursively; names starting with "." or ending in "~"
// left out), package-lock.json and build.mjs, in the byte order of their
// paths relative to frontend/ ("/"-separated), each fed as
//   path NUL size-in-bytes NUL content.
function sourcesHash(root = ".") {
  const paths = ["build.mjs", "package-lock.json", ...listFiles(root, "src")];
  paths.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const hash = createHash("sha256");
  for (const path of paths) {
    const content = readFileSync(`${root}/${path}`);
    hash.update(`${path}\0${content.length}\0`);
    hash.update(content);
  }
  return hash.digest("hex");
}

function listFiles(root, dir) {
  const out = [];
  for (const entry of readdirSync(`${root}/${dir}`, { withFileTypes: true })) {
    if (entry.name.startsWith(".") || entry.name.endsWith("~")) continue;
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) out.push(...listFiles(root, path));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

copyPyodide();
if (watch) {
  for (const options of builds) await (await esbuild.context(options)).watch();
} else {
  const hash = sourcesHash();
  mkdirSync(OUT_DIR, { recursive: true });
  // Maps left by `npm run watch` must not be committed with this build.
  for (const file of readdirSync(OUT_DIR)) if (file.endsWith(".map")) rmSync(`${OUT_DIR}/${file}`);
  for (const options of builds) {
    const result = await esbuild.build(options);
    const sizes = Object.entries(result.metafile.outputs)
      .filter(([file]) => !file.endsWith(".map"))
      .map(([file, { bytes }]) => `${file.replace(/^.*\//, "")} ${(bytes / 1024).toFixed(1)} kB`);
    console.log(sizes.join(", "));
  }
  writeFileSync(`${OUT_DIR}/SOURCES.sha256`, `${hash}  frontend/src, package-lock.json, build.mjs\n`);
  console.log(`sources ${hash.slice(0, 12)}… → static/flint/SOURCES.sha256`);
}
