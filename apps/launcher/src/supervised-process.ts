// A child process the launcher keeps alive: restarted with exponential backoff when it dies on its own.
import { spawn, type ChildProcess } from 'node:child_process';
import type { Logger } from '@berth/service-kit';

export interface SupervisedOptions {
  name: string;
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  log: Logger;
  /** Called after every (re)start, with the new child. */
  onStart?: (child: ChildProcess) => void;
  /** Backoff bounds in ms (default 500 ms doubling to 30 s; reset after 60 s of uptime). */
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

export class SupervisedProcess {
  child: ChildProcess | undefined;
  restarts = 0;
  private stopping = false;
  private backoffMs: number;
  private startedAt = 0;
  private restartTimer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: SupervisedOptions) {
    this.backoffMs = opts.minBackoffMs ?? 500;
  }

  start(): ChildProcess {
    const child = spawn(this.opts.command, this.opts.args, { env: this.opts.env, stdio: ['ignore', 'inherit', 'inherit'] });
    this.child = child;
    this.startedAt = Date.now();
    child.once('exit', (code, signal) => this.onExit(child, code, signal));
    this.opts.onStart?.(child);
    return child;
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (child !== this.child) return;
    this.child = undefined;
    if (this.stopping) return;
    if (Date.now() - this.startedAt > 60_000) this.backoffMs = this.opts.minBackoffMs ?? 500;
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, this.opts.maxBackoffMs ?? 30_000);
    this.restarts++;
    this.opts.log.warn({ process: this.opts.name, code, signal, restartInMs: delay, restarts: this.restarts }, 'process died; restarting');
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (!this.stopping) this.start();
    }, delay);
  }

  /** SIGTERM, then SIGKILL after graceMs; resolves when it is gone. */
  async stop(graceMs = 15_000): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }
}
