// pull and run --pull from a registry on 127.0.0.1, through the real CLI; progress bars on a real pty.
import { spawnSync } from 'node:child_process';
import { BIN, cleanContainers, startWorld, type World } from './harness';
import { startRegistry, type LocalRegistry } from './registry';

let w: World;
let reg: LocalRegistry;

beforeAll(async () => {
  w = await startWorld();
  reg = await startRegistry();
  reg.push(w.archive, 'busybox:latest');
  reg.push(w.archive, 'busybox:other');
}, 90_000);

afterEach(() => cleanContainers(w));
afterAll(async () => {
  await reg?.stop();
  await w?.teardown();
});

describe('pull', () => {
  it('pulls an image, then runs it', async () => {
    const ref = `${reg.host}/busybox:latest`;
    const r = await w.berth(['pull', '--insecure-registry', reg.host, ref]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^Digest: sha256:[0-9a-f]{64}\\nStatus: Downloaded newer image for ${reg.host}/busybox:latest\\n${reg.host}/busybox:latest\\n$`));
    expect(await w.berth(['run', '--rm', ref, 'echo', 'pulled'])).toEqual({ code: 0, stdout: 'pulled\n', stderr: '' });
    const bad = await w.berth(['pull', '--insecure', reg.host, `${reg.host}/nothere:1`]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^Error: .*nothere.*\n$/);
  });

  it('run --pull missing pulls an absent image first; --pull never (the default) refuses it', async () => {
    const ref = `${reg.host}/busybox:other`;
    const never = await w.berth(['run', '--rm', ref, 'true']);
    expect(never).toEqual({ code: 125, stdout: '', stderr: `Error: no such image: ${ref} (load it with "berth load -i FILE" or pull it)\n` });
    // A registry on 127.0.0.1 is reached over plain HTTP without --insecure, as docker does.
    const r = await w.berth(['run', '--rm', '--pull', 'missing', ref, 'echo', 'fresh']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('fresh\n');
  });

  it('shows one progress line per blob on a terminal', () => {
    const ref = `${reg.host}/busybox:latest`;
    const p = spawnSync('script', ['-eqfc', `${BIN} pull ${ref}`, '/dev/null'], { env: w.env, encoding: 'utf8', timeout: 30_000 });
    expect(p.status).toBe(0);
    expect(p.stdout).toMatch(/[0-9a-f]{12}: (Pull complete|Already exists)/);
  });
});
