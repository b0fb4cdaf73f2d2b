// Bundles src/ into dist/ (app.js, app.css, index.html). No network at build or run time.
import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import { copyFile, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import * as esbuild from "esbuild";

const outdir = new URL("./dist/", import.meta.url).pathname;
await rm(outdir, { recursive: true, force: true });
await mkdir(outdir, { recursive: true });
await esbuild.build({
  entryPoints: { app: "src/main.tsx" },
  bundle: true,
  minify: true,
  sourcemap: true,
  format: "esm",
  target: ["es2020"],
  jsx: "automatic",
  jsxImportSource: "preact",
  outdir,
  logLevel: "warning",
});
// The page names its bundle with a content hash, so a new build is never served from a stale cache.
const bundle = await readFile(`${outdir}app.js`);
const styles = await readFile(`${outdir}app.css`);
const version = createHash("sha256").update(bundle).update(styles).digest("hex").slice(0, 12);
const page = await readFile("src/index.html", "utf8");
await writeFile(`${outdir}index.html`, page.replaceAll("{{version}}", version));
await copyFile("src/favicon.svg", `${outdir}favicon.svg`);

// The API's /docs page (Swagger UI) from the same lockfile, instead of a CDN.
await mkdir(`${outdir}docs`);
for (const name of ["swagger-ui-bundle.js", "swagger-ui.css"]) {
  await copyFile(`node_modules/swagger-ui-dist/${name}`, `${outdir}docs/${name}`);
}

// Gzipped twins, served to browsers that accept them (web/routers/ui.py).
for (const name of ["app.js", "app.css", "docs/swagger-ui-bundle.js", "docs/swagger-ui.css"]) {
  await writeFile(`${outdir}${name}.gz`, gzipSync(await readFile(`${outdir}${name}`), { level: 9 }));
}
