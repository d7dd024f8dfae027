// Where the services are, from the same environment the services read (see libs/service-kit config.ts):
// BERTH_<SERVICE>_ADDR (a unix socket path, "unix://...", or host:port), else <BERTH_RUN>/<service>.sock.
// Reimplemented here rather than imported so the CLI does not load the service kit (pino, NATS) at start-up.
import * as path from 'node:path';

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
 * Credentials for a target: unix sockets are plain (root-only files); a TCP target uses TLS with this client's
 * certificate when BERTH_TLS_CERT, BERTH_TLS_KEY and BERTH_TLS_CA are set (the services' mutual TLS), else plain.
 */
export function channelCredentials(target: string, env: Env = process.env): import('@grpc/grpc-js').ChannelCredentials {
  const grpc = require('@grpc/grpc-js') as typeof import('@grpc/grpc-js');
  const { BERTH_TLS_CERT: cert, BERTH_TLS_KEY: key, BERTH_TLS_CA: ca } = env;
  if (target.startsWith('unix:') || !(cert && key && ca)) return grpc.credentials.createInsecure();
  const fs = require('node:fs') as typeof import('node:fs');
  return grpc.credentials.createSsl(fs.readFileSync(ca), fs.readFileSync(key), fs.readFileSync(cert));
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
