// Exec sessions. Through conmon (RUNTIME-NOTES §5) for a TTY or a detached process: conmon runs `runtime exec
// --detach --process`, serves an attach socket for its stdio, and reports its pid and then its exit code on the
// sync pipe. A plain attached exec runs `runtime exec --process` directly with pipes: one process fewer.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { NoTerminalError } from '../errors';
import { launchConmon } from '../runtime/conmon';
import type { OciRuntime } from '../runtime/oci-runtime';
import { connectAttach, writeResize, type AttachConnection, type AttachHandlers } from './attach';

export interface ExecRequest {
  ctrId: string;
  name: string;
  runtime: OciRuntime;
  /** The process object for the runtime (args, env, cwd, user, terminal set). */
  process: Record<string, unknown>;
  /** Short dir for the session's files: the attach socket lives there. */
  dir: string;
  socketDir: string;
  tty: boolean;
  stdin: boolean;
  detach: boolean;
  size?: { rows: number; cols: number } | undefined;
}

export interface ExecSession {
  execId: string;
  pid: number;
  conn?: AttachConnection | undefined;
  /** Bytes for the process's stdin. */
  write(b: Buffer): void;
  closeStdin(): void;
  resize(rows: number, cols: number): void;
  /** Kills the exec process (client gone). */
  kill(): void;
  /** The exit code; after it the session's files are removed. */
  exited: Promise<number>;
}

/** The failure of an exec that never started (command not found, bad cwd): exit code and message. */
export class ExecStartFailure extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

function waitLine(r: Readable): Promise<void> {
  return new Promise((resolve, reject) => {
    const onData = (d: Buffer) => {
      if (d.toString().includes('\n')) {
        r.off('data', onData);
        resolve();
      }
    };
    r.on('data', onData);
    r.once('end', () => reject(new Error('conmon closed the attach pipe before the socket was ready')));
  });
}

export async function startExec(req: ExecRequest, io: AttachHandlers): Promise<ExecSession> {
  const execId = randomBytes(32).toString('hex');
  const dir = path.join(req.dir, execId.slice(0, 12));
  fs.mkdirSync(path.join(dir, 'exits'), { recursive: true, mode: 0o700 });
  const specFile = path.join(dir, 'process.json');
  fs.writeFileSync(specFile, JSON.stringify(req.process));
  const attach = !req.detach;
  const conmon = launchConmon(
    {
      ctrId: req.ctrId, uuid: execId, name: req.name, runtimeBinary: req.runtime.binary, runtimeRoot: req.runtime.root,
      bundle: dir, pidFile: path.join(dir, 'exec.pid'), exitDir: path.join(dir, 'exits'), persistDir: dir,
      logPath: path.join(dir, 'exec.log'), socketDir: req.socketDir, conmonPidFile: path.join(dir, 'conmon.pid'),
      // A terminal needs conmon's -i to be the process's stdin too (else stdin is /dev/null).
      tty: req.tty, stdin: (req.stdin || req.tty) && attach, leaveStdinOpen: false, execProcessSpec: specFile, execAttach: attach,
    },
    { start: true, attach },
  );
  const cleanup = () => {
    conmon.release();
    fs.rmSync(dir, { recursive: true, force: true });
  };
  let conn: AttachConnection | undefined;
  try {
    const start = conmon.startPipe as Writable;
    start.write('0');
    if (attach) {
      await waitLine(conmon.attachPipe!);
      conn = await connectAttach(path.join(dir, 'attach'), '', io);
      start.write('0');
    }
    const first = await conmon.sync.next();
    if (!first || first.data < 0) {
      const parent = await conmon.parentExit;
      const msg = (first?.message ?? parent.stderr).trim() || 'exec failed';
      throw new ExecStartFailure(msg, /not found|no such file/i.test(msg) ? 127 : 126);
    }
    const pid = first.data;
    if (req.tty && req.size) {
      try {
        writeResize(path.join(dir, 'ctl'), req.size.rows, req.size.cols);
      } catch {
        // the process may be gone already
      }
    }
    const exited = (async () => {
      const last = await conmon.sync.next();
      let code = last?.data ?? -1;
      if (code < 0) {
        try {
          code = Number(fs.readFileSync(path.join(dir, 'exits', req.ctrId), 'utf8').trim());
        } catch {
          code = 255;
        }
      }
      // Let the attach socket drain the process's last output before it is closed.
      if (conn) await Promise.race([conn.done, new Promise((r) => setTimeout(r, 2000).unref())]);
      cleanup();
      return code;
    })();
    return {
      execId,
      pid,
      conn,
      write: (b) => conn?.write(b),
      closeStdin: () => conn?.closeStdin(),
      resize: (rows, cols) => writeResize(path.join(dir, 'ctl'), rows, cols),
      kill: () => {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      },
      exited,
    };
  } catch (err) {
    conn?.close();
    cleanup();
    throw err;
  }
}


/** Waits for a pid file (written once the process exists), giving up when `gone` settles first. */
async function waitPidFile(file: string, gone: Promise<unknown>): Promise<number> {
  let over = false;
  void gone.then(() => (over = true));
  for (let i = 0; i < 400; i++) {
    try {
      const n = Number(fs.readFileSync(file, 'utf8').trim());
      if (n > 0) return n;
    } catch {
      // not yet
    }
    if (over) return 0;
    await new Promise((r) => setTimeout(r, 5));
  }
  return 0;
}

/** A non-TTY, attached exec: `runtime exec --process` as our child, its stdio on pipes. */
export async function startDirectExec(req: ExecRequest, io: AttachHandlers): Promise<ExecSession> {
  const execId = randomBytes(32).toString('hex');
  const dir = path.join(req.dir, execId.slice(0, 12));
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const specFile = path.join(dir, 'process.json');
  const pidFile = path.join(dir, 'exec.pid');
  fs.writeFileSync(specFile, JSON.stringify(req.process));
  const child = spawn(req.runtime.binary, [`--root=${req.runtime.root}`, 'exec', '--process', specFile, '--pid-file', pidFile, req.ctrId], {
    stdio: [req.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
  });
  let stderrTail = '';
  child.stdout!.on('data', (b: Buffer) => io.stdout(b));
  child.stderr!.on('data', (b: Buffer) => {
    stderrTail = (stderrTail + b.toString()).slice(-2000);
    io.stderr(b);
  });
  child.stdin?.on('error', () => undefined);
  const closed = new Promise<number>((resolve) => {
    child.once('error', () => resolve(255));
    child.once('close', (code, signal) => resolve(code ?? (signal ? 128 + (os.constants.signals[signal] ?? 0) : 255)));
  });
  const pid = await waitPidFile(pidFile, closed);
  const exited = closed.then((code) => {
    fs.rmSync(dir, { recursive: true, force: true });
    // The runtime says 255 when it could not run the command; docker reports 127 (not found) or 126.
    if (code === 255 && /executable file .* not found|No such file or directory/.test(stderrTail)) return 127;
    if (code === 255 && /permission denied/i.test(stderrTail)) return 126;
    return code;
  });
  return {
    execId,
    pid,
    resize: () => {
      throw new NoTerminalError(`exec ${execId}`);
    },
    kill: () => {
      try {
        if (pid) process.kill(pid, 'SIGKILL');
        else child.kill('SIGKILL');
      } catch {
        // already gone
      }
    },
    write: (b) => {
      child.stdin?.write(b);
    },
    closeStdin: () => {
      child.stdin?.end();
    },
    exited,
  };
}
