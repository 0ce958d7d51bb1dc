// Build the playground bundle into ../static/flint/ (committed, so running
// Flint needs no Node): app.js (ESM, minified) + app.css.
//   npm run build         one build (no sourcemap: the committed bundle stays small)
//   npm run watch         rebuild on change, with linked sourcemaps for debugging

import * as esbuild from "esbuild";

const watch = process.argv.includes("--watch");
const options = {
  entryPoints: { app: "src/main.js" },
  outdir: "../static/flint",
  bundle: true,
  format: "esm",
  target: ["es2022", "chrome110", "firefox115", "safari16"],
  minify: true,
  sourcemap: watch ? "linked" : false,
  legalComments: "eof",
  metafile: true,
  logLevel: "info",
};

if (watch) {
  const ctx = await esbuild.context(options);
  await ctx.watch();
} else {
  const result = await esbuild.build(options);
  const sizes = Object.entries(result.metafile.outputs)
    .filter(([file]) => !file.endsWith(".map"))
    .map(([file, { bytes }]) => `${file.replace(/^.*\//, "")} ${(bytes / 1024).toFixed(1)} kB`);
  console.log(sizes.join(", "));
}
