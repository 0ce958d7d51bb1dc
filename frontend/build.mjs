// Build the playground bundle into ../static/flint/ (committed, so running
// Flint needs no Node):
//   app.js + app.css     the playground page (ESM, minified)
//   preview-frame.js     the preview frame's bootstrap (IIFE; served by /preview/frame)
//   py-worker.js         the Python worker (module worker; loads Pyodide at run time)
// and copies Pyodide's runtime (from the pinned npm package) into ../static/pyodide/.
//   npm run build         one build (no sourcemap: the committed bundle stays small)
//   npm run watch         rebuild on change, with linked sourcemaps for debugging

import * as esbuild from "esbuild";
import { copyFileSync, mkdirSync, readFileSync } from "node:fs";

const watch = process.argv.includes("--watch");
const common = {
  outdir: "../static/flint",
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

// Pyodide's runtime, served by Flint itself (no CDN). Source maps are left out.
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
  for (const file of PYODIDE_FILES) copyFileSync(`${from}/${file}`, `${to}/${file}`);
  const { version } = JSON.parse(readFileSync(`${from}/package.json`, "utf8"));
  console.log(`pyodide ${version} → static/pyodide/`);
}

copyPyodide();
if (watch) {
  for (const options of builds) await (await esbuild.context(options)).watch();
} else {
  for (const options of builds) {
    const result = await esbuild.build(options);
    const sizes = Object.entries(result.metafile.outputs)
      .filter(([file]) => !file.endsWith(".map"))
      .map(([file, { bytes }]) => `${file.replace(/^.*\//, "")} ${(bytes / 1024).toFixed(1)} kB`);
    console.log(sizes.join(", "));
  }
}
