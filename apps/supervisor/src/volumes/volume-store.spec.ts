import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { InvalidVolumeFilterError, InvalidVolumeNameError, UnknownVolumeDriverError, VolumeInUseError, VolumeNotFoundError, VolumeOptionsError } from './errors';
import { Volumes } from './volume-store';

let dir: string;
let events: { topic: string; subjectId: string }[];
let used: Record<string, string[]>;
let vols: Volumes;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-vols-'));
  events = [];
  used = {};
  vols = new Volumes({ stateDir: dir, events: { publish: (e) => events.push({ topic: e.topic, subjectId: e.subjectId }) }, users: (n) => used[n] ?? [] });
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

it('creates named and anonymous volumes; an existing name is returned as it is', () => {
  const a = vols.create({ name: 'data', labels: { k: 'v' } });
  expect(a.created).toBe(true);
  expect(a.volume).toMatchObject({ name: 'data', driver: 'local', anonymous: false, labels: { k: 'v' }, mountpoint: path.join(dir, 'volumes/data/_data') });
  expect(fs.statSync(a.volume.mountpoint).isDirectory()).toBe(true);
  const again = vols.create({ name: 'data', labels: { other: '1' } });
  expect(again.created).toBe(false);
  expect(again.volume.labels).toEqual({ k: 'v' });
  const anon = vols.create({});
  expect(anon.volume.name).toMatch(/^[0-9a-f]{64}$/);
  expect(anon.volume.anonymous).toBe(true);
  expect(events).toEqual([{ topic: 'volume.create', subjectId: 'data' }, { topic: 'volume.create', subjectId: anon.volume.name }]);
});

it('refuses bad names, drivers and options, leaving nothing', () => {
  for (const n of ['a', '-x', 'a/b', '../x', 'a b', 'a'.repeat(256)]) expect(() => vols.create({ name: n })).toThrow(InvalidVolumeNameError);
  expect(vols.create({ name: 'b'.repeat(255) }).volume.name).toHaveLength(255);
  vols.remove('b'.repeat(255));
  // A name no volume can have is simply not found (it found ENAMETOOLONG as INTERNAL once: the fuzz test).
  expect(() => vols.inspect('a'.repeat(5000))).toThrow(VolumeNotFoundError);
  expect(() => vols.remove('a'.repeat(5000))).toThrow(VolumeNotFoundError);
  expect(() => vols.create({ name: 'ok', driver: 'nfs' })).toThrow(UnknownVolumeDriverError);
  expect(() => vols.create({ name: 'ok', driverOpts: { type: 'tmpfs' } })).toThrow(VolumeOptionsError);
  expect(fs.readdirSync(path.join(dir, 'volumes'))).toEqual([]);
});

it('lists with filters, sized', () => {
  vols.create({ name: 'alpha', labels: { tier: 'db', x: '' } });
  vols.create({ name: 'beta', labels: { tier: 'web' } });
  fs.writeFileSync(path.join(vols.mountpoint('beta'), 'f'), Buffer.alloc(1234));
  used.alpha = ['c1'];
  expect(vols.list().map((v) => [v.name, v.size, v.containers])).toEqual([['alpha', 0, ['c1']], ['beta', 1234, []]]);
  expect(vols.list({ dangling: 'true' }).map((v) => v.name)).toEqual(['beta']);
  expect(vols.list({ dangling: 'false' }).map((v) => v.name)).toEqual(['alpha']);
  expect(vols.list({ names: ['et'] }).map((v) => v.name)).toEqual(['beta']);
  expect(vols.list({ labels: ['tier=db'] }).map((v) => v.name)).toEqual(['alpha']);
  expect(vols.list({ labels: ['tier'] }).map((v) => v.name)).toEqual(['alpha', 'beta']);
  expect(() => vols.list({ dangling: 'maybe' })).toThrow(InvalidVolumeFilterError);
});

it('removes, refusing a volume in use; force ignores a missing one', () => {
  vols.create({ name: 'keep' });
  used.keep = ['0123456789abcdef'];
  expect(() => vols.remove('keep')).toThrow(VolumeInUseError);
  expect(() => vols.remove('keep')).toThrow(/0123456789ab/);
  used.keep = [];
  vols.remove('keep');
  expect(fs.readdirSync(path.join(dir, 'volumes'))).toEqual([]);
  expect(() => vols.remove('keep')).toThrow(VolumeNotFoundError);
  vols.remove('keep', true);
  expect(events.at(-1)).toEqual({ topic: 'volume.destroy', subjectId: 'keep' });
});

it('prunes unused anonymous volumes, named ones too with all', () => {
  const anon = vols.create({}).volume.name;
  const busy = vols.create({}).volume.name;
  vols.create({ name: 'named' });
  used[busy] = ['c'];
  fs.writeFileSync(path.join(vols.mountpoint(anon), 'f'), Buffer.alloc(100));
  expect(vols.prune()).toEqual({ deleted: [anon], reclaimed: 100 });
  expect(vols.prune(true)).toEqual({ deleted: ['named'], reclaimed: 0 });
  expect(vols.list().map((v) => v.name)).toEqual([busy]);
});

it('clears a create or remove cut short at open', () => {
  fs.mkdirSync(path.join(dir, 'volumes/half/_data'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'volumes/.removing-x-1234/_data'), { recursive: true });
  vols.create({ name: 'whole' });
  const again = new Volumes({ stateDir: dir });
  expect(fs.readdirSync(path.join(dir, 'volumes'))).toEqual(['whole']);
  expect(again.list().map((v) => v.name)).toEqual(['whole']);
});
