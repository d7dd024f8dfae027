// Launching conmon for a container (or an exec session) and reading its answer on the sync pipe. conmon
// double-forks and outlives the supervisor; it writes the exit code to the exit dir, the log in k8s-file form,
// and serves the attach socket in the bundle (see RUNTIME-NOTES §2-§5).
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { RuntimeError } from '../errors';

export const CONMON_BINARY = '/usr/bin/conmon';

export interface ConmonOptions {
  ctrId: string;
  /** The session id: the container id, or an exec id. */
  uuid: string;
  name: string;
  runtimeBinary: string;
  runtimeRoot: string;
  bundle: string;
  pidFile: string;
  exitDir: string;
  persistDir: string;
  logPath: string;
  /** "none": conmon keeps no log (docker --log-driver none); attach still gets the output. */
  logDriver?: 'k8s-file' | 'none';
  socketDir: string;
  conmonPidFile: string;
  tty: boolean;
  stdin: boolean;
  leaveStdinOpen: boolean;
  /** For exec sessions: the process.json path. */
  execProcessSpec?: string;
  /** For exec sessions with attach (--exec-attach). */
  execAttach?: boolean;
  logSizeMax?: number;
}

export function conmonArgs(o: ConmonOptions): string[] {
  const a = ['--api-version', '1', '-c', o.ctrId, '-u', o.uuid, '-n', o.name, '-r', o.runtimeBinary, '-b', o.bundle,
    '-p', o.pidFile, '--exit-dir', o.exitDir, '--persist-dir', o.persistDir, '-l', o.logDriver === 'none' ? 'none' : `k8s-file:${o.logPath}`,
    '--socket-dir-path', o.socketDir, '--full-attach', '--conmon-pidfile', o.conmonPidFile, '--log-level', 'error',
    '--runtime-arg', `--root=${o.runtimeRoot}`];
  if (o.stdin) a.push('-i');
  if (o.leaveStdinOpen) a.push('--leave-stdin-open');
  if (o.tty) a.push('-t');
  if (o.logSizeMax) a.push('--log-size-max', String(o.logSizeMax));
  if (o.execProcessSpec) a.push('-e', '--exec-process-spec', o.execProcessSpec);
  if (o.execAttach) a.push('--exec-attach');
  return a;
}

export interface SyncReader {
  /** The next `{"data": N, "message"?: "..."}` line, or undefined at EOF. */
  next(): Promise<{ data: number; message?: string } | undefined>;
}

/** Splits a sync pipe into its JSON lines. */
export function syncReader(stream: Readable): SyncReader {
  let buf = '';
  let ended = false;
  const lines: string[] = [];
  let wake: (() => void) | undefined;
  stream.setEncoding('utf8');
  stream.on('data', (d: string) => {
    buf += d;
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      lines.push(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
    wake?.();
  });
  const onEnd = () => {
    ended = true;
    wake?.();
  };
  stream.on('end', onEnd);
  stream.on('close', onEnd);
  stream.on('error', onEnd);
  return {
    async next() {
      for (;;) {
        const l = lines.shift();
        if (l !== undefined) {
          if (!l.trim()) continue;
          try {
            return JSON.parse(l) as { data: number; message?: string };
          } catch {
            throw new RuntimeError(`conmon wrote an unreadable sync line: ${l}`);
          }
        }
        if (ended) return undefined;
        await new Promise<void>((r) => (wake = r));
        wake = undefined;
      }
    },
  };
}

export interface LaunchedConmon {
  /** The spawned (parent) conmon's pid. */
  pid: number;
  sync: SyncReader;
  /** fd 4 (start pipe) when asked for. */
  startPipe?: Writable;
  /** fd 5 (attach pipe) when asked for. */
  attachPipe?: Readable;
  /** Resolves with the spawned parent's exit code and stderr. */
  parentExit: Promise<{ code: number | null; stderr: string }>;
  /** Closes our ends of the pipes so nothing keeps the event loop alive. */
  release(): void;
}

export function launchConmon(o: ConmonOptions, pipes: { start?: boolean; attach?: boolean } = {}): LaunchedConmon {
  for (const f of [o.conmonPidFile, o.pidFile]) fs.rmSync(f, { force: true });
  const stdio: ('ignore' | 'pipe')[] = ['ignore', 'pipe', 'pipe', 'pipe'];
  const env: Record<string, string> = { ...(process.env as Record<string, string>), _OCI_SYNCPIPE: '3' };
  if (pipes.start || pipes.attach) {
    stdio.push('pipe');
    env._OCI_STARTPIPE = '4';
  }
  if (pipes.attach) {
    stdio.push('pipe');
    env._OCI_ATTACHPIPE = '5';
  }
  // cwd = bundle: conmon writes its `oom` marker relative to its working directory.
  const child = spawn(CONMON_BINARY, conmonArgs(o), { stdio, env, detached: true, cwd: o.bundle });
  let stderr = '';
  child.stdout!.resume();
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const parentExit = new Promise<{ code: number | null; stderr: string }>((resolve) => {
    child.once('error', (err) => resolve({ code: -1, stderr: err.message }));
    child.once('close', (code) => resolve({ code, stderr }));
  });
  const sync = syncReader(child.stdio[3] as Readable);
  const out: LaunchedConmon = {
    pid: 0,
    sync,
    parentExit,
    release: () => {
      // The daemonised conmon may hold the other ends; drop ours so they keep nothing alive here.
      for (const s of child.stdio) (s as unknown as { destroy?: () => void } | null)?.destroy?.();
      child.unref();
    },
  };
  if (pipes.start || pipes.attach) out.startPipe = child.stdio[4] as Writable;
  out.pid = child.pid ?? 0;
  if (pipes.attach) out.attachPipe = (child.stdio as unknown as Readable[])[5];
  return out;
}

const CONMON_CGROUP_CONTROLLERS = ['memory', 'pids', 'cpu', 'systemd', 'unified'];

/**
 * Moves a conmon into cgroup `name` of each hierarchy, so that stopping the supervisor's own cgroup (systemd
 * KillMode=control-group) leaves conmon and its container alone. Hierarchies that are not mounted are
 * skipped. Asynchronous and side by side: a cgroup v1 migration takes milliseconds each, which would
 * otherwise stall the event loop.
 */
export async function moveToConmonCgroup(pid: number, name: string): Promise<void> {
  await Promise.all(CONMON_CGROUP_CONTROLLERS.map(async (c) => {
    const root = `/sys/fs/cgroup/${c}`;
    if (!fs.existsSync(root)) return;
    const dir = `${root}/${name}`;
    await fs.promises.mkdir(dir, { recursive: true });
    await fs.promises.writeFile(`${dir}/cgroup.procs`, String(pid));
  }));
}

/** True when `pid` is in cgroup `name` of the memory hierarchy (or of cgroup2 alone when v1 has none). */
export function inConmonCgroup(pid: number, name: string): boolean {
  try {
    const text = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8');
    const memory = /^\d+:memory:(.*)$/m.exec(text);
    const line = memory ?? /^0::(.*)$/m.exec(text);
    return !!line && line[1] === `/${name}`;
  } catch {
    return false;
  }
}

/** The real conmon's pid from --conmon-pidfile (written once it has forked). */
export function readPidFile(file: string): number {
  try {
    const n = Number(fs.readFileSync(file, 'utf8').trim());
    return Number.isInteger(n) && n > 0 ? n : 0;
  } catch {
    return 0;
  }
}

/** True when `pid` is a live conmon process: not a recycled pid, and not a zombie waiting for init to reap it. */
export function isConmonAlive(pid: number): boolean {
  if (!pid) return false;
  try {
    const m = /^\d+ \((.*)\) (\S)/.exec(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
    return !!m && m[1] === 'conmon' && m[2] !== 'Z' && m[2] !== 'X';
  } catch {
    return false;
  }
}
