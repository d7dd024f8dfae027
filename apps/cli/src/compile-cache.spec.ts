import * as fs from 'node:fs';
import Module = require('node:module');
import * as os from 'node:os';
import * as path from 'node:path';
import { installCompileCache, packFile } from './compile-cache';

describe('compile cache', () => {
  let dir: string;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-cc-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** Loads `file` through Node's own loader (jest's require would bypass it), fresh each time. */
  function load(file: string): unknown {
    const m = new (Module as unknown as new (id: string) => { load(f: string): void; exports: unknown })(file);
    m.load(file);
    return m.exports;
  }

  it('serves a module from the pack the previous run wrote, and never stale code for a changed file', () => {
    const mod = path.join(dir, 'm.js');
    fs.writeFileSync(mod, 'exports.value = 1; exports.dir = __dirname; exports.req = typeof require.resolve;');
    const cacheDir = path.join(dir, 'cache');

    let cc = installCompileCache(cacheDir);
    try {
      expect(load(mod)).toEqual({ value: 1, dir, req: 'function' });
      expect(cc.stats()).toEqual({ hits: 0, misses: 1 });
      cc.flush();
    } finally {
      cc.uninstall();
    }
    expect(fs.existsSync(packFile(cacheDir))).toBe(true);

    cc = installCompileCache(cacheDir);
    try {
      expect(load(mod)).toEqual({ value: 1, dir, req: 'function' });
      expect(cc.stats()).toEqual({ hits: 1, misses: 0 });
      // Same length, other code: V8 alone would take the old data; the content key does not.
      fs.writeFileSync(mod, 'exports.value = 2; exports.dir = __dirname; exports.req = typeof require.resolve;');
      expect(load(mod)).toEqual({ value: 2, dir, req: 'function' });
      expect(cc.stats()).toEqual({ hits: 1, misses: 1 });
    } finally {
      cc.uninstall();
    }
  });

  it('runs without a cache when the pack is garbage or the directory cannot be written', () => {
    const mod = path.join(dir, 'm.js');
    fs.writeFileSync(mod, 'module.exports = 42;');
    const cacheDir = path.join(dir, 'cache');
    fs.mkdirSync(cacheDir);
    fs.writeFileSync(packFile(cacheDir), 'not a pack');
    const blocked = path.join(dir, 'file-not-dir');
    fs.writeFileSync(blocked, '');
    for (const d of [cacheDir, path.join(blocked, 'cache')]) {
      const cc = installCompileCache(d);
      try {
        expect(load(mod)).toBe(42);
        expect(cc.stats()).toEqual({ hits: 0, misses: 1 });
        expect(() => cc.flush()).not.toThrow();
      } finally {
        cc.uninstall();
      }
    }
  });
});
