// Noticing exits: fs.watch on conmon's exit dir, with a poll as fallback that also rotates active containers'
// logs. What an exit file means is exit-handling.ts's; this only calls `check(id, fromPoll)`.
import * as fs from 'node:fs';
import type { RunnerHost } from './container-types';
import { writeReopenLog } from './io/attach';
import { rotateLog } from './io/k8s-log';
import { ACTIVE } from './runner-common';
import { logDriver, logRotationOf } from './io/log-config';

export class ExitWatcher {
  private watcher: fs.FSWatcher | undefined;
  private poller: NodeJS.Timeout | undefined;

  constructor(private readonly h: RunnerHost, private readonly check: (id: string, fromPoll?: boolean) => void) {}

  start(): void {
    try {
      this.watcher = fs.watch(this.h.layout.exitDir, (_ev, file) => {
        if (file && this.h.entries.has(String(file))) this.check(String(file));
      });
      this.watcher.on('error', () => undefined);
    } catch (err) {
      this.h.opts.log?.warn({ err: (err as Error).message }, 'cannot watch the exit dir; polling only');
    }
    this.poller = setInterval(() => {
      for (const [id, e] of this.h.entries) {
        if (!ACTIVE.has(e.s.ctr.state!.status)) continue;
        this.check(id, true);
        this.maybeRotateLog(id);
      }
    }, this.h.opts.pollIntervalMs ?? 1000);
    this.poller.unref();
  }

  private maybeRotateLog(id: string): void {
    // --log-opt max-size/max-file replace the default rotation; the none driver has no file.
    const lc = this.h.entries.get(id)?.s.ctr.hostConfig?.logConfig;
    if (logDriver(lc) === 'none') return;
    const rot = logRotationOf(lc) ?? this.h.opts.logRotation;
    if (!rot || rot.maxSize <= 0) return;
    const p = this.h.layout.paths(id);
    try {
      if (fs.statSync(p.log).size <= rot.maxSize) return;
      rotateLog(p.log, Math.max(1, rot.maxFiles), () => writeReopenLog(p.ctl));
    } catch (err) {
      this.h.opts.log?.warn({ id, err: (err as Error).message }, 'log rotation failed');
    }
  }

  /** Stops watching exit files; containers keep running under their conmon. */
  close(): void {
    this.watcher?.close();
    if (this.poller) clearInterval(this.poller);
  }
}
