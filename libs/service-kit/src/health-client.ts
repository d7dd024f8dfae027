// A client for grpc.health.v1.Health, used by the launcher, the CLI and tests.
import * as grpc from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';

type HealthClient = grpc.Client & {
  check(
    req: { service: string },
    opts: grpc.CallOptions,
    cb: (err: grpc.ServiceError | null, res?: { status: string | number }) => void,
  ): void;
};

const HealthClientCtor = grpc.makeGenericClientConstructor(healthService as grpc.ServiceDefinition, 'Health');

/** One Check call; resolves to "SERVING", "NOT_SERVING", "UNKNOWN" or "SERVICE_UNKNOWN". */
export function checkHealth(
  target: string,
  service = '',
  timeoutMs = 2000,
  credentials: grpc.ChannelCredentials = grpc.credentials.createInsecure(),
): Promise<string> {
  const client = new HealthClientCtor(target, credentials) as unknown as HealthClient;
  return new Promise<string>((resolve, reject) => {
    client.check({ service }, { deadline: Date.now() + timeoutMs }, (err, res) => {
      client.close();
      if (err) reject(err);
      else resolve(String(res!.status));
    });
  });
}

/** Polls Check until SERVING; rejects after timeoutMs or as soon as `gone()` says the server process died. */
export async function waitServing(target: string, timeoutMs = 20_000, gone: () => boolean = () => false): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    if (gone()) throw new Error(`the server behind ${target} exited`);
    try {
      if ((await checkHealth(target, '', 1000)) === 'SERVING') return;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`${target} not serving after ${timeoutMs} ms: ${(last as Error)?.message ?? 'not SERVING'}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
