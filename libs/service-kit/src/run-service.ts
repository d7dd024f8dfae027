// The main of every berth service: config, logger, state directory, event bus, gRPC server, signals.
// Start-up failures print one line naming what was wrong and exit non-zero; no stack trace.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as v8 from 'node:v8';
import { EventBus } from '@berth/events';
import { loadConfig, type ServiceConfig } from './config';
import { BerthError } from './errors';
import { createLogger, type Logger } from './logger';
import { serverTlsCredentials, startGrpcServer, type RunningGrpcServer, type ServiceRegistration } from './server';

export interface ServiceContext {
  config: ServiceConfig;
  log: Logger;
  bus: EventBus;
}

export interface ServiceParts {
  services: ServiceRegistration[];
  /** Called after the server stopped taking calls and the calls in flight finished. */
  close?: () => Promise<void> | void;
}

export interface ServiceSpec {
  name: string;
  version: string;
  setup(ctx: ServiceContext): Promise<ServiceParts>;
}

export class StateRootError extends BerthError {
  readonly grpcCode = 9; // FAILED_PRECONDITION
}

/**
 * mkdir -p, one component at a time: Node's recursive mkdirSync loops forever when the kernel keeps
 * answering ENOENT for a parent it will never create (as under /proc).
 */
export function makeDirs(dir: string, mode = 0o755): void {
  const parts = path.resolve(dir).split(path.sep).filter(Boolean);
  let cur: string = path.sep;
  for (const part of parts) {
    cur = path.join(cur, part);
    try {
      fs.mkdirSync(cur, { mode });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
}

/** Makes the service's state directory and proves it is writable. */
export function prepareStateDir(dir: string): void {
  try {
    makeDirs(dir, 0o700);
    const probe = path.join(dir, `.write-probe-${process.pid}`);
    fs.writeFileSync(probe, '');
    fs.rmSync(probe);
  } catch (err) {
    throw new StateRootError(`state directory ${dir} is not writable: ${(err as Error).message}`);
  }
}

/**
 * No background TurboFan jobs: Node 20 can deadlock in process.exit() when a concurrent compile job waits for a
 * GC while the main thread joins the platform's threads (seen in the CLI as a process that never ended). The
 * services end with process.exit after a graceful stop, so they take the same guard; optimizing on the main
 * thread costs a little during warm-up only.
 */
export function avoidExitDeadlock(): void {
  v8.setFlagsFromString('--no-concurrent-recompilation');
}

function fail(service: string, err: unknown, log?: Logger): never {
  const msg = err instanceof Error ? err.message : String(err);
  log?.error({ err: msg }, 'start-up failed');
  process.stderr.write(`berth ${service}: error: ${msg}\n`);
  // Exit soon, whatever handles are open, but let pino's async destination flush the line above.
  process.exitCode = 1;
  setTimeout(() => process.exit(1), 100);
  throw Object.assign(new Error(msg), { exiting: true });
}

export async function runService(spec: ServiceSpec): Promise<void> {
  avoidExitDeadlock();
  let config: ServiceConfig;
  try {
    config = loadConfig(spec.name);
  } catch (err) {
    return fail(spec.name, err);
  }
  const log = createLogger(spec.name, config.logLevel);
  let bus: EventBus | undefined;
  let server: RunningGrpcServer | undefined;
  let parts: ServiceParts | undefined;
  try {
    prepareStateDir(config.stateDir);
    bus = await EventBus.connect({
      url: config.natsUrl,
      source: spec.name,
      node: config.node,
      outboxFile: path.join(config.stateDir, 'outbox.db'),
      log,
      connectTimeoutMs: Number(process.env.BERTH_NATS_CONNECT_TIMEOUT_MS ?? 10_000),
    });
    parts = await spec.setup({ config, log, bus });
    const opts: Parameters<typeof startGrpcServer>[0] = { services: parts.services, log, socketPath: config.socketPath };
    if (config.tcpAddress) opts.tcpAddress = config.tcpAddress;
    if (config.tls) opts.tcpCredentials = serverTlsCredentials(config.tls);
    server = await startGrpcServer(opts);
  } catch (err) {
    await bus?.close(500).catch(() => undefined);
    return fail(spec.name, err, log);
  }

  const addresses = server.addresses;
  bus.publish({
    topic: 'service.start',
    subjectId: spec.name,
    attributes: { name: spec.name, version: spec.version },
    body: { $case: 'service', value: { service: spec.name, version: spec.version, addresses, pid: process.pid } },
  });
  log.info({ addresses, root: config.root, nats: config.natsUrl }, 'serving');

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping: finishing calls in flight');
    await server!.shutdown(Number(process.env.BERTH_SHUTDOWN_GRACE_MS ?? 10_000));
    try {
      await parts!.close?.();
    } catch (err) {
      log.error({ err }, 'close failed');
    }
    bus!.publish({
      topic: 'service.stop',
      subjectId: spec.name,
      attributes: { name: spec.name, version: spec.version, signal },
      body: { $case: 'service', value: { service: spec.name, version: spec.version, addresses, pid: process.pid } },
    });
    await bus!.close(2000).catch(() => undefined);
    log.info('stopped');
    log.flush?.();
    setTimeout(() => process.exit(0), 20);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('uncaughtException', (err) => {
    log.fatal({ err }, 'uncaught exception');
    process.exit(70);
  });
}
