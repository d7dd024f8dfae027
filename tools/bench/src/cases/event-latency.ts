// Event latency: from a container's state change (the envelope's time, set by the supervisor when it
// publishes) to a plain NATS subscriber in this process receiving it, over many SDK `run --rm true`.
// Same host, same clock; envelope times are in milliseconds, so figures under 1 ms round.
import { connect } from '@nats-io/transport-node';
import type { CaseResult } from '../harness';
import { summarise, quantile } from '../stats';
import { type BenchContext, type CaseModule } from '../context';
import { sdkRunTrue } from './run-rm';

export const eventLatency: CaseModule = {
  name: 'event-latency',
  async run(ctx: BenchContext): Promise<CaseResult[]> {
    await ctx.ensureImages();
    const nc = await connect({ servers: ctx.berth.natsUrl });
    const byTopic: Record<string, number[]> = {};
    const all: number[] = [];
    let counting = false;
    const sub = nc.subscribe('berth.events.container.>', {
      callback: (err, msg) => {
        const received = Date.now();
        if (err || !counting) return;
        const env = JSON.parse(msg.string()) as { time?: string; topic?: string };
        if (!env.time) return;
        const d = received - Date.parse(env.time);
        all.push(d);
        (byTopic[env.topic ?? msg.subject] ??= []).push(d);
      },
    });
    const n = Math.max(50, ctx.runs * 5);
    try {
      for (let i = 0; i < 3; i++) await sdkRunTrue(ctx.sdk, 'none');
      counting = true;
      for (let i = 0; i < n; i++) {
        await sdkRunTrue(ctx.sdk, 'none');
        ctx.log(`  event-latency: run ${i + 1}/${n}`);
      }
      await nc.flush();
      await new Promise((r) => setTimeout(r, 500));
    } finally {
      counting = false;
      sub.unsubscribe();
      await nc.close();
    }
    const sorted = [...all].sort((a, b) => a - b);
    return [
      {
        name: 'event-latency',
        description: `envelope time → receipt by a NATS subscriber, container.* events of ${n} run --rm (ms, ms resolution)`,
        unit: 'ms',
        results: { berth: summarise(all) },
        ratios: {},
        notes: {
          events: all.length,
          p50: quantile(sorted, 0.5),
          p99: quantile(sorted, 0.99),
          max: sorted[sorted.length - 1],
          byTopicMedianP99: Object.fromEntries(
            Object.entries(byTopic).map(([k, v]) => {
              const s = [...v].sort((a, b) => a - b);
              return [k, { n: s.length, p50: quantile(s, 0.5), p99: quantile(s, 0.99) }];
            }),
          ),
        },
      },
    ];
  },
};
