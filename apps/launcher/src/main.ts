// `npm start`: the single-host berth. Starts a nats-server with JetStream (unless BERTH_NATS_URL points at
// one) and the four services, each as its own process; restarts one that dies; Ctrl-C stops them all.
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import {
  avoidExitDeadlock,
  createLogger,
  defaultRoot,
  defaultRunDir,
  SERVICE_NAMES,
  serviceTarget,
  waitServing,
} from '@berth/service-kit';
import { hostProblems } from './host-check';
import { SupervisedProcess } from './supervised-process';

const APPS_DIR = path.resolve(__dirname, '..', '..');

function fail(msg: string): never {
  process.stderr.write(`berth launcher: error: ${msg}\n`);
  process.exit(1);
}

function waitForPort(port: number, timeoutMs: number, gone: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      if (gone()) return reject(new Error('nats-server exited'));
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve();
      });
      s.once('error', () => {
        if (Date.now() > deadline) reject(new Error(`nats-server does not listen on 127.0.0.1:${port}`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

async function main(): Promise<void> {
  avoidExitDeadlock();
  const started = Date.now();
  const log = createLogger('launcher', process.env.BERTH_LOG_LEVEL ?? 'info');
  const root = path.resolve(defaultRoot());
  const runDir = path.resolve(defaultRunDir());
  const externalNats = process.env.BERTH_NATS_URL;
  const problems = hostProblems({ needNats: !externalNats });
  if (problems.length) fail(problems.join('\n  '));
  try {
    fs.mkdirSync(root, { recursive: true, mode: 0o711 });
    fs.mkdirSync(runDir, { recursive: true, mode: 0o755 });
  } catch (err) {
    fail(`cannot create ${root} or ${runDir}: ${(err as Error).message}`);
  }

  const procs: SupervisedProcess[] = [];
  let natsUrl = externalNats;
  if (!natsUrl) {
    const port = Number(process.env.BERTH_NATS_PORT ?? 4222);
    const storeDir = path.join(root, 'nats');
    fs.mkdirSync(storeDir, { recursive: true, mode: 0o700 });
    const nats = new SupervisedProcess({
      name: 'nats-server',
      command: 'nats-server',
      args: ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', storeDir, '-l', path.join(storeDir, 'nats-server.log')],
      env: process.env,
      log,
    });
    nats.start();
    procs.push(nats);
    try {
      await waitForPort(port, 10_000, () => nats.child === undefined);
    } catch (err) {
      fail(`${(err as Error).message} (is port ${port} taken? set BERTH_NATS_PORT or BERTH_NATS_URL)`);
    }
    natsUrl = `nats://127.0.0.1:${port}`;
  }

  const env = { ...process.env, BERTH_ROOT: root, BERTH_RUN: runDir, BERTH_NATS_URL: natsUrl };
  const services = SERVICE_NAMES.map((name) => {
    const main = path.join(APPS_DIR, name, 'dist', 'main.js');
    if (!fs.existsSync(main)) fail(`${main} is missing: build berth first (npm run build)`);
    const p = new SupervisedProcess({ name, command: process.execPath, args: [main], env, log });
    p.start();
    procs.push(p);
    return { name, proc: p };
  });

  let shuttingDown = false;
  const shutdown = async (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    log.info({ signal }, 'stopping berth (containers keep running under conmon)');
    // Services first (they flush their events to NATS), NATS last.
    await Promise.all(services.map((s) => s.proc.stop()));
    await Promise.all(procs.filter((p) => !services.some((s) => s.proc === p)).map((p) => p.stop()));
    log.info('berth stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));

  try {
    await Promise.all(services.map((s) => waitServing(serviceTarget(s.name, env), 30_000)));
  } catch (err) {
    log.error({ err: (err as Error).message }, 'a service did not become healthy');
    await shutdown('startup-failure');
    return;
  }
  const lines = [
    `berth is ready (${Date.now() - started} ms)`,
    `  state root   ${root}`,
    `  NATS         ${natsUrl}${externalNats ? '' : ' (embedded; JetStream stream BERTH_EVENTS)'}`,
    ...services.map((s) => `  ${s.name.padEnd(12)} ${serviceTarget(s.name, env)}`),
    '  try:         npx berth version    (Ctrl-C stops berth; containers keep running)',
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

void main();
