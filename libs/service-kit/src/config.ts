// Service configuration from flags and environment, one documented prefix: BERTH_.
//
//   BERTH_ROOT       state root (default /var/lib/berth); each service uses <root>/<service>
//   BERTH_RUN        runtime directory for sockets (default /run/berth)
//   BERTH_NATS_URL   NATS server URL (default nats://127.0.0.1:4222)
//   BERTH_<SERVICE>_ADDR   where a service listens / is reached: a unix socket path
//                    ("/run/berth/x.sock" or "unix:///..."), or "host:port" for TCP.
//   BERTH_<SERVICE>_TCP    an extra TCP address to listen on, besides the unix socket
//   BERTH_LOG_LEVEL  pino level (default info)
//   BERTH_NODE       node name in events (default the host name)
//   BERTH_TLS_CERT, BERTH_TLS_KEY, BERTH_TLS_CA   PEM files: TCP is served over TLS and every client must
//                    present a certificate signed by the CA. Without them a service listens on TCP only on
//                    a loopback address, unless BERTH_INSECURE_TCP=1 says otherwise.
// Flags override the environment: --root, --run, --nats-url, --addr, --tcp, --log-level.
import * as os from 'node:os';
import * as path from 'node:path';
import { InvalidArgumentError } from './errors';

export const SERVICE_NAMES = ['image-store', 'rootfs', 'supervisor', 'inspector'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

export interface ServiceConfig {
  service: string;
  root: string;
  stateDir: string;
  runDir: string;
  natsUrl: string;
  /** Unix socket path the service listens on. */
  socketPath: string;
  /** Optional TCP address ("127.0.0.1:7001"). */
  tcpAddress?: string;
  logLevel: string;
  node: string;
  /** PEM file paths for TLS with client certificates on TCP. */
  tls?: TlsFiles;
}

export interface TlsFiles {
  cert: string;
  key: string;
  ca: string;
}

/** TLS files from BERTH_TLS_CERT/KEY/CA: all three or none. */
export function tlsFilesFromEnv(env: Env = process.env): TlsFiles | undefined {
  const cert = env.BERTH_TLS_CERT;
  const key = env.BERTH_TLS_KEY;
  const ca = env.BERTH_TLS_CA;
  if (!cert && !key && !ca) return undefined;
  if (!cert || !key || !ca) throw new InvalidArgumentError('TLS needs all of BERTH_TLS_CERT, BERTH_TLS_KEY and BERTH_TLS_CA');
  return { cert, key, ca };
}

function isLoopbackAddress(addr: string): boolean {
  const host = addr.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

export type Env = Record<string, string | undefined>;

/** "image-store" → "BERTH_IMAGE_STORE". */
export function envPrefix(service: string): string {
  return 'BERTH_' + service.toUpperCase().replace(/-/g, '_');
}

export function defaultRoot(env: Env = process.env): string {
  return env.BERTH_ROOT || '/var/lib/berth';
}

export function defaultRunDir(env: Env = process.env): string {
  return env.BERTH_RUN || '/run/berth';
}

/**
 * The gRPC target a client uses to reach a service: the override from BERTH_<SERVICE>_ADDR, else the
 * default socket under BERTH_RUN. Returned in grpc-js target form ("unix:///path" or "host:port").
 */
export function serviceTarget(service: string, env: Env = process.env): string {
  const addr = env[`${envPrefix(service)}_ADDR`];
  if (!addr) return 'unix://' + path.join(defaultRunDir(env), `${service}.sock`);
  return normaliseTarget(addr);
}

export function normaliseTarget(addr: string): string {
  if (addr.startsWith('unix:')) return addr;
  if (addr.startsWith('/')) return 'unix://' + addr;
  return addr;
}

function parseFlags(argv: string[]): Map<string, string> {
  const known = new Set(['root', 'run', 'nats-url', 'addr', 'tcp', 'log-level', 'node']);
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!m || !known.has(m[1]!)) throw new InvalidArgumentError(`unknown argument "${arg}" (known: ${[...known].map((k) => '--' + k).join(', ')})`);
    let value = m[2];
    if (value === undefined) {
      value = argv[++i];
      if (value === undefined) throw new InvalidArgumentError(`flag --${m[1]} needs a value`);
    }
    flags.set(m[1]!, value);
  }
  return flags;
}

export function loadConfig(service: string, argv: string[] = process.argv.slice(2), env: Env = process.env): ServiceConfig {
  const flags = parseFlags(argv);
  const prefix = envPrefix(service);
  const root = path.resolve(flags.get('root') ?? defaultRoot(env));
  const runDir = path.resolve(flags.get('run') ?? defaultRunDir(env));
  const addr = flags.get('addr') ?? env[`${prefix}_ADDR`];
  let socketPath = path.join(runDir, `${service}.sock`);
  let tcpAddress = flags.get('tcp') ?? env[`${prefix}_TCP`];
  if (addr) {
    const target = normaliseTarget(addr);
    if (target.startsWith('unix:')) socketPath = target.replace(/^unix:(\/\/)?/, '');
    else tcpAddress = target;
  }
  if (Buffer.byteLength(socketPath) > 107) throw new InvalidArgumentError(`socket path ${socketPath} is longer than 107 bytes; choose a shorter BERTH_RUN`);
  if (tcpAddress && !/^[^:]+:\d{1,5}$|^\[[0-9a-f:]+\]:\d{1,5}$/i.test(tcpAddress)) {
    throw new InvalidArgumentError(`TCP address "${tcpAddress}" is not host:port`);
  }
  const cfg: ServiceConfig = {
    service,
    root,
    stateDir: path.join(root, service),
    runDir,
    natsUrl: flags.get('nats-url') ?? env.BERTH_NATS_URL ?? 'nats://127.0.0.1:4222',
    socketPath,
    logLevel: flags.get('log-level') ?? env.BERTH_LOG_LEVEL ?? 'info',
    node: flags.get('node') ?? env.BERTH_NODE ?? os.hostname(),
  };
  if (tcpAddress) cfg.tcpAddress = tcpAddress;
  const tls = tlsFilesFromEnv(env);
  if (tls) cfg.tls = tls;
  if (tcpAddress && !tls && !isLoopbackAddress(tcpAddress) && env.BERTH_INSECURE_TCP !== '1') {
    throw new InvalidArgumentError(
      `refusing to listen on ${tcpAddress} without TLS: set BERTH_TLS_CERT, BERTH_TLS_KEY and BERTH_TLS_CA (clients must then present a certificate), or BERTH_INSECURE_TCP=1`,
    );
  }
  return cfg;
}
