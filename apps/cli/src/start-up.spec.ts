// bin/berth, the sh wrapper: it starts node from the CLI's snapshot (dist/berth.blob) when that is there and
// fresh, else runs dist/main.js; it moves NODE_EXTRA_CA_CERTS aside; and the snapshot reads the environment
// when it runs, not when it was built. Each case runs a copy of the wrapper over a dist of its own: the real
// blob (linked) and a stand-in main.js that says it was run, so the path taken is visible.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const CLI = path.resolve(__dirname, '..');
const BLOB = path.join(CLI, 'dist', 'berth.blob');
const FAKE_MAIN = "console.log('js ' + JSON.stringify({ argv: process.argv.slice(2), extra: process.env.NODE_EXTRA_CA_CERTS, berthExtra: process.env.BERTH_NODE_EXTRA_CA_CERTS }))\n";

let tmp: string;
let bin: string;
let dist: string;

beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-start-up-'));
  bin = path.join(tmp, 'apps', 'cli', 'bin', 'berth');
  dist = path.join(tmp, 'apps', 'cli', 'dist');
  fs.mkdirSync(path.dirname(bin), { recursive: true });
  fs.mkdirSync(dist);
  fs.copyFileSync(path.join(CLI, 'bin', 'berth'), bin);
  fs.writeFileSync(path.join(dist, 'main.js'), FAKE_MAIN);
});

afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

const withBlob = () => {
  // Built by the cli project's build (nx run cli:build); a tsc-only dist has none, and one older than the CLI's
  // tsc build would run the code of before (what `nx test` never meets: its build comes first).
  expect(fs.existsSync(BLOB)).toBe(true);
  const built = path.join(CLI, 'dist', 'tsconfig.lib.tsbuildinfo');
  // Some seconds of slack: nx restoring both from its cache writes them one after the other.
  if (fs.existsSync(built) && fs.statSync(built).mtimeMs > fs.statSync(BLOB).mtimeMs + 5000) {
    throw new Error('dist/berth.blob is older than the CLI build: run `npx nx run cli:build` first');
  }
  fs.symlinkSync(BLOB, path.join(dist, 'berth.blob'));
};

function run(args: string[], env: Record<string, string> = {}, cmd = bin) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('bin/berth', () => {
  it('runs the CLI from the snapshot, with every argument for the CLI', () => {
    withBlob();
    expect(run(['--version'])).toEqual({ code: 0, stdout: '0.1.0\n', stderr: '' });
  });

  it('reached through a symlink (node_modules/.bin/berth), finds its dist', () => {
    withBlob();
    const link = path.join(tmp, 'berth-link');
    fs.symlinkSync(bin, link);
    expect(run(['--version'], {}, link)).toEqual({ code: 0, stdout: '0.1.0\n', stderr: '' });
  });

  it('runs dist/main.js without a blob, passing arguments as they are', () => {
    expect(run(['--version', '-x', '--', 'a b'])).toEqual({ code: 0, stdout: `js ${JSON.stringify({ argv: ['--version', '-x', '--', 'a b'] })}\n`, stderr: '' });
  });

  it('runs dist/main.js when tsc rebuilt the CLI after the blob was made (the blob would run old code)', () => {
    withBlob();
    fs.writeFileSync(path.join(dist, 'tsconfig.lib.tsbuildinfo'), '{}');
    expect(run(['--version']).stdout).toMatch(/^js /);
  });

  it('runs dist/main.js when NODE_OPTIONS or a variable read at module load by a dependency is set', () => {
    withBlob();
    const moduleLoadVars = ['GRPC_TRACE', 'GRPC_NODE_TRACE', 'GRPC_VERBOSITY', 'GRPC_NODE_VERBOSITY', 'GRPC_SSL_CIPHER_SUITES', 'GRPC_NODE_USE_ALTERNATIVE_RESOLVER', 'GRPC_NODE_DEBUG_SEND_ERROR_DETAILS', 'GRPC_EXPERIMENTAL_ENABLE_OUTLIER_DETECTION', 'BUF_BIGINT_DISABLE'];
    for (const name of ['NODE_OPTIONS', ...moduleLoadVars]) expect([name, run(['--version'], { [name]: name === 'NODE_OPTIONS' ? '--no-warnings' : '1' }).stdout]).toEqual([name, expect.stringMatching(/^js /)]);
    expect(run(['--version'], { GRPC_TRACE: '' })).toEqual({ code: 0, stdout: '0.1.0\n', stderr: '' });
    // Read by libs/client at call time (trustedRoots); grpc-js's own module-load copy is never used.
    expect(run(['--version'], { GRPC_DEFAULT_SSL_ROOTS_FILE_PATH: '/etc/ssl/certs/ca-certificates.crt' })).toEqual({ code: 0, stdout: '0.1.0\n', stderr: '' });
  });

  it('says berth is not built when dist has neither', () => {
    fs.rmSync(path.join(dist, 'main.js'));
    expect(run(['ps'])).toEqual({ code: 125, stdout: '', stderr: 'Error: berth is not built yet: run "npm run build" in the repository first\n' });
  });

  it('hands NODE_EXTRA_CA_CERTS over as BERTH_NODE_EXTRA_CA_CERTS so node does not parse it at start-up', () => {
    expect(run([], { NODE_EXTRA_CA_CERTS: '/etc/ssl/x.pem' }).stdout).toBe(`js ${JSON.stringify({ argv: [], berthExtra: '/etc/ssl/x.pem' })}\n`);
    expect(run([], { BERTH_NODE_EXTRA_CA_CERTS: '/etc/ssl/y.pem' }).stdout).toBe(`js ${JSON.stringify({ argv: [], berthExtra: '/etc/ssl/y.pem' })}\n`);
  });
});

describe('the snapshot reads the environment when it runs', () => {
  it('finds the services through BERTH_RUN / BERTH_<SERVICE>_ADDR of each run', () => {
    withBlob();
    for (const runDir of ['/nonexistent-a', '/nonexistent-b']) {
      expect(run(['ps'], { BERTH_RUN: runDir })).toEqual({
        code: 1,
        stdout: '',
        stderr: `Error: cannot reach the inspector service at unix://${runDir}/inspector.sock: is it running? (connect ENOENT ${runDir}/inspector.sock)\n`,
      });
    }
    expect(run(['ps'], { BERTH_INSPECTOR_ADDR: '/nonexistent-c/i.sock' }).stderr).toBe(
      'Error: cannot reach the inspector service at unix:///nonexistent-c/i.sock: is it running? (connect ENOENT /nonexistent-c/i.sock)\n',
    );
  });

  it('takes BERTH_DEBUG of the run (the stack is shown only then)', () => {
    withBlob();
    const r = run(['run', '--rm', '--restart', 'always', 'busybox'], { BERTH_DEBUG: '1' });
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(/^Error: conflicting options: --restart and --rm\n\w*Error: conflicting options: --restart and --rm\n    at /);
    expect(run(['run', '--rm', '--restart', 'always', 'busybox']).stderr).toBe('Error: conflicting options: --restart and --rm\n');
  });

  it('sees the terminal width of the run (help wraps to the width of a real terminal)', () => {
    withBlob();
    const help = (cols: number) => spawnSync('script', ['-qfec', `stty cols ${cols}; ${bin} run --help`, '/dev/null'], { encoding: 'utf8', env: { PATH: process.env.PATH } }).stdout;
    const widest = (s: string) => Math.max(...s.split(/\r?\n/).map((l) => l.length));
    expect(widest(help(100))).toBeLessThanOrEqual(100);
    expect(widest(help(200))).toBeGreaterThan(100);
  });
});

describe('the snapshot bundle', () => {
  // A tripwire for dependency updates: every process.env.NAME in the bundle is either read at call time (listed
  // here after checking) or read at module load and makes bin/berth fall back to dist/main.js when set.
  // GRPC_DEFAULT_SSL_ROOTS_FILE_PATH: grpc-js reads it at module load but uses it only for credentials made
  // without roots; channelCredentials always gives roots, from trustedRoots(), which reads it at call time.
  const READ_AT_CALL_TIME = ['BERTH_DEBUG', 'grpc_proxy', 'https_proxy', 'http_proxy', 'no_grpc_proxy', 'no_proxy', 'GRPC_DEFAULT_SSL_ROOTS_FILE_PATH'];

  it('reads no environment variable at module load that bin/berth does not know of', () => {
    const bundle = fs.readFileSync(path.join(CLI, 'dist', 'berth-snapshot.js'), 'utf8');
    const wrapper = fs.readFileSync(path.join(CLI, 'bin', 'berth'), 'utf8');
    const fallsBack = [...(/-z "((?:\$\w+)+)"/.exec(wrapper)?.[1] ?? '').matchAll(/\$(\w+)/g)].map((m) => m[1]);
    expect(fallsBack).toContain('GRPC_TRACE');
    const read = new Set([...bundle.matchAll(/process\.env\.(\w+)/g)].map((m) => m[1]));
    expect([...read].filter((name) => !READ_AT_CALL_TIME.includes(name!) && !fallsBack.includes(name)).sort()).toEqual([]);
  });
});
