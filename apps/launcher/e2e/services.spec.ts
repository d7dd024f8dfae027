// Each real service process: health over its unix socket and over TCP, reflection, a service.start event.
import * as fs from 'node:fs';
import { connect } from '@nats-io/transport-node';
import {
  checkHealth,
  freePort,
  spawnService,
  startNatsServer,
  tempBerthDirs,
  waitHealthy,
  type NatsServerHandle,
  type ServiceProcess,
} from '@berth/testing';
import { listServicesByReflection } from './helpers';

const EXPECTED_SERVICES: Record<string, string[]> = {
  'image-store': ['berth.images.v1.Content', 'berth.images.v1.Images'],
  rootfs: ['berth.snapshots.v1.Snapshots'],
  supervisor: ['berth.containers.v1.Archive', 'berth.containers.v1.Containers', 'berth.containers.v1.Networks', 'berth.containers.v1.Volumes'],
  inspector: ['berth.inspector.v1.Inspector'],
};

describe.each(Object.keys(EXPECTED_SERVICES))('the %s service process', (service) => {
  let nats: NatsServerHandle;
  let dirs: ReturnType<typeof tempBerthDirs>;
  let proc: ServiceProcess;
  let tcp: string;
  const events: Record<string, unknown>[] = [];

  beforeAll(async () => {
    nats = await startNatsServer();
    dirs = tempBerthDirs();
    const nc = await connect({ servers: nats.url });
    nc.subscribe('berth.events.service.>', { callback: (_e, m) => void events.push(m.json()) });
    await nc.flush();
    tcp = `127.0.0.1:${await freePort()}`;
    proc = spawnService({ service, root: dirs.root, runDir: dirs.runDir, natsUrl: nats.url, tcp });
    await waitHealthy(proc);
    const deadline = Date.now() + 5000;
    while (!events.some((e) => e.topic === 'service.start') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await nc.close();
  });

  afterAll(async () => {
    await proc?.stop();
    await nats?.dispose();
    dirs?.cleanup();
  });

  it('answers health on its root-only unix socket and on TCP', async () => {
    expect(await checkHealth(proc.target)).toBe('SERVING');
    expect(await checkHealth(tcp)).toBe('SERVING');
    for (const name of EXPECTED_SERVICES[service]!) expect(await checkHealth(tcp, name)).toBe('SERVING');
    const st = fs.statSync(proc.socketPath);
    expect(st.isSocket()).toBe(true);
    expect(st.mode & 0o777).toBe(0o660);
    expect(st.uid).toBe(0);
  });

  it('lists its services through server reflection', async () => {
    const names = await listServicesByReflection(proc.target);
    expect(names).toEqual([...EXPECTED_SERVICES[service]!, 'grpc.health.v1.Health'].sort());
  });

  it('announces itself on NATS with a service.start envelope', () => {
    const start = events.find((e) => e.topic === 'service.start');
    expect(start).toMatchObject({
      topic: 'service.start',
      source: service,
      subjectId: service,
      service: { service, pid: proc.child.pid },
    });
    expect((start!.service as { addresses: string[] }).addresses).toEqual([proc.target, tcp]);
    expect(typeof start!.id).toBe('string');
    expect(new Date(start!.time as string).getTime()).toBeGreaterThan(Date.now() - 60_000);
  });

  it('stops cleanly on SIGTERM and removes its socket', async () => {
    const { code } = await proc.stop('SIGTERM');
    expect(code).toBe(0);
    expect(fs.existsSync(proc.socketPath)).toBe(false);
  });
});
