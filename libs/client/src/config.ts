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
