import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { mkdirInRoot, resolveInRoot } from './in-root';

let root: string;
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-inroot-'));
  fs.mkdirSync(path.join(root, 'etc'));
  fs.mkdirSync(path.join(root, 'a/b'), { recursive: true });
  fs.symlinkSync('/', path.join(root, 'toroot'));
  fs.symlinkSync('../../../../..', path.join(root, 'a/up'));
  fs.symlinkSync('/etc', path.join(root, 'etclink'));
  fs.symlinkSync('loop', path.join(root, 'loop'));
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

describe('resolveInRoot', () => {
  it('follows links as the container sees them, never above the root', () => {
    expect(resolveInRoot(root, '/etclink')).toBe(path.join(root, 'etc'));
    expect(resolveInRoot(root, '/toroot/etc')).toBe(path.join(root, 'etc'));
    expect(resolveInRoot(root, '/a/up/etc')).toBe(path.join(root, 'etc'));
    expect(resolveInRoot(root, '/../../etc')).toBe(path.join(root, 'etc'));
    expect(resolveInRoot(root, '/a/b')).toBe(path.join(root, 'a/b'));
  });
  it('gives undefined for a missing part or a link loop', () => {
    expect(resolveInRoot(root, '/nope/x')).toBeUndefined();
    expect(resolveInRoot(root, '/loop')).toBeUndefined();
  });
});

describe('mkdirInRoot', () => {
  it('makes the missing parts inside the root, through links', () => {
    expect(mkdirInRoot(root, '/toroot/srv/data')).toBe(path.join(root, 'srv/data'));
    expect(fs.statSync(path.join(root, 'srv/data')).isDirectory()).toBe(true);
    expect(mkdirInRoot(root, '/a/up/tmp/x')).toBe(path.join(root, 'tmp/x'));
  });
  it('refuses a file in the way', () => {
    fs.writeFileSync(path.join(root, 'file'), '');
    expect(mkdirInRoot(root, '/file/x')).toBeUndefined();
  });
});
