// A berth of its own for the benchmarks: the launcher (embedded NATS + four services) on a temporary state
// root, with the environment the CLI and clients need to find it.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { freePort } from '@berth/testing';

export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');

export interface BerthInstance {
  env: NodeJS.ProcessEnv;
  root: string;
  runDir: string;
  natsUrl: string;
  launcherPid: number;
  stop(): Promise<void>;
}

export async function startBerth(opts: { root?: string; env?: NodeJS.ProcessEnv } = {}): Promise<BerthInstance> {
  const root = opts.root ?? fs.mkdtempSync('/var/tmp/berth-bench-');
  const runDir = fs.mkdtempSync('/tmp/bb-');
  const natsPort = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    BERTH_ROOT: root,
    BERTH_RUN: runDir,
    BERTH_NATS_PORT: String(natsPort),
    BERTH_NATS_URL: `nats://127.0.0.1:${natsPort}`,
    BERTH_LOG_LEVEL: 'warn',
    BERTH_LOG_JSON: '1',
    ...opts.env,
  };
  // The launcher starts its own NATS unless BERTH_NATS_URL is set: give it the port only.
  const launcherEnv = { ...env };
  delete launcherEnv.BERTH_NATS_URL;
  const child: ChildProcess = spawn(process.execPath, [path.join(REPO_ROOT, 'apps', 'launcher', 'dist', 'main.js')], {
    env: launcherEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
  const deadline = Date.now() + 60_000;
  while (!out.includes('berth is ready')) {
    if (child.exitCode !== null) throw new Error(`berth launcher exited: ${out}`);
    if (Date.now() > deadline) throw new Error(`berth not ready after 60 s: ${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    env,
    root,
    runDir,
    natsUrl: env.BERTH_NATS_URL!,
    launcherPid: child.pid!,
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGINT');
        await exited;
      }
      fs.rmSync(runDir, { recursive: true, force: true });
    },
  };
}

/**
 * Runs the berth CLI as a person would (a new process per command): bin/berth is a sh wrapper that execs node
 * from the CLI's startup snapshot. As [interpreter, script], the shape context.ts spreads; the shebang would
 * run the same /bin/sh.
 */
export function berthCli(): string[] {
  return ['/bin/sh', path.join(REPO_ROOT, 'apps', 'cli', 'bin', 'berth')];
}
