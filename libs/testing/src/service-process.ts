// Runs a built berth service as its own process, the way the launcher does, for tests.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { checkHealth } from '@berth/service-kit';

export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');

export interface ServiceProcessOptions {
  service: string;
  root: string;
  runDir: string;
  natsUrl: string;
  /** Extra TCP address, e.g. "127.0.0.1:0" is not allowed: give a real port. */
  tcp?: string;
  env?: Record<string, string>;
  args?: string[];
}

export interface ServiceProcess {
  child: ChildProcess;
  socketPath: string;
  target: string;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM and wait for the exit. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function serviceMain(service: string): string {
  const main = path.join(REPO_ROOT, 'apps', service, 'dist', 'main.js');
  if (!fs.existsSync(main)) throw new Error(`${main} is missing: build first (npm run build)`);
  return main;
}

export function spawnService(opts: ServiceProcessOptions): ServiceProcess {
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    BERTH_ROOT: opts.root,
    BERTH_RUN: opts.runDir,
    BERTH_NATS_URL: opts.natsUrl,
    BERTH_LOG_LEVEL: 'debug',
    BERTH_LOG_JSON: '1',
    ...opts.env,
  };
  const args = [serviceMain(opts.service), ...(opts.args ?? [])];
  if (opts.tcp) args.push('--tcp', opts.tcp);
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (d: Buffer) => (out = (out + d.toString()).slice(-200_000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const socketPath = path.join(opts.runDir, `${opts.service}.sock`);
  return {
    child,
    socketPath,
    target: 'unix://' + socketPath,
    output: () => out,
    exited,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

export { checkHealth } from '@berth/service-kit';

/** Waits until the service answers SERVING, or fails with its output. */
export async function waitHealthy(proc: ServiceProcess | { target: string; output(): string; child: ChildProcess }, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.child.exitCode !== null) throw new Error(`service exited with ${proc.child.exitCode}:\n${proc.output()}`);
    try {
      if ((await checkHealth(proc.target, '', 1000)) === 'SERVING') return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`service not healthy after ${timeoutMs} ms:\n${proc.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
