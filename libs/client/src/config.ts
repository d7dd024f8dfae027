// Where the services are, from the same environment the services read (see libs/service-kit config.ts):
// BERTH_<SERVICE>_ADDR (a unix socket path, "unix://...", or host:port), else <BERTH_RUN>/<service>.sock.
// Reimplemented here rather than imported so the CLI does not load the service kit (pino, NATS) at start-up.
import * as path from 'node:path';
import { InvalidArgumentError } from './errors';

export const SERVICES = ['image-store', 'rootfs', 'supervisor', 'inspector'] as const;
export type Service = (typeof SERVICES)[number];
export type Env = Record<string, string | undefined>;

export function serviceTarget(service: Service, env: Env = process.env): string {
  const addr = env[`BERTH_${service.toUpperCase().replace(/-/g, '_')}_ADDR`];
  if (!addr) return 'unix://' + path.join(env.BERTH_RUN || '/run/berth', `${service}.sock`);
  if (addr.startsWith('unix:')) return addr;
  if (addr.startsWith('/')) return 'unix://' + addr;
  return addr;
}

/**
 * Credentials for a target: unix sockets are plain (root-only files). A TCP target uses TLS when BERTH_TLS_CERT
 * and BERTH_TLS_KEY name this client's certificate (the services' mutual TLS), verifying the server against
 * BERTH_TLS_CA, or without it against trustedRoots(); with neither set it is plain.
 */
export function channelCredentials(target: string, env: Env = process.env): import('@grpc/grpc-js').ChannelCredentials {
  const grpc = require('@grpc/grpc-js') as typeof import('@grpc/grpc-js');
  const { BERTH_TLS_CERT: cert, BERTH_TLS_KEY: key, BERTH_TLS_CA: ca } = env;
  if (target.startsWith('unix:') || !(cert || key)) return grpc.credentials.createInsecure();
  if (!cert || !key) throw new InvalidArgumentError(`TLS needs both BERTH_TLS_CERT and BERTH_TLS_KEY (only ${cert ? 'BERTH_TLS_CERT' : 'BERTH_TLS_KEY'} is set)`);
  return grpc.credentials.createSsl(ca ? readPem(ca, 'BERTH_TLS_CA') : trustedRoots(env), readPem(key, 'BERTH_TLS_KEY'), readPem(cert, 'BERTH_TLS_CERT'));
}

/**
 * What a TLS connection trusts without BERTH_TLS_CA: Node's bundled CAs (or, as grpc does, the file
 * GRPC_DEFAULT_SSL_ROOTS_FILE_PATH names instead) plus the files NODE_EXTRA_CA_CERTS named. bin/berth moves
 * that variable to BERTH_NODE_EXTRA_CA_CERTS (Node 20 parses the file at every start, ~35 ms, before it knows
 * whether TLS is needed), so Node's default store lacks those certs there; an explicit list replaces that
 * store, so both variables are read. An unreadable extra file is skipped with a warning, as Node does.
 * Everything is read here, at call time: grpc-js reads GRPC_DEFAULT_SSL_ROOTS_FILE_PATH at module load, which
 * the CLI's startup snapshot would freeze.
 */
export function trustedRoots(env: Env = process.env): Buffer {
  const tls = require('node:tls') as typeof import('node:tls');
  const fs = require('node:fs') as typeof import('node:fs');
  const grpcRoots = env.GRPC_DEFAULT_SSL_ROOTS_FILE_PATH;
  const pems = grpcRoots ? [readPem(grpcRoots, 'GRPC_DEFAULT_SSL_ROOTS_FILE_PATH').toString()] : [...tls.rootCertificates];
  for (const file of new Set([env.BERTH_NODE_EXTRA_CA_CERTS, env.NODE_EXTRA_CA_CERTS])) {
    if (!file) continue;
    try {
      pems.push(fs.readFileSync(file, 'utf8'));
    } catch (e) {
      process.emitWarning(`Ignoring extra certs from ${file}, load failed: ${(e as Error).message}`);
    }
  }
  return Buffer.from(pems.join('\n'));
}

function readPem(file: string, variable: string): Buffer {
  try {
    return require('node:fs').readFileSync(file) as Buffer;
  } catch (e) {
    throw new InvalidArgumentError(`cannot read ${variable} ${file}: ${(e as Error).message}`);
  }
}

export interface ClientOptions {
  /** Explicit targets; missing ones come from the environment. */
  targets?: Partial<Record<Service, string>>;
  env?: Env;
}

export function resolveTargets(opts: ClientOptions = {}): Record<Service, string> {
  const env = opts.env ?? process.env;
  const out = {} as Record<Service, string>;
  for (const s of SERVICES) out[s] = opts.targets?.[s] ?? serviceTarget(s, env);
  return out;
}
