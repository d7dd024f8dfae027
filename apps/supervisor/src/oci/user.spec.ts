import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { resolveUser } from './user';

describe('resolveUser', () => {
  let root: string;
  let outside: string;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-user-'));
    outside = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-host-'));
    fs.mkdirSync(path.join(root, 'etc'));
    fs.writeFileSync(path.join(root, 'etc/group'), 'root:x:0:\ndaemon:x:1:app\nstaff:x:50:\n');
  });
  afterEach(() => {
    fs.rmSync(root, { recursive: true, force: true });
    fs.rmSync(outside, { recursive: true, force: true });
  });

  it('adds --group-add groups by name and number to the user\'s own', () => {
    fs.writeFileSync(path.join(root, 'etc/passwd'), 'app:x:1000:1000::/home/app:/bin/sh\n');
    expect(resolveUser('app', root, ['staff', '7'])).toEqual({ uid: 1000, gid: 1000, additionalGids: [1, 50, 7] });
    expect(resolveUser('', root, ['daemon'])).toEqual({ uid: 0, gid: 0, additionalGids: [1] });
    expect(() => resolveUser('', root, ['wheel'])).toThrow(/unable to find group wheel \(--group-add\)/);
  });

  it('reads /etc/passwd inside the rootfs when the image links it to an absolute or ../ path', () => {
    // The host file a link would reach if followed on the host.
    fs.writeFileSync(path.join(outside, 'passwd'), 'hostonly:x:4242:4242::/:/bin/sh\n');
    fs.symlinkSync(path.join(outside, 'passwd'), path.join(root, 'etc/passwd'));
    expect(() => resolveUser('hostonly', root)).toThrow(/unable to find user hostonly/);
    fs.rmSync(path.join(root, 'etc/passwd'));
    fs.symlinkSync(`../../../../../..${outside}/passwd`, path.join(root, 'etc/passwd'));
    expect(() => resolveUser('hostonly', root)).toThrow(/unable to find user hostonly/);
    // The same path inside the rootfs is what counts.
    fs.mkdirSync(path.join(root, outside), { recursive: true });
    fs.writeFileSync(path.join(root, outside, 'passwd'), 'hostonly:x:7:7::/:/bin/sh\n');
    expect(resolveUser('hostonly', root)).toMatchObject({ uid: 7, gid: 7 });
  });
});
