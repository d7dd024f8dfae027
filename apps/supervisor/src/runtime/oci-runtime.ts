// The OCI runtime CLI (crun by default, runc selectable): the calls the supervisor makes after conmon created
// the container. Every call gets the same --root so tests and the host's own containers never mix.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RuntimeError } from '../errors';
import { startCreatedCrunContainer } from './crun-state';

export const RUNTIME_BINARIES: Record<string, string> = { crun: '/usr/bin/crun', runc: '/usr/sbin/runc' };

export interface RuntimeResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: string[], input?: string, timeoutMs = 30_000): Promise<RuntimeResult> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) || (err && code === 1 && !stderr ? err.message : '') });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

export class OciRuntime {
  constructor(
    readonly name: string,
    readonly binary: string,
    readonly root: string,
  ) {}

  static forName(name: string, runDir: string): OciRuntime {
    const n = name || 'crun';
    const bin = RUNTIME_BINARIES[n];
    if (!bin) throw new RuntimeError(`unknown runtime ${n}`);
    return new OciRuntime(n, bin, `${runDir}/${n}`);
  }

  private call(args: string[], input?: string): Promise<RuntimeResult> {
    return run(this.binary, [`--root=${this.root}`, ...args], input);
  }

  private async must(what: string, args: string[], input?: string): Promise<string> {
    const r = await this.call(args, input);
    if (r.code !== 0) throw new RuntimeError(`${this.name} ${what} failed: ${r.stderr.trim() || `exit ${r.code}`}`);
    return r.stdout;
  }

  /** The runtime's state ("created", "running", "paused", "stopped"), or undefined when it has no such container. */
  async state(id: string): Promise<{ status: string; pid: number } | undefined> {
    const r = await this.call(['state', id]);
    if (r.code !== 0) return undefined;
    const s = JSON.parse(r.stdout) as { status: string; pid?: number };
    return { status: s.status, pid: s.pid ?? 0 };
  }

  /** Starts a created container's process (crun: in-process when it can, see crun-state.ts). */
  async start(id: string): Promise<void> {
    if (this.name === 'crun' && startCreatedCrunContainer(this.root, id)) return;
    await this.must('start', ['start', id]);
  }

  /** Sends a signal to PID 1; false when the process is gone already. */
  async kill(id: string, signal: number): Promise<boolean> {
    const r = await this.call(['kill', id, String(signal)]);
    if (r.code === 0) return true;
    if (/No such process|not running|container not running|process already finished/i.test(r.stderr)) return false;
    throw new RuntimeError(`${this.name} kill failed: ${r.stderr.trim() || `exit ${r.code}`}`);
  }

  pause(id: string): Promise<string> {
    return this.must('pause', ['pause', id]);
  }

  resume(id: string): Promise<string> {
    return this.must('resume', ['resume', id]);
  }

  /** Removes the runtime's container; a missing one is fine. */
  async delete(id: string, force = false): Promise<void> {
    const r = await this.call(['delete', ...(force ? ['--force'] : []), id]);
    if (r.code !== 0 && !/does not exist|not exist|No such file/i.test(r.stderr)) {
      throw new RuntimeError(`${this.name} delete failed: ${r.stderr.trim() || `exit ${r.code}`}`);
    }
  }

  /** Applies new cgroup limits to a running container (through a file: crun cannot open a socket as stdin). */
  async update(id: string, resources: Record<string, unknown>): Promise<void> {
    fs.mkdirSync(this.root, { recursive: true, mode: 0o700 });
    const file = path.join(this.root, `update-${id}-${process.pid}.json`);
    fs.writeFileSync(file, JSON.stringify(resources));
    try {
      await this.must('update', ['update', '-r', file, id]);
    } finally {
      fs.rmSync(file, { force: true });
    }
  }

  /** Host PIDs of every process in the container. */
  async ps(id: string): Promise<number[]> {
    return JSON.parse(await this.must('ps', ['ps', '--format', 'json', id])) as number[];
  }
}
