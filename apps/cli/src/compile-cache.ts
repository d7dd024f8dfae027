// A V8 code cache for the CLI's own start-up. Every `berth` run loads ~420 CommonJS modules (grpc-js, the
// generated API, commander); compiling them is a large part of a short verb's time. Node 22 has
// module.enableCompileCache(); Node 20 does not, so this does the same with vm.Script's cachedData: the code
// V8 compiled in one run is written to one pack file at exit and handed back to V8 in the next.
//
// Safe by construction: an entry is keyed by the SHA-1 of the file name and its source text (and the pack by
// the Node version and architecture), V8 itself rejects data from another V8 or other flags, and any error
// while reading or writing the cache only means running without it.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import Module = require('node:module');
import * as path from 'node:path';
import * as vm from 'node:vm';

interface InternalModule {
  exports: unknown;
  filename: string;
  require(id: string): unknown;
}

interface ModuleStatics {
  prototype: { _compile(content: string, filename: string): unknown };
  wrap(content: string): string;
  _resolveFilename(request: string, parent: unknown, isMain: boolean, options?: unknown): string;
  _resolveLookupPaths(request: string, parent: unknown): string[] | null;
  _extensions: unknown;
  _cache: unknown;
}

/** A pack bigger than this is rewritten with the entries of the current run only. */
const MAX_PACK_BYTES = 24 * 1024 * 1024;

/** Pack layout: u32 header length, JSON header {entries: [key, offset, length][]}, then the blobs. */
function readPack(file: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch {
    return out;
  }
  try {
    const hlen = buf.readUInt32LE(0);
    const header = JSON.parse(buf.subarray(4, 4 + hlen).toString('utf8')) as { entries: [string, number, number][] };
    const base = 4 + hlen;
    for (const [key, off, len] of header.entries) {
      if (base + off + len <= buf.length) out.set(key, buf.subarray(base + off, base + off + len));
    }
  } catch {
    out.clear();
  }
  return out;
}

function writePack(file: string, entries: Map<string, Buffer>): void {
  const list: [string, number, number][] = [];
  const blobs: Buffer[] = [];
  let off = 0;
  for (const [key, data] of entries) {
    list.push([key, off, data.length]);
    blobs.push(data);
    off += data.length;
  }
  const header = Buffer.from(JSON.stringify({ entries: list }));
  const len = Buffer.alloc(4);
  len.writeUInt32LE(header.length, 0);
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  // Concurrent runs each write a whole pack; the rename makes the last one win, never a torn file.
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, Buffer.concat([len, header, ...blobs]), { mode: 0o600 });
  fs.renameSync(tmp, file);
}

/**
 * The pack file for this Node and these V8 flags: V8 refuses data made with other flags (--cpu-prof, say),
 * and one pack per flag set keeps such runs from rewriting the everyday pack.
 */
export function packFile(dir: string): string {
  const flags = crypto.createHash('sha1').update(process.execArgv.join('\0')).update('\0').update(process.env.NODE_OPTIONS ?? '').digest('hex').slice(0, 8);
  return path.join(dir, `v8-${process.version}-${process.arch}-${flags}.pack`);
}

export interface CompileCache {
  /** Modules served from the pack, and compiled anew (missing, changed or refused by V8). */
  stats(): { hits: number; misses: number };
  /** Writes the pack when something was compiled anew (done at process exit). */
  flush(): void;
  /** Puts Node's own compile back (tests). */
  uninstall(): void;
}

let active: CompileCache | undefined;

/** Serves module compilation from the pack in `dir` and writes what was compiled anew at exit. */
export function installCompileCache(dir: string): CompileCache {
  if (active) return active;
  const file = packFile(dir);
  const old = readPack(file);
  const used = new Map<string, Buffer>();
  let fresh: [string, vm.Script][] = [];
  let hits = 0;
  let misses = 0;
  const M = Module as unknown as ModuleStatics;
  const original = M.prototype._compile;

  M.prototype._compile = function compileCached(this: InternalModule, content: string, filename: string): unknown {
    // A hashbang line is not valid inside the module wrapper: leave such files to Node.
    if (content.startsWith('#!')) return original.call(this, content, filename);
    const key = crypto.createHash('sha1').update(filename).update('\0').update(content).digest('hex');
    const cachedData = old.get(key);
    const script = new vm.Script(M.wrap(content), { filename, ...(cachedData ? { cachedData } : {}) });
    if (cachedData && !script.cachedDataRejected) {
      used.set(key, cachedData);
      hits++;
    } else {
      fresh.push([key, script]);
      misses++;
    }
    const fn = script.runInThisContext({ displayErrors: true }) as (...a: unknown[]) => unknown;
    // The `require` Node gives a module (makeRequireFunction is internal).
    const mod = this;
    const req = ((id: string) => mod.require(id)) as NodeJS.Require;
    const resolve = ((request: string, options?: unknown) => M._resolveFilename(request, mod, false, options)) as NodeJS.RequireResolve;
    resolve.paths = (request: string) => M._resolveLookupPaths(request, mod);
    req.resolve = resolve;
    req.main = require.main;
    req.extensions = M._extensions as NodeJS.RequireExtensions;
    req.cache = M._cache as NodeJS.Dict<NodeModule>;
    return fn.call(mod.exports, mod.exports, req, mod, filename, path.dirname(filename));
  };

  const flush = () => {
    if (fresh.length === 0) return;
    try {
      // At exit the data also holds the functions V8 compiled lazily while this run used them.
      for (const [key, script] of fresh) used.set(key, script.createCachedData());
      fresh = [];
      let size = 0;
      for (const b of used.values()) size += b.length;
      for (const [key, b] of old) {
        if (used.has(key) || size + b.length > MAX_PACK_BYTES) continue;
        used.set(key, b);
        size += b.length;
      }
      writePack(file, used);
    } catch {
      // A read-only or full disk: the next run compiles again.
    }
  };
  process.once('exit', flush);
  active = {
    stats: () => ({ hits, misses }),
    flush,
    uninstall: () => {
      M.prototype._compile = original;
      process.off('exit', flush);
      active = undefined;
    },
  };
  return active;
}
