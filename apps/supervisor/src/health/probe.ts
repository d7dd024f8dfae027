// One health probe: the check's command run by `runtime exec` in the container's namespaces and cgroup (the
// plain attached exec of io/exec.ts, no conmon), as PID 1's user, env and working dir. Its stdout and stderr
// are kept together up to 4096 bytes; one outliving the timeout is killed, with its descendants, and recorded
// as docker records it (exit -1, "Health check exceeded timeout (…)").
import * as fs from 'node:fs';
import type { containersV1 } from '@berth/api';
import { startDirectExec, type ExecSession } from '../io/exec';
import type { ContainerPaths } from '../layout';
import type { OciRuntime } from '../runtime/oci-runtime';
import { MAX_OUTPUT_LEN, type ActiveCheck } from './healthcheck';

export interface ProbeTarget {
  ctrId: string;
  name: string;
  paths: ContainerPaths;
  runtime: OciRuntime;
  socketDir: string;
}

/** A probe in flight: `result` settles with its log entry; `cancel` kills it (the result is then of no use). */
export interface RunningProbe {
  result: Promise<containersV1.HealthLog>;
  cancel(): void;
}

/** docker's limitedBuffer: the first MAX_OUTPUT_LEN bytes, "..." when more came. */
class LimitedBuffer {
  private readonly parts: Buffer[] = [];
  private len = 0;
  private truncated = false;
  write(b: Buffer): void {
    const keep = Math.min(MAX_OUTPUT_LEN - this.len, b.length);
    if (keep > 0) {
      this.parts.push(b.subarray(0, keep));
      this.len += keep;
    }
    if (keep < b.length) this.truncated = true;
  }
  toString(): string {
    return Buffer.concat(this.parts).toString('utf8') + (this.truncated ? '...' : '');
  }
}

/** The pids below `root` (children, grandchildren, ...), from /proc. */
function descendants(root: number): number[] {
  const parentOf = new Map<number, number>();
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      // The command may hold spaces and parens: the fields after the last ")" are fixed.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parentOf.set(Number(d), ppid);
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const [pid, pp] of parentOf) if (pp === p) {
      out.push(pid);
      walk(pid);
    }
  };
  walk(root);
  return out;
}

/** Kills a probe and whatever it started (a CMD-SHELL's children would otherwise outlive it). */
function killTree(session: ExecSession): void {
  const pids = session.pid ? descendants(session.pid) : [];
  session.kill();
  for (const p of pids) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** The process object for the runtime: PID 1's (env, user, cwd, capabilities) with the probe's args. */
function probeProcess(t: ProbeTarget, args: string[]): Record<string, unknown> {
  const spec = JSON.parse(fs.readFileSync(t.paths.bundleConfig, 'utf8')) as { process: Record<string, unknown> };
  const proc: Record<string, unknown> = { ...spec.process, args, terminal: false };
  delete proc.consoleSize;
  return proc;
}

export function runProbe(t: ProbeTarget, check: ActiveCheck): RunningProbe {
  const start = new Date();
  const out = new LimitedBuffer();
  let session: ExecSession | undefined;
  let cancelled = false;
  let timer: NodeJS.Timeout | undefined;
  const result = (async (): Promise<containersV1.HealthLog> => {
    try {
      session = await startDirectExec(
        { ctrId: t.ctrId, name: t.name, runtime: t.runtime, process: probeProcess(t, check.args), dir: t.paths.execsDir, socketDir: t.socketDir,
          tty: false, stdin: false, detach: false },
        { stdout: (b) => out.write(b), stderr: (b) => out.write(b) },
      );
    } catch (err) {
      return { start, end: new Date(), exitCode: -1, output: (err as Error).message };
    }
    const s = session;
    if (cancelled) killTree(s);
    let timedOut = false;
    // As moby: the timeout counts from when the process runs; starting the exec is not the probe's time.
    timer = setTimeout(() => {
      timedOut = true;
      killTree(s);
    }, check.timeoutMs);
    const code = await s.exited;
    clearTimeout(timer);
    const end = new Date();
    if (timedOut) {
      const text = out.toString();
      return { start, end, exitCode: -1, output: `Health check exceeded timeout (${check.timeoutText})${text ? `: ${text}` : ''}` };
    }
    return { start, end, exitCode: code, output: out.toString() };
  })();
  return {
    result,
    cancel: () => {
      cancelled = true;
      if (timer) clearTimeout(timer);
      if (session) killTree(session);
    },
  };
}
