// run -it and attach through a real pseudo-terminal: util-linux `script` gives the CLI a pty as its terminal;
// the test types into it through script's stdin and reads the screen from its stdout.
import { spawn, type ChildProcess } from 'node:child_process';
import { BIN, cleanContainers, startWorld, until, type World } from './harness';

let w: World;

beforeAll(async () => {
  w = await startWorld();
  expect((await w.berth(['load', '-i', w.archive])).code).toBe(0);
}, 60_000);

afterEach(() => cleanContainers(w));
afterAll(() => w?.teardown());

interface Pty {
  child: ChildProcess;
  screen(): string;
  type(s: string): void;
  exited: Promise<number | null>;
}

/** Runs a shell command line inside `script`, whose pty is the CLI's terminal. */
function inPty(line: string): Pty {
  const child = spawn('script', ['-eqfc', line, '/dev/null'], { env: { ...w.env, TERM: 'xterm' }, stdio: ['pipe', 'pipe', 'pipe'] });
  let screen = '';
  child.stdout!.on('data', (d: Buffer) => (screen += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (screen += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, screen: () => screen, type: (s) => child.stdin!.write(s), exited };
}

const berth = BIN;

/** Presses Enter until the attached shell shows a fresh prompt (attach itself prints nothing). */
async function untilPrompt(p: Pty): Promise<void> {
  const before = p.screen().length;
  await until(() => {
    if (p.screen().slice(before).includes('/ # ')) return true;
    p.type('\r');
    return false;
  }, 15_000, 'a prompt after attach');
}

async function killPty(p: Pty): Promise<void> {
  if (p.child.exitCode === null && p.child.signalCode === null) {
    p.child.kill('SIGKILL');
    await p.exited;
  }
}

describe('interactive terminals', () => {
  it('run -it gives a TTY of the terminal size that follows resizes; ctrl-p ctrl-q detaches, prints the id and leaves it running', async () => {
    // A background stty resizes the pty 3 s in: the kernel sends SIGWINCH to the CLI, which forwards the size.
    const p = inPty(`stty cols 91 rows 33; (sleep 3; stty cols 100 rows 40 </dev/tty) & exec ${berth} run -it --name tty1 busybox sh`);
    try {
      await until(() => p.screen().includes('/ # '), 15_000, 'the shell prompt');
      p.type('tty; stty size; echo hi-$((1+2))\r');
      await until(() => p.screen().includes('hi-3'), 10_000, 'command output');
      expect(p.screen()).toMatch(/\/dev\/pts\/0\r?\r\n33 91\r?\r\n/);
      await new Promise((r) => setTimeout(r, 3500));
      p.type('stty size\r');
      await until(() => p.screen().includes('40 100'), 10_000, 'the new size');
      p.type('\x10\x11');
      expect(await p.exited).toBe(0);
      const id = /([0-9a-f]{64})\r?\n$/.exec(p.screen())?.[1];
      expect(id).toBeDefined();
      expect((await w.berth(['inspect', '-f', '{{.State.Status}} {{.Id}}', 'tty1'])).stdout).toBe(`running ${id}\n`);
    } finally {
      await killPty(p);
    }
    // attach re-attaches to PID 1 (the same shell), and detaches again.
    const a = inPty(`${berth} attach tty1`);
    try {
      await untilPrompt(a);
      a.type('echo again-$((2*3))\r');
      await until(() => a.screen().includes('again-6'), 15_000, 'attached output');
      a.type('\x10\x11');
      expect(await a.exited).toBe(0);
    } finally {
      await killPty(a);
    }
    // Leaving the shell ends the container; run -it returned the shell's exit code.
    const b = inPty(`${berth} attach tty1`);
    try {
      await untilPrompt(b);
      b.type('exit 3\r');
      expect(await b.exited).toBe(3);
    } finally {
      await killPty(b);
    }
    expect((await w.berth(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', 'tty1'])).stdout).toBe('exited 3\n');
    const stopped = await w.berth(['attach', 'tty1']);
    expect(stopped).toEqual({ code: 1, stdout: '', stderr: 'Error: you cannot attach to a stopped container, start it first\n' });
  });

  it('run -it --rm returns the exit code and removes the container; --detach-keys picks other keys', async () => {
    const p = inPty(`${berth} run -it --rm busybox sh -c 'echo ask; read x; exit $x'`);
    try {
      await until(() => p.screen().includes('ask'), 15_000, 'the question');
      p.type('5\r');
      expect(await p.exited).toBe(5);
    } finally {
      await killPty(p);
    }
    expect((await w.berth(['ps', '-aq'])).stdout).toBe('');
    const d = inPty(`${berth} run -it --name keys --detach-keys ctrl-x,x busybox sh`);
    try {
      await until(() => d.screen().includes('/ # '), 15_000, 'prompt');
      d.type('\x18x');
      expect(await d.exited).toBe(0);
    } finally {
      await killPty(d);
    }
    expect((await w.berth(['inspect', '-f', '{{.State.Status}}', 'keys'])).stdout).toBe('running\n');
  });

  it('-it without a terminal is refused', async () => {
    expect(await w.berth(['run', '-it', 'busybox', 'sh'])).toEqual({ code: 125, stdout: '', stderr: 'Error: the input device is not a TTY\n' });
  });
});
