// `npm start`'s launcher as a person runs it: embedded NATS, four services, restart of one that dies,
// Ctrl-C stops everything.
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { checkHealth, freePort, tempBerthDirs } from '@berth/testing';

const LAUNCHER = path.resolve(__dirname, '..', 'dist', 'main.js');
const SERVICES = ['image-store', 'rootfs', 'supervisor', 'inspector'];

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until<T>(fn: () => T | undefined | false, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('the launcher', () => {
  let dirs: ReturnType<typeof tempBerthDirs>;
  let launcher: ChildProcess;
  let output = '';
  let natsPort: number;
  let nc: NatsConnection;
  const starts: { service: string; pid: number }[] = [];

  beforeAll(async () => {
    dirs = tempBerthDirs();
    natsPort = await freePort();
    launcher = spawn(process.execPath, [LAUNCHER], {
      env: { ...process.env, BERTH_ROOT: dirs.root, BERTH_RUN: dirs.runDir, BERTH_NATS_PORT: String(natsPort), BERTH_LOG_JSON: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    launcher.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    launcher.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    await until(() => output.includes('berth is ready'), 40_000, `"berth is ready" in:\n${output}`);
    nc = await connect({ servers: `nats://127.0.0.1:${natsPort}` });
  });

  afterAll(async () => {
    await nc?.close();
    if (launcher.exitCode === null) launcher.kill('SIGKILL');
    dirs.cleanup();
  });

  it('starts an embedded NATS and all four services, and says where they are', async () => {
    for (const s of SERVICES) {
      expect(output).toContain(`unix://${dirs.runDir}/${s}.sock`);
      expect(await checkHealth(`unix://${dirs.runDir}/${s}.sock`)).toBe('SERVING');
    }
    expect(output).toContain(`nats://127.0.0.1:${natsPort}`);
  });

  it('restarts a service that dies', async () => {
    // Replay the service.start events to learn the PIDs.
    const { jetstream } = await import('@nats-io/jetstream');
    const consumer = await jetstream(nc).consumers.get('BERTH_EVENTS', { filter_subjects: 'berth.events.service.start' });
    const seen = await consumer.fetch({ max_messages: 4, expires: 3000 });
    for await (const m of seen) {
      const ev = m.json<{ service: { service: string; pid: number } }>();
      starts.push({ service: ev.service.service, pid: ev.service.pid });
    }
    const victim = starts.find((s) => s.service === 'rootfs')!;
    expect(victim).toBeDefined();

    const restarted = new Promise<number>((resolve) => {
      const sub = nc.subscribe('berth.events.service.start', {
        callback: (_e, m) => {
          const ev = m.json<{ service: { service: string; pid: number } }>();
          if (ev.service.service === 'rootfs') {
            sub.unsubscribe();
            resolve(ev.service.pid);
          }
        },
      });
    });
    await nc.flush();
    process.kill(victim.pid, 'SIGKILL');
    const newPid = await restarted;
    expect(newPid).not.toBe(victim.pid);
    expect(await checkHealth(`unix://${dirs.runDir}/rootfs.sock`)).toBe('SERVING');
    expect(output).toMatch(/"process":"rootfs".*"msg":"process died; restarting"/);
    starts.push({ service: 'rootfs', pid: newPid });
  });

  it('stops everything on Ctrl-C (SIGINT) and exits 0', async () => {
    const exited = new Promise<number | null>((resolve) => launcher.once('exit', (code) => resolve(code)));
    launcher.kill('SIGINT');
    expect(await exited).toBe(0);
    const live = starts.filter((s) => alive(s.pid) && s.pid !== 0);
    // The killed rootfs PID is gone too; nothing the launcher started survives.
    expect(live).toEqual([]);
    expect(output).toContain('berth stopped');
  });
});
