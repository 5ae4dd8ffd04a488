#!/usr/bin/env node
// Compiles the TypeScript sources that run in worker processes (src/ and scripts/) to plain
// JavaScript under .build/js/, file by file (esbuild, no bundling, no type check: `npm run
// typecheck` does that). Workers run the JavaScript with plain node: no tsx loader thread,
// no source-map support switched on for every compiled function (the workflow sandbox
// compiles one per promise), measured in BENCHMARKS.md ("Orchestration cost").
//
// Skipped when .build/js was compiled from the same sources (a fingerprint of every file
// under src/ and scripts/ and of the lockfile), so it costs milliseconds before each start.
// A deployment whose files are read-only runs `npm run build` when it builds its image.
//
//   npm run build
import { createRequire } from 'node:module';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { filesUnder, fingerprint } from '../src/node/fingerprint.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
/** Where the JavaScript goes (ignored by git); relative paths inside are those of the sources. */
export const JS_DIR = join(ROOT, '.build', 'js');
const SOURCES = ['src', 'scripts'];

/** The compiled copy of `script` (a .ts path relative to the project root). */
export function compiledPath(script) {
  return join(JS_DIR, script.replace(/\.ts$/, '.js'));
}

/**
 * Compiles src/ and scripts/ into .build/js unless it is up to date. Synchronous, so a
 * process can call it right before it spawns a worker. Returns true when it compiled.
 */
export function compile() {
  const files = SOURCES.flatMap((d) => filesUnder(join(ROOT, d)));
  const stamp = fingerprint(ROOT, files);
  const stampFile = join(JS_DIR, '.fingerprint');
  if (existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp) return false;
  const { buildSync } = createRequire(import.meta.url)('esbuild');
  // A fresh folder next to the old one, swapped in at the end: a worker starting meanwhile
  // never sees half a tree.
  const tmp = `${JS_DIR}.${process.pid}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  buildSync({
    entryPoints: files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')),
    outdir: tmp,
    outbase: ROOT,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    bundle: false,
    sourcemap: false,
    logLevel: 'error',
  });
  // Plain-JavaScript modules of src/ go as they are (src/node/fingerprint.mjs).
  for (const f of files.filter((f) => f.startsWith(join(ROOT, 'src')) && f.endsWith('.mjs'))) {
    const to = join(tmp, relative(ROOT, f));
    mkdirSync(dirname(to), { recursive: true });
    copyFileSync(f, to);
  }
  writeFileSync(join(tmp, '.fingerprint'), stamp);
  const old = `${JS_DIR}.${process.pid}.old`;
  try {
    if (existsSync(JS_DIR)) renameSync(JS_DIR, old);
    renameSync(tmp, JS_DIR);
  } catch (err) {
    // Another process compiled the same sources at the same moment: theirs is as good.
    rmSync(tmp, { recursive: true, force: true });
    if (!(existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp)) throw err;
  }
  rmSync(old, { recursive: true, force: true });
  return true;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    const built = compile();
    if (!process.argv.includes('--quiet'))
      console.log(built ? `compiled src/ and scripts/ into ${JS_DIR}` : `${JS_DIR} is up to date`);
  } catch (err) {
    console.error(`[build] ERROR: compiling src/ and scripts/ failed: ${err.message}`);
    process.exit(1);
  }
}
