// Bad configuration gives one clear line on stderr and a non-zero exit, never a stack trace.
import { freePort, spawnService, startNatsServer, tempBerthDirs, waitHealthy, type NatsServerHandle } from '@berth/testing';
import { summariseFailure } from './helpers';

describe('a service started with bad configuration', () => {
  let nats: NatsServerHandle;
  let dirs: ReturnType<typeof tempBerthDirs>;
  // Every process a test starts is stopped after it, pass or fail.
  const started: ReturnType<typeof spawnService>[] = [];
  const spawn = (opts: Parameters<typeof spawnService>[0]) => {
    const p = spawnService(opts);
    started.push(p);
    return p;
  };

  beforeAll(async () => {
    nats = await startNatsServer();
  });
  beforeEach(() => {
    dirs = tempBerthDirs();
  });
  afterEach(async () => {
    await Promise.all(started.splice(0).map((p) => p.stop('SIGKILL')));
    dirs.cleanup();
  });
  afterAll(async () => {
    await nats.dispose();
  });

  async function failure(proc: ReturnType<typeof spawnService>) {
    const { code } = await proc.exited;
    return { code, ...summariseFailure(proc.output()) };
  }

  it('refuses an unwritable state root', async () => {
    const proc = spawn({ service: 'image-store', root: '/proc/berth-cannot-be-here', runDir: dirs.runDir, natsUrl: nats.url });
    const f = await failure(proc);
    expect(f.code).toBe(1);
    expect(f.hasStack).toBe(false);
    expect(f.lines).toEqual([expect.stringMatching(/^berth image-store: error: state directory \/proc\/berth-cannot-be-here\/image-store is not writable: /)]);
  });

  it('refuses a socket path a live server holds, and leaves that server running', async () => {
    const first = spawn({ service: 'rootfs', root: dirs.root, runDir: dirs.runDir, natsUrl: nats.url });
    await waitHealthy(first);
    const second = spawn({ service: 'rootfs', root: dirs.root + '/second', runDir: dirs.runDir, natsUrl: nats.url });
    const f = await failure(second);
    expect(f.code).toBe(1);
    expect(f.hasStack).toBe(false);
    expect(f.lines).toEqual([`berth rootfs: error: socket ${first.socketPath} is in use by a running server; stop it or choose another address`]);
    await waitHealthy(first);
    await first.stop();
  });

  it('names an unreachable NATS URL', async () => {
    const url = `nats://127.0.0.1:${await freePort()}`;
    const proc = spawn({ service: 'inspector', root: dirs.root, runDir: dirs.runDir, natsUrl: url, env: { BERTH_NATS_CONNECT_TIMEOUT_MS: '800' } });
    const f = await failure(proc);
    expect(f.code).toBe(1);
    expect(f.hasStack).toBe(false);
    expect(f.lines).toHaveLength(1);
    expect(f.lines[0]).toMatch(new RegExp(`^berth inspector: error: cannot reach NATS at ${url}: `));
  });

  it('names an unknown flag', async () => {
    const proc = spawn({ service: 'supervisor', root: dirs.root, runDir: dirs.runDir, natsUrl: nats.url, args: ['--no-such-flag'] });
    const f = await failure(proc);
    expect(f.code).toBe(1);
    expect(f.lines).toEqual([expect.stringMatching(/^berth supervisor: error: unknown argument "--no-such-flag" \(known: --root, /)]);
  });
});
