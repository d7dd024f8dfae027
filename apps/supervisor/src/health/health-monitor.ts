// One probe loop per running container with a health check (docker's daemon/health.go monitor). A loop starts
// with the container (status reset to "starting") and after an unpause or a supervisor restart (status kept),
// and ends with it: die, pause, destroy, the supervisor's close. A probe runs outside the container's lock;
// its result is recorded under it (and dropped when the loop ended meanwhile), then the next one is timed.
import type { Entry, RunnerHost } from '../container-types';
import { activeCheck, validateHealthcheck, type ActiveCheck } from './healthcheck';
import { applyProbeResult, nextDelayMs, startingHealth } from './health-state';
import { runProbe, type RunningProbe } from './probe';

export { validateHealthcheck };

/** The event of a health change (docker's health_status), attribute healthStatus "healthy" or "unhealthy". */
export const HEALTH_TOPIC = 'container.health-status';

interface Loop {
  ended: boolean;
  check: ActiveCheck;
  timer?: NodeJS.Timeout | undefined;
  probe?: RunningProbe | undefined;
  /** Settles when the probe in flight (if any) has been recorded or dropped. */
  idle: Promise<void>;
}

/** What the monitor needs of the manager. */
export type HealthHost = Pick<RunnerHost, 'entries' | 'mutex' | 'save' | 'publish' | 'runtimeOf' | 'layout' | 'closed' | 'opts'>;

export class HealthMonitor {
  private readonly loops = new Map<string, Loop>();

  constructor(private readonly h: HealthHost) {}

  /** Follows the container's lifecycle from the events the manager publishes (called under its lock). */
  onEvent(topic: string, e: Entry): void {
    if (topic === 'container.start') this.begin(e, true);
    else if (topic === 'container.unpause') this.begin(e, false);
    else if (topic === 'container.die' || topic === 'container.pause' || topic === 'container.destroy') this.end(e.s.ctr.id);
  }

  /** After re-adoption: the running containers probe again, from the status they had. */
  resumeRunning(): void {
    for (const e of this.h.entries.values()) if (e.s.ctr.state!.status === 'running') this.begin(e, false);
  }

  /** Whether a loop runs for the container (for tests and the README's promise). */
  probing(id: string): boolean {
    return this.loops.has(id);
  }

  /**
   * Ends every loop and waits (up to `waitMs`) for probes in flight to be dropped. A probe killed in a
   * frozen container only ends once it is thawed, so the wait is bounded.
   */
  async close(waitMs = 2000): Promise<void> {
    const idle = [...this.loops.values()].map((l) => l.idle);
    for (const id of [...this.loops.keys()]) this.end(id);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(idle), new Promise((r) => (timer = setTimeout(r, waitMs)))]);
    clearTimeout(timer);
  }

  private begin(e: Entry, reset: boolean): void {
    const id = e.s.ctr.id;
    const check = activeCheck(e.s.ctr.config?.healthcheck);
    this.end(id);
    if (!check) return;
    const st = e.s.ctr.state!;
    if (reset || !st.health) {
      st.health = startingHealth(st.health);
      this.h.save(e);
    }
    const loop: Loop = { ended: false, check, idle: Promise.resolve() };
    this.loops.set(id, loop);
    this.schedule(e, loop);
  }

  private end(id: string): void {
    const loop = this.loops.get(id);
    if (!loop) return;
    this.loops.delete(id);
    loop.ended = true;
    if (loop.timer) clearTimeout(loop.timer);
    loop.probe?.cancel();
  }

  private schedule(e: Entry, loop: Loop): void {
    const st = e.s.ctr.state!;
    const delay = nextDelayMs(loop.check, st.health?.status ?? 'starting', st.startedAt);
    loop.timer = setTimeout(() => {
      loop.timer = undefined;
      // A probe or its recording that fails is logged; the loop goes on either way.
      loop.idle = this.tick(e, loop)
        .catch((err) => this.h.opts.log?.warn({ id: e.s.ctr.id, err: (err as Error).message }, 'health probe failed'))
        .then(() => {
          if (!loop.ended) this.schedule(e, loop);
        });
    }, delay);
    loop.timer.unref();
  }

  private async tick(e: Entry, loop: Loop): Promise<void> {
    const id = e.s.ctr.id;
    if (loop.ended || e.s.ctr.state!.status !== 'running') return;
    loop.probe = runProbe({ ctrId: id, name: e.s.ctr.name, paths: this.h.layout.paths(id), runtime: this.h.runtimeOf(e), socketDir: this.h.layout.socketDir }, loop.check);
    const result = await loop.probe.result;
    loop.probe = undefined;
    if (loop.ended) return;
    await this.h.mutex.run(id, async () => {
      // Stopped, paused or removed while the probe ran (or while waiting for the lock): the result is moot.
      if (loop.ended || this.h.closed || this.h.entries.get(id) !== e) return;
      const st = e.s.ctr.state!;
      st.health ??= startingHealth(undefined);
      const changed = applyProbeResult(st.health, result, loop.check, st.startedAt);
      this.h.save(e);
      // Topics are "<domain>.<action>" without underscores; the inspector shows docker's "health_status: …".
      if (changed && changed !== 'starting') this.h.publish(HEALTH_TOPIC, e, { attributes: { healthStatus: changed } });
    });
  }
}
