// The built CLI binary (bin/berth, run as a person runs it), without any service: usage errors are one line
// "Error: ..." and exit 125 (1 for a service's refusal outside run and create).
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const BIN = path.resolve(__dirname, '..', 'bin', 'berth');
const berth = (...args: string[]) => {
  const r = spawnSync(BIN, args, { encoding: 'utf8', env: { PATH: process.env.PATH, BERTH_RUN: '/nonexistent-berth-run' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

describe('berth usage errors', () => {
  it.each([
    [['run', '--bogus', 'busybox'], "Error: unknown option '--bogus'\n"],
    [['frobnicate'], "Error: unknown command 'frobnicate'\n"],
    [['run', '--memory', '1x', 'busybox'], 'Error: invalid --memory "1x": use a number with an optional unit b, k, m, g (e.g. 64m, 1g)\n'],
    [['run', '--cpus', 'lots', 'busybox'], 'Error: invalid --cpus "lots": give a positive number of CPUs, e.g. 0.5 or 2\n'],
    [['run', '-p', '99999:80', 'busybox'], 'Error: invalid port "99999:80": host port "99999" is not a port number (1-65535)\n'],
    [['run', '--restart', 'sometimes', 'busybox'], 'Error: invalid restart policy "sometimes": use no, always, unless-stopped or on-failure[:max-retries]\n'],
    [['run', '--rm', '--restart', 'always', 'busybox'], 'Error: conflicting options: --restart and --rm\n'],
    [['run', '-v', 'bad/name:/data', 'busybox'], 'Error: invalid volume "bad/name:/data" for -v: "bad/name" is neither an absolute host path nor a volume name ([a-zA-Z0-9][a-zA-Z0-9_.-]+)\n'],
    [['run'], "Error: missing required argument 'image'\n"],
    [['inspect', '--format', '{{.State.Pid', 'x'], 'Error: invalid --format template "{{.State.Pid": unclosed action "{{"\n'],
    [['completion', 'zsh'], 'Error: unsupported shell "zsh": only bash is supported\n'],
  ])('berth %j', (args, stderr) => {
    expect(berth(...args)).toEqual({ code: 125, stdout: '', stderr });
  });

  it('a service that is not running is a clear one-line error', () => {
    // docker's code for a daemon it cannot reach, outside run and create.
    const r = berth('ps');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('Error: cannot reach the inspector service at unix:///nonexistent-berth-run/inspector.sock: is it running? (connect ENOENT /nonexistent-berth-run/inspector.sock)\n');
  });

  it('every verb has --help', () => {
    for (const verb of ['run', 'create', 'start', 'stop', 'kill', 'exec', 'enter', 'logs', 'ps', 'inspect', 'images', 'load', 'save', 'pull', 'commit', 'events', 'stats', 'top']) {
      const r = berth(verb, '--help');
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`Usage: berth ${verb}`);
    }
  });

  it('prints a bash completion script naming the verbs and their flags', () => {
    const r = berth('completion', 'bash');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('complete -F _berth berth');
    expect(r.stdout).toMatch(/run\) opts=".*--cpu-shares.*"/);
    const syntax = spawnSync('bash', ['-n'], { input: r.stdout, encoding: 'utf8' });
    expect(syntax.status).toBe(0);
  });

  it('--version and -v print the CLI version and exit 0', () => {
    expect(berth('--version')).toEqual({ code: 0, stdout: '0.1.0\n', stderr: '' });
    expect(berth('-v')).toEqual({ code: 0, stdout: '0.1.0\n', stderr: '' });
  });

  it('arguments beginning with - reach the CLI, not node', () => {
    const help = berth('--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: berth \[options\] \[command\]/);
    expect(help.stderr).toBe('');
    // Options node itself knows (eval, inspector, its own --version is v20...) are the CLI's usage errors.
    expect(berth('-e', 'process.exit(3)')).toEqual({ code: 125, stdout: '', stderr: "Error: unknown option '-e'\n" });
    expect(berth('--inspect')).toEqual({ code: 125, stdout: '', stderr: "Error: unknown option '--inspect'\n" });
    expect(berth('--', '--version')).toEqual({ code: 125, stdout: '', stderr: "Error: unknown command '--version'\n" });
  });
});
