// A real nats-server (Debian's binary) with JetStream, on a free loopback port, for tests.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort, waitForPort } from './free-port';

export interface NatsServerHandle {
  url: string;
  port: number;
  storeDir: string;
  pid(): number | undefined;
  /** Stops the server (SIGTERM, then SIGKILL after 5 s). */
  stop(): Promise<void>;
  /** Starts it again on the same port and store. */
  start(): Promise<void>;
  /** Stops it and removes its store. */
  dispose(): Promise<void>;
}

export function natsServerBinary(): string {
  for (const p of [process.env.BERTH_NATS_SERVER, '/usr/bin/nats-server', '/usr/sbin/nats-server', '/usr/local/bin/nats-server']) {
    if (p && fs.existsSync(p)) return p;
  }
  throw new Error('nats-server is not installed (apt-get install nats-server, or run tools/host-setup.sh)');
}

export async function startNatsServer(opts: { port?: number; storeDir?: string } = {}): Promise<NatsServerHandle> {
  const port = opts.port ?? (await freePort());
  const storeDir = opts.storeDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'berth-nats-'));
  let child: ChildProcess | undefined;

  const start = async () => {
    const c = spawn(natsServerBinary(), ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', storeDir], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    c.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    child = c;
    try {
      await Promise.race([
        waitForPort(port),
        new Promise((_, reject) => c.once('exit', (code) => reject(new Error(`nats-server exited with ${code}: ${stderr}`)))),
      ]);
    } catch (err) {
      c.kill('SIGKILL');
      throw err;
    }
  };

  const stop = async () => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
    c.kill('SIGTERM');
    const timer = setTimeout(() => c.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };

  await start();
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir,
    pid: () => child?.pid,
    stop,
    start,
    dispose: async () => {
      await stop();
      fs.rmSync(storeDir, { recursive: true, force: true });
    },
  };
}
