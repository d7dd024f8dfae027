// The seed story through the real CLI binary against the real services: load, run, exit codes, --rm.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BIN, cleanContainers, startWorld, until, type World } from './harness';

let w: World;

beforeAll(async () => {
  w = await startWorld();
  const load = await w.berth(['load', '-i', w.archive]);
  expect(load).toMatchObject({ code: 0, stderr: '' });
  expect(load.stdout).toContain('Loaded image: busybox:latest');
}, 60_000);

afterEach(() => cleanContainers(w));
afterAll(() => w?.teardown());

describe('berth version', () => {
  it('shows the client version and every service as SERVING at its socket', async () => {
    const r = await w.berth(['version']);
    expect(r.code).toBe(0);
    for (const s of ['image-store', 'rootfs', 'supervisor', 'inspector']) {
      expect(r.stdout).toMatch(new RegExp(`^ ${s}\\s+unix://${w.runDir}/${s}\\.sock\\s+SERVING$`, 'm'));
    }
    expect(r.stdout).toMatch(/^ Version:\s+0\.1\.0$/m);
  });
});

describe('berth run', () => {
  it('run --rm busybox echo hi prints hi, exits 0 and leaves no container or snapshot', async () => {
    const r = await w.berth(['run', '--rm', 'busybox', 'echo', 'hi']);
    expect(r).toEqual({ code: 0, stdout: 'hi\n', stderr: '' });
  });

  it('--cidfile gets the id (and refuses a file that exists, making nothing); --label-file labels, --label wins', async () => {
    const dir = fs.mkdtempSync(path.join(w.root, 'cid-'));
    const cid = path.join(dir, 'cid');
    const labels = path.join(dir, 'labels');
    fs.writeFileSync(labels, '# team labels\ntier=db\n\nowner=ops\n');
    const r = await w.berth(['run', '-d', '--cidfile', cid, '--label-file', labels, '-l', 'owner=me', 'busybox', 'sleep', '1000']);
    expect(r.code).toBe(0);
    expect(fs.readFileSync(cid, 'utf8')).toBe(r.stdout.trim());
    expect(JSON.parse((await w.berth(['inspect', '-f', '{{json .Config.Labels}}', r.stdout.trim()])).stdout)).toEqual({ tier: 'db', owner: 'me' });
    const again = await w.berth(['create', '--cidfile', cid, 'busybox', 'true']);
    expect(again).toEqual({ code: 125, stdout: '', stderr: `Error: Container ID file found, make sure the other container isn't running or delete ${cid}\n` });
    expect((await w.berth(['ps', '-aq'])).stdout.trim().split('\n')).toHaveLength(1);
    expect((await w.berth(['run', '--rm', '--label-file', path.join(dir, 'none'), 'busybox', 'true'])).stderr).toBe(`Error: cannot read label file ${path.join(dir, 'none')}: ENOENT\n`);
  });

  it('hands arguments beginning with - to the container command (through bin/berth, node takes none of them)', async () => {
    const r = await w.berth(['run', '--rm', 'busybox', 'sh', '-c', 'echo "$0|$*"', '--version', '-e', '--', '--help']);
    expect(r).toEqual({ code: 0, stdout: '--version|-e -- --help\n', stderr: '' });
  });

  it('--version exits 0 with the version on stdout only', async () => {
    expect(await w.berth(['--version'])).toEqual({ code: 0, stdout: '0.1.0\n', stderr: '' });
  });

  it("passes the container's exit code through", async () => {
    const r = await w.berth(['run', '--rm', 'busybox', 'sh', '-c', 'echo oops >&2; exit 3']);
    expect(r.code).toBe(3);
    expect(r.stderr).toBe('oops\n');
  });

  it('a command that does not exist exits 127 with one error line', async () => {
    const r = await w.berth(['run', '--rm', 'busybox', 'no-such-command']);
    expect(r.code).toBe(127);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^Error: .*no-such-command/);
  });

  it('a file that is not executable exits 126', async () => {
    const r = await w.berth(['run', '--rm', 'busybox', '/etc/passwd']);
    expect(r.code).toBe(126);
    expect(r.stderr).toMatch(/^Error: /);
  });

  it('an unknown image exits 125 with a clear message', async () => {
    const r = await w.berth(['run', '--rm', 'nosuchimage', 'true']);
    expect(r.code).toBe(125);
    expect(r.stderr).toBe('Error: no such image: nosuchimage (load it with "berth load -i FILE" or pull it)\n');
  });

  it('-i forwards stdin to the container and closes it at EOF', async () => {
    const r = await w.berth(['run', '--rm', '-i', 'busybox', 'sh', '-c', 'tr a-z A-Z'], { input: 'hello\n' });
    expect(r).toEqual({ code: 0, stdout: 'HELLO\n', stderr: '' });
  });

  it('-e, --env-file, -w, -u, --entrypoint, --hostname reach the process', async () => {
    const fs = await import('node:fs');
    const envFile = `${w.root}/env.list`;
    fs.writeFileSync(envFile, '# comment\nFROM_FILE=yes\n\n');
    const r = await w.berth(['run', '--rm', '-e', 'A=1', '--env-file', envFile, '-w', '/tmp', '-u', '1000:1000', '--hostname', 'box1',
      '--entrypoint', '/bin/sh', 'busybox', '-c', 'echo $A $FROM_FILE $(pwd) $(id -u):$(id -g) $(hostname)']);
    expect(r).toEqual({ code: 0, stdout: '1 yes /tmp 1000:1000 box1\n', stderr: '' });
  });

  it('without a TTY, ctrl-c (SIGINT) to berth run goes to the container (signal proxy)', async () => {
    const child = spawn(BIN, ['run', '--rm', 'busybox', 'sh', '-c', 'trap "echo got INT; exit 42" INT; echo ready; while true; do sleep 0.1; done'], { env: w.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      await until(() => out.includes('ready'), 15_000, 'ready');
      child.kill('SIGINT');
      expect(await exited).toBe(42);
      expect(out).toBe('ready\ngot INT\n');
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('create then start -a runs the created container and returns its exit code', async () => {
    const c = await w.berth(['create', '--name', 'later', 'busybox', 'sh', '-c', 'echo started; exit 4']);
    expect(c.code).toBe(0);
    expect(c.stdout.trim()).toMatch(/^[0-9a-f]{64}$/);
    const s = await w.berth(['start', '-a', 'later']);
    expect(s).toEqual({ code: 4, stdout: 'started\n', stderr: '' });
    // An exited container starts again, and its log keeps both runs.
    expect((await w.berth(['start', '-a', 'later'])).code).toBe(4);
    const logs = await w.berth(['logs', 'later']);
    expect(logs.stdout).toBe('started\nstarted\n');
  });
});
