// push, login, logout through the real CLI against Debian's docker-registry on 127.0.0.1 (one open, one
// behind htpasswd basic auth): push, rmi, pull back, run; credentials stored docker-style and used.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BIN, cleanContainers, startWorld, type World } from './harness';
import { startRegistry, type LocalRegistry } from './registry';

jest.setTimeout(60_000);

let w: World;
let open: LocalRegistry;
let secured: LocalRegistry;
let configDir: string;

beforeAll(async () => {
  [w, open, secured] = await Promise.all([startWorld(), startRegistry(), startRegistry({ auth: { user: 'berth', password: 's3cret' } })]);
  configDir = path.join(w.root, 'cli-config');
  // Never the real ~/.config/berth.
  w.env.BERTH_CONFIG = configDir;
  expect((await w.berth(['load', '-q', '-i', w.archive])).code).toBe(0);
}, 90_000);

afterEach(() => cleanContainers(w));
afterAll(async () => {
  await open?.stop();
  await secured?.stop();
  await w?.teardown();
});

const uploads = (reg: LocalRegistry, since: number) => reg.requests().slice(since).filter((r) => /^(POST|PUT|PATCH) \S+\/blobs\//.test(r));
const configFile = () => path.join(configDir, 'config.json');

describe('push', () => {
  it('pushes an image; a second push finds every layer; rmi, pull back and run give the same image', async () => {
    const ref = `${open.host}/bb:1`;
    expect((await w.berth(['tag', 'busybox', ref])).code).toBe(0);
    const id = (await w.berth(['images', '--no-trunc', '--format', '{{.ID}}', ref])).stdout.trim();
    const r = await w.berth(['push', ref]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const m = new RegExp(`^The push refers to repository \\[${open.host}/bb\\]\\n([0-9a-f]{12}): Pushed\\n1: digest: (sha256:[0-9a-f]{64}) size: (\\d+)\\n$`).exec(r.stdout);
    expect(m).not.toBeNull();
    const digest = m![2]!;
    // The digest a user sees after push is the one the store shows.
    expect((await w.berth(['images', '--format', '{{.Digest}}', ref])).stdout.trim()).toBe(digest);
    expect(JSON.parse((await w.berth(['image', 'inspect', '--format', '{{json .RepoDigests}}', ref])).stdout)).toContain(`${open.host}/bb@${digest}`);

    const before = open.requests().length;
    const again = await w.berth(['push', ref]);
    expect(again.code).toBe(0);
    expect(again.stdout).toBe(`The push refers to repository [${open.host}/bb]\n${m![1]}: Layer already exists\n1: digest: ${digest} size: ${m![3]}\n`);
    expect(uploads(open, before)).toEqual([]);

    expect((await w.berth(['rmi', ref])).code).toBe(0);
    const pulled = await w.berth(['pull', ref]);
    expect(pulled.code).toBe(0);
    expect(pulled.stdout).toContain(`Digest: ${digest}\n`);
    expect((await w.berth(['images', '--no-trunc', '--format', '{{.ID}}', ref])).stdout.trim()).toBe(id);
    expect(await w.berth(['run', '--rm', ref, 'echo', 'round trip'])).toEqual({ code: 0, stdout: 'round trip\n', stderr: '' });
  });

  it('the same layers under another repository name are mounted, not uploaded again', async () => {
    const ref = `${open.host}/copy/bb:2`;
    expect((await w.berth(['tag', 'busybox', ref])).code).toBe(0);
    const before = open.requests().length;
    const r = await w.berth(['push', ref]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^The push refers to repository \\[${open.host}/copy/bb\\]\\n[0-9a-f]{12}: Mounted from bb\\n2: digest: sha256:[0-9a-f]{64} size: \\d+\\n$`));
    // The config is new to the registry only as a blob of this repository: mounted too; nothing is PUT.
    expect(uploads(open, before).filter((l) => l.startsWith('PUT '))).toEqual([]);
  });

  it('redraws one line per layer on a terminal', async () => {
    const ref = `${open.host}/tty/bb:1`;
    expect((await w.berth(['tag', 'busybox', ref])).code).toBe(0);
    const p = spawnSync('script', ['-eqfc', `${BIN} push ${ref}`, '/dev/null'], { env: w.env, encoding: 'utf8', timeout: 30_000 });
    expect(p.status).toBe(0);
    // Cursor-up then the line, cleared: the layer line is rewritten in place, not appended.
    expect(p.stdout).toMatch(/\x1b\[1A\x1b\[2K[0-9a-f]{12}: (Pushed|Mounted from bb)\r?\n/);
    expect(p.stdout).toMatch(/1: digest: sha256:[0-9a-f]{64} size: \d+\r?\n$/);
  });

  it('an image the store does not have: exit 1 naming it, nothing sent', async () => {
    const before = open.requests().length;
    const r = await w.berth(['push', `${open.host}/nothing:here`]);
    expect(r).toEqual({ code: 1, stdout: '', stderr: `Error: no such image: ${open.host}/nothing:here\n` });
    expect(open.requests().slice(before)).toEqual([]);
  });
});

describe('login, logout and a registry that wants credentials', () => {
  const ref = () => `${secured.host}/private/bb:v1`;

  it('push without credentials fails with a clear error', async () => {
    expect((await w.berth(['tag', 'busybox', ref()])).code).toBe(0);
    const r = await w.berth(['push', ref()]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`Error: registry ${secured.host} needs a user name and password\n`);
  });

  it('a bad password: exit 1, a clear message, nothing stored', async () => {
    const r = await w.berth(['login', '-u', 'berth', '--password-stdin', secured.host], { input: 'wrong\n' });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`Error: login to ${secured.host} failed: unauthorized: incorrect username or password\n`);
    expect(fs.existsSync(configFile())).toBe(false);
  });

  it('login stores base64(user:pass) 0600 in a 0700 directory; push and pull use it; logout removes it', async () => {
    const r = await w.berth(['login', '-u', 'berth', '--password-stdin', secured.host], { input: 's3cret\n' });
    expect(r).toEqual({ code: 0, stdout: 'Login Succeeded\n', stderr: '' });
    expect(JSON.parse(fs.readFileSync(configFile(), 'utf8'))).toEqual({ auths: { [secured.host]: { auth: Buffer.from('berth:s3cret').toString('base64') } } });
    expect(fs.statSync(configFile()).mode & 0o777).toBe(0o600);
    expect(fs.statSync(configDir).mode & 0o777).toBe(0o700);
    expect(fs.readdirSync(configDir)).toEqual(['config.json']);

    const pushed = await w.berth(['push', ref()]);
    expect(pushed.stderr).toBe('');
    expect(pushed.code).toBe(0);
    expect(pushed.stdout).toMatch(/: Pushed\nv1: digest: sha256:[0-9a-f]{64} size: \d+\n$/);
    expect((await w.berth(['rmi', ref()])).code).toBe(0);
    const pulled = await w.berth(['pull', ref()]);
    expect(pulled.code).toBe(0);
    // run --pull too: removed, then pulled with the stored credentials and run.
    expect((await w.berth(['rmi', ref()])).code).toBe(0);
    expect(await w.berth(['run', '--rm', '--pull', 'missing', ref(), 'echo', 'pulled by run'])).toMatchObject({ code: 0, stdout: 'pulled by run\n' });

    // -p works too, with docker's warning.
    const again = await w.berth(['login', '-u', 'berth', '-p', 's3cret', `http://${secured.host}/`]);
    expect(again).toEqual({ code: 0, stdout: 'Login Succeeded\n', stderr: 'WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n' });
    expect(Object.keys((JSON.parse(fs.readFileSync(configFile(), 'utf8')) as { auths: object }).auths)).toEqual([secured.host]);

    // No flags: the stored credentials are tried first, as docker does.
    expect(await w.berth(['login', secured.host])).toEqual({ code: 0, stdout: 'Authenticating with existing credentials... [Username: berth]\nLogin Succeeded\n', stderr: '' });

    expect(await w.berth(['logout', secured.host])).toEqual({ code: 0, stdout: `Removing login credentials for ${secured.host}\n`, stderr: '' });
    expect(JSON.parse(fs.readFileSync(configFile(), 'utf8'))).toEqual({ auths: {} });
    expect(await w.berth(['logout', secured.host])).toEqual({ code: 0, stdout: `Not logged in to ${secured.host}\n`, stderr: '' });
    const denied = await w.berth(['push', ref()]);
    expect(denied.code).toBe(1);
  });

  it('prompts for the user name and password on a terminal', async () => {
    const p = spawnSync('script', ['-eqfc', `${BIN} login ${secured.host}`, '/dev/null'], { env: w.env, input: 'berth\ns3cret\n', encoding: 'utf8', timeout: 30_000 });
    expect(p.stdout).toContain('Username: ');
    expect(p.stdout).toContain('Password: ');
    expect(p.stdout).toMatch(/Login Succeeded\r?\n$/);
    expect(p.status).toBe(0);
    expect(JSON.parse(fs.readFileSync(configFile(), 'utf8'))).toEqual({ auths: { [secured.host]: { auth: Buffer.from('berth:s3cret').toString('base64') } } });
    expect((await w.berth(['logout', secured.host])).code).toBe(0);
  });

  it('refuses flag combinations docker refuses, and an interactive login without a terminal', async () => {
    expect(await w.berth(['login', '--password-stdin', secured.host], { input: 'x' })).toEqual({ code: 1, stdout: '', stderr: 'Error: Must provide --username with --password-stdin\n' });
    expect(await w.berth(['login', '-u', 'a', '-p', 'b', '--password-stdin', secured.host], { input: 'x' })).toEqual({
      code: 1,
      stdout: '',
      stderr: 'Error: --password and --password-stdin are mutually exclusive\n',
    });
    expect(await w.berth(['login', secured.host])).toEqual({ code: 1, stdout: '', stderr: 'Error: Cannot perform an interactive login from a non TTY device\n' });
  });

  it('--insecure-registry: a registry not on a loopback name needs it for plain HTTP, for login as for push', async () => {
    const server = `0.0.0.0:${secured.host.split(':')[1]}`;
    const refused = await w.berth(['login', '-u', 'berth', '--password-stdin', server], { input: 's3cret' });
    expect(refused).toEqual({ code: 1, stdout: '', stderr: `Error: registry ${server} does not speak HTTPS; mark it insecure to use plain HTTP\n` });
    const ok = await w.berth(['login', '--insecure-registry', server, '-u', 'berth', '--password-stdin', server], { input: 's3cret' });
    expect(ok).toEqual({ code: 0, stdout: 'Login Succeeded\n', stderr: '' });
    const ref = `${server}/plain/bb:1`;
    expect((await w.berth(['tag', 'busybox', ref])).code).toBe(0);
    const plain = await w.berth(['push', ref]);
    expect(plain.code).toBe(1);
    expect(plain.stderr).toBe(`Error: ${server} does not speak HTTPS; mark it insecure to use plain HTTP\n`);
    const pushed = await w.berth(['push', '--insecure-registry', server, ref]);
    expect(pushed.stderr).toBe('');
    expect(pushed.stdout).toMatch(/\n1: digest: sha256:[0-9a-f]{64} size: \d+\n$/);
    expect((await w.berth(['logout', server])).stdout).toBe(`Removing login credentials for ${server}\n`);
  });
});
