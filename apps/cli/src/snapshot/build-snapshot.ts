// Builds dist/berth.blob, the CLI's V8 startup snapshot (run by the cli project's nx build after tsc):
// 1. esbuild bundles dist/snapshot-entry.js and everything it loads into one file (a snapshot's entry can
//    only require built-ins), with http/https/http2/tls replaced by lazy stand-ins (lazy-builtin.ts);
// 2. `node --build-snapshot` runs the bundle and writes the heap to a temp file;
// 3. the blob is tried (`--version`) and only then renamed over the old one, so a failed build leaves none.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Plugin } from 'esbuild';

const DIST = path.resolve(__dirname, '..');
const ENTRY = path.join(DIST, 'snapshot-entry.js');
const BUNDLE = path.join(DIST, 'berth-snapshot.js');
export const BLOB = path.join(DIST, 'berth.blob');

/** Built-ins that cannot be in the snapshot, and what of each is read at module load (copied at bundle time). */
const LAZY: Record<string, string[]> = { http: [], https: [], http2: ['constants'], tls: [] };

function lazyBuiltins(): Plugin {
  const names = Object.keys(LAZY).join('|');
  return {
    name: 'lazy-builtins',
    setup(build) {
      build.onResolve({ filter: new RegExp(`^(node:)?(${names})$`) }, (args) =>
        args.namespace === 'lazy-builtin' ? { path: args.path, external: true } : { path: args.path.replace(/^node:/, ''), namespace: 'lazy-builtin' },
      );
      build.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, (args) => {
        const real = require(args.path) as Record<string, unknown>;
        const eager = Object.fromEntries(LAZY[args.path]!.map((k) => [k, real[k]]));
        return {
          contents: `module.exports = require(${JSON.stringify(path.join(__dirname, 'lazy-builtin.js'))}).lazyBuiltin(${JSON.stringify(args.path)}, () => require("node:${args.path}"), ${JSON.stringify(eager)});`,
          loader: 'js',
          resolveDir: __dirname,
        };
      });
    },
  };
}

function fail(what: string, detail: string): never {
  process.stderr.write(`build-snapshot: ${what}\n${detail}`);
  process.exit(1);
}

async function buildSnapshot(): Promise<void> {
  const esbuild = require('esbuild') as typeof import('esbuild');
  await esbuild.build({
    entryPoints: [ENTRY],
    outfile: BUNDLE,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    legalComments: 'none',
    // The heap keeps every module's source (functions not run at build time compile from it): without
    // whitespace the blob is 2.5 MB smaller and starts ~6 ms sooner. Names are kept, so stacks stay readable.
    minifyWhitespace: true,
    minifySyntax: true,
    logLevel: 'warning',
    plugins: [lazyBuiltins()],
    // A snapshot entry runs as a function of (require, __filename, __dirname) only; the entry is CommonJS.
    banner: { js: 'var exports = {}, module = { exports };' },
  });
  const tmp = `${BLOB}.${process.pid}.tmp`;
  // The snapshot is built without the user's environment so nothing of it can leak into the heap.
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
  const build = spawnSync(process.execPath, ['--snapshot-blob', tmp, '--build-snapshot', BUNDLE], { encoding: 'utf8', env });
  // Node warns about every built-in it has not verified in snapshots (net, child_process...); they are loaded
  // only, no handle is opened at build time. Anything else on stderr is shown.
  const stderr = build.stderr.replace(/\(node:\d+\) Warning: It's not yet fully verified whether built-in module[^\n]*\n(?:(?:It may still|To request support|\(Use `node --trace-warnings)[^\n]*\n)*/g, '');
  if (build.status !== 0) {
    fs.rmSync(tmp, { force: true });
    fail(`node --build-snapshot failed (exit ${build.status ?? build.signal})`, stderr);
  }
  if (stderr.trim()) process.stderr.write(stderr);
  const check = spawnSync(process.execPath, ['--snapshot-blob', tmp, '--', '--version'], { encoding: 'utf8', env });
  const version = (require('../../package.json') as { version: string }).version;
  if (check.status !== 0 || check.stdout !== `${version}\n` || check.stderr !== '') {
    fs.rmSync(tmp, { force: true });
    fail('the new snapshot does not run `berth --version`', `exit ${check.status}\nstdout: ${check.stdout}\nstderr: ${check.stderr}`);
  }
  fs.renameSync(tmp, BLOB);
}

if (require.main === module) {
  buildSnapshot().catch((e: unknown) => fail('bundling failed', `${(e as Error).stack ?? String(e)}\n`));
}
