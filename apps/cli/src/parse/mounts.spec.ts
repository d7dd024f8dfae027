import { UsageError } from '../cli-error';
import { parseMount, parseTmpfs } from './mounts';

describe('parseMount (--mount)', () => {
  it("reads docker's keys and aliases", () => {
    expect(parseMount('type=bind,source=/h,target=/c,readonly')).toMatchObject({ type: 'bind', source: '/h', destination: '/c', readOnly: true });
    expect(parseMount('src=data,dst=/d,volume-nocopy')).toMatchObject({ type: 'volume', source: 'data', destination: '/d', noCopy: true, readOnly: false });
    expect(parseMount('type=volume,destination=/d,ro=false')).toMatchObject({ type: 'volume', source: '', destination: '/d', readOnly: false });
    expect(parseMount('type=tmpfs,target=/t,tmpfs-size=64m,tmpfs-mode=1770')).toMatchObject({ type: 'tmpfs', destination: '/t', tmpfsSize: 64 * 1024 ** 2, tmpfsMode: 0o1770 });
  });
  it.each([
    ['type=nfs,target=/x', /unknown type "nfs"/],
    ['source=data', /target is required/],
    ['target=rel', /target "rel" must be an absolute path/],
    ['type=bind,target=/x', /a bind mount needs a source/],
    ['type=bind,source=rel,target=/x', /bind source "rel"/],
    ['type=tmpfs,source=x,target=/x', /takes no source/],
    ['target=/x,tmpfs-size=1m', /tmpfs options are for type=tmpfs/],
    ['type=tmpfs,target=/x,tmpfs-size=huge', /tmpfs-size "huge"/],
    ['type=tmpfs,target=/x,tmpfs-mode=999', /invalid mode "999"/],
    ['target=/x,readonly=maybe', /readonly takes true or false/],
    ['target=/x,colour=red', /unknown option "colour"/],
    ['src=a/b,target=/x', /invalid volume name "a\/b"/],
  ])('refuses %s, naming the flag and value', (v, re) => {
    expect(() => parseMount(v)).toThrow(UsageError);
    expect(() => parseMount(v)).toThrow(re);
    expect(() => parseMount(v)).toThrow(`invalid argument "${v}" for "--mount" flag`);
  });
});

describe('parseTmpfs (--tmpfs)', () => {
  it('takes size and mode into fields, keeps the other options', () => {
    expect(parseTmpfs('/run')).toMatchObject({ type: 'tmpfs', destination: '/run', tmpfsSize: 0, tmpfsOptions: [] });
    expect(parseTmpfs('/run:rw,size=64k,mode=700,exec,uid=1000')).toMatchObject({ tmpfsSize: 65536, tmpfsMode: 0o700, tmpfsOptions: ['rw', 'exec', 'uid=1000'] });
  });
  it.each([
    ['run', /destination "run" must be an absolute path/],
    ['/run:size=lots', /size "lots"/],
    ['/run:bogus', /unknown option "bogus"/],
  ])('refuses %s', (v, re) => {
    expect(() => parseTmpfs(v)).toThrow(re);
    expect(() => parseTmpfs(v)).toThrow(UsageError);
  });
});
