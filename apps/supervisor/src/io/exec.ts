// Exec sessions through conmon (RUNTIME-NOTES §5): conmon runs `runtime exec --detach --process` for us,
// serves an attach socket for the process's stdio, and reports its pid and then its exit code on the sync pipe.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Readable, Writable } from 'node:stream';
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

