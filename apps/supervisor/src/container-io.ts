// Attach, exec, resize and logs of containers: the stdio side of the supervisor, over ContainerManager.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { FailedPreconditionError } from '@berth/service-kit';
import type { ContainerManager } from './container-manager';
import { ExecNotFoundError, InvalidConfigError, NoLogError, NoTerminalError, NotRunningError, PausedError } from './errors';
import { connectAttach, writeResize, type AttachConnection, type AttachHandlers } from './io/attach';
import { DEFAULT_DETACH_KEYS, parseDetachKeys } from './io/detach-keys';
import { startDirectExec, startExec, ExecStartFailure, type ExecSession } from './io/exec';
import { readLog, type LogLine } from './io/k8s-log';
import { resolveUser } from './oci/user';
import { logDriver } from './io/log-config';

export interface AttachOptions {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  detachKeys?: string;
  /** Start the container once attached (nothing of its output is missed). */
  start?: boolean;
  /** With start and a TTY: the size PID 1's terminal has before it runs. */
  size?: { rows: number; cols: number } | undefined;
}

export interface ExecOptions {
  args: string[];
  env?: string[];
  workingDir?: string;
  user?: string;
  tty?: boolean;
  stdin?: boolean;
  detach?: boolean;
  size?: { rows: number; cols: number };
}

export interface ExecHandle {
  execId: string;
  pid: number;
  write(b: Buffer): void;
  closeStdin(): void;
  /** The client went away: kill an attached exec. */
  abandon(): void;
  exited: Promise<number>;
}

export interface LogOptions {
  follow?: boolean;
  since?: Date | undefined;
  until?: Date | undefined;
  tail?: number;
  stdout?: boolean;
  stderr?: boolean;
  signal?: AbortSignal;
}

export class AttachStdinClosedError extends FailedPreconditionError {
  constructor(id: string) {
    super(`container ${id} was not created with an open stdin (-i); attach without stdin`);
  }
}

/** Merges "K=V" lists, later keys replacing earlier ones. */
function mergeEnv(base: string[], extra: string[]): string[] {
  const m = new Map<string, string>();
  for (const e of [...base, ...extra]) m.set(e.split('=', 1)[0]!, e);
  return [...m.values()];
}

export class ContainerIo {
  private readonly execs = new Map<string, { ctrId: string; session: ExecSession }>();

  constructor(private readonly mgr: ContainerManager) {}

  /**
   * Connects to PID 1's stdio. The returned connection's `done` says whether the client detached; `exited`
   * gives PID 1's exit code (undefined after a detach), even when auto-remove deletes the record at once.
   */
  async attach(ref: string, o: AttachOptions, h: AttachHandlers): Promise<AttachConnection & { id: string; exited: Promise<number | undefined> }> {
    const t = this.mgr.ioTarget(ref);
    const id = t.ctr.id;
    if (!t.active && !o.start) throw new NotRunningError(id, t.ctr.state!.status);
    if (o.stdin && !t.ctr.config!.openStdin) throw new AttachStdinClosedError(id);
    const keys = o.detachKeys || t.ctr.hostConfig!.detachKeys || DEFAULT_DETACH_KEYS;
    parseDetachKeys(keys);
    const handlers = { stdout: (b: Buffer) => o.stdout && h.stdout(b), stderr: (b: Buffer) => o.stderr && h.stderr(b) };
    let conn: AttachConnection | undefined;
    const ac = new AbortController();
    const exited = this.mgr.wait(id, o.start ? 'next-exit' : 'not-running', ac.signal).catch(() => undefined);
    const finish = (c: AttachConnection) => {
      void c.done.then((end) => end.detached && ac.abort());
      return { ...c, id, exited };
    };
    if (o.start) {
      try {
        await this.mgr.start(id, {
          consoleSize: o.size,
          beforeRuntimeStart: async (p) => {
            conn = await connectAttach(p.attach, keys, handlers);
            this.mgr.publishFor(id, 'container.attach');
            if (o.size && t.ctr.config!.tty) writeResize(p.ctl, o.size.rows, o.size.cols);
          },
        });
      } catch (err) {
        ac.abort();
        conn?.close();
        throw err;
      }
      return finish(conn!);
    }
    try {
      conn = await connectAttach(t.paths.attach, keys, handlers);
    } catch (err) {
      ac.abort();
      throw err;
    }
    this.mgr.publishFor(id, 'container.attach');
    return finish(conn);
  }

  resize(ref: string, rows: number, cols: number, execId = ''): void {
    if (execId) {
      const x = this.execs.get(execId);
      if (!x) throw new ExecNotFoundError(execId);
      x.session.resize(rows, cols);
      return;
    }
    const t = this.mgr.ioTarget(ref);
    if (!t.ctr.config!.tty) throw new NoTerminalError(t.ctr.id);
    if (!t.active) throw new NotRunningError(t.ctr.id, t.ctr.state!.status);
    writeResize(t.paths.ctl, rows, cols);
  }

  /** Starts a process in the container's namespaces and cgroup (through conmon). */
  async exec(ref: string, o: ExecOptions, h: AttachHandlers): Promise<ExecHandle> {
    const t = this.mgr.ioTarget(ref);
    const id = t.ctr.id;
    if (t.ctr.state!.status === 'paused') throw new PausedError(id);
    if (!t.active) throw new NotRunningError(id, t.ctr.state!.status);
    if (o.args.length === 0) throw new InvalidConfigError('exec needs a command');
    const spec = JSON.parse(fs.readFileSync(t.paths.bundleConfig, 'utf8')) as { process: Record<string, unknown> };
    const proc: Record<string, unknown> = { ...spec.process, args: o.args, terminal: !!o.tty };
    proc.env = mergeEnv(spec.process.env as string[], o.env ?? []);
    // The runtime sizes the terminal before the process runs; a resize through conmon would race it.
    if (o.tty && o.size) proc.consoleSize = { height: o.size.rows, width: o.size.cols };
    if (o.workingDir) proc.cwd = o.workingDir;
    if (o.user) {
      const u = resolveUser(o.user, t.paths.rootfs);
      proc.user = { uid: u.uid, gid: u.gid, ...(u.additionalGids.length ? { additionalGids: u.additionalGids } : {}) };
    }
    const tmpId = randomBytes(32).toString('hex');
    let session: ExecSession;
    try {
      const req = { ctrId: id, name: t.ctr.name, runtime: t.runtime, process: proc, dir: t.paths.execsDir, socketDir: this.mgr.layout.socketDir,
        tty: !!o.tty, stdin: !!o.stdin, detach: !!o.detach, size: o.size };
      // A plain attached exec needs no conmon: the runtime's exec with pipes is one process fewer.
      session = !o.tty && !o.detach ? await startDirectExec(req, h) : await startExec(req, h);
    } catch (err) {
      if (err instanceof ExecStartFailure) {
        // As docker: the exec exists, starts, and dies at once with 126/127; the message goes to stderr.
        this.mgr.publishFor(id, 'exec.create', { execId: tmpId });
        this.mgr.publishFor(id, 'exec.start', { execId: tmpId });
        h.stderr(Buffer.from(err.message.endsWith('\n') ? err.message : err.message + '\n'));
        this.mgr.publishFor(id, 'exec.die', { execId: tmpId, exitCode: err.exitCode });
        return { execId: tmpId, pid: 0, write: () => undefined, closeStdin: () => undefined, abandon: () => undefined, exited: Promise.resolve(err.exitCode) };
      }
      throw err;
    }
    this.mgr.publishFor(id, 'exec.create', { execId: session.execId });
    this.mgr.publishFor(id, 'exec.start', { execId: session.execId, pid: session.pid });
    this.execs.set(session.execId, { ctrId: id, session });
    const exited = session.exited.then((code) => {
      this.execs.delete(session.execId);
      this.mgr.publishFor(id, 'exec.die', { execId: session.execId, exitCode: code });
      return code;
    });
    return {
      execId: session.execId,
      pid: session.pid,
      write: (b) => session.write(b),
      closeStdin: () => session.closeStdin(),
      abandon: () => {
        if (!o.detach) session.kill();
      },
      exited,
    };
  }

  /** The container's log lines; with follow, new lines until the container stops or the signal aborts. */
  logs(ref: string, o: LogOptions): AsyncGenerator<LogLine> {
    const t = this.mgr.ioTarget(ref);
    const id = t.ctr.id;
    if (logDriver(t.ctr.hostConfig?.logConfig) === 'none') throw new NoLogError(t.ctr.name);
    return readLog(t.ctr.logPath, {
      follow: !!o.follow,
      tail: o.tail ?? -1,
      since: o.since,
      until: o.until,
      stdout: o.stdout ?? true,
      stderr: o.stderr ?? true,
      alive: () => this.mgr.isActive(id),
      ...(o.signal ? { signal: o.signal } : {}),
    });
  }
}
