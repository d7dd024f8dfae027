// grpc.health.v1.Health/Check for any berth service. The two messages are tiny, so they are encoded here by
// hand rather than pulling in a health-check package: HealthCheckRequest{string service = 1} and
// HealthCheckResponse{ServingStatus status = 1}.
import { channelCredentials } from './config';
import type { ServiceDefinition } from '@grpc/grpc-js';

const STATUS = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'];

export function encodeCheckRequest(service: string): Buffer {
  if (!service) return Buffer.alloc(0);
  const s = Buffer.from(service);
  const len: number[] = [];
  let n = s.length;
  do {
    len.push((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
    n >>>= 7;
  } while (n > 0);
  return Buffer.concat([Buffer.from([0x0a, ...len]), s]);
}

export function decodeCheckResponse(b: Buffer): string {
  // Field 1, wire type 0 (varint); absent means 0 (UNKNOWN). Other fields are skipped by not being read.
  for (let i = 0; i < b.length; ) {
    const tag = b[i++]!;
    let v = 0;
    let shift = 0;
    for (;;) {
      const byte = b[i++] ?? 0;
      v |= (byte & 0x7f) << shift;
      shift += 7;
      if (!(byte & 0x80) || i >= b.length) break;
    }
    if (tag === 0x08) return STATUS[v] ?? String(v);
  }
  return 'UNKNOWN';
}

const definition = {
  check: {
    path: '/grpc.health.v1.Health/Check',
    requestStream: false,
    responseStream: false,
    requestSerialize: (r: { service: string }) => encodeCheckRequest(r.service),
    requestDeserialize: (b: Buffer) => ({ service: b.subarray(2).toString() }),
    responseSerialize: () => Buffer.alloc(0),
    responseDeserialize: (b: Buffer) => ({ status: decodeCheckResponse(b) }),
  },
} as unknown as ServiceDefinition;

/** One Check call: "SERVING", "NOT_SERVING", ...; rejects with the gRPC error (code 14 when unreachable). */
export function checkHealth(target: string, service = '', timeoutMs = 1500): Promise<string> {
  const grpc = require('@grpc/grpc-js') as typeof import('@grpc/grpc-js');
  const Ctor = grpc.makeGenericClientConstructor(definition, 'Health');
  const c = new Ctor(target, channelCredentials(target)) as unknown as import('@grpc/grpc-js').Client & {
    check(r: { service: string }, o: import('@grpc/grpc-js').CallOptions, cb: (e: Error | null, r?: { status: string }) => void): void;
  };
  return new Promise((resolve, reject) =>
    c.check({ service }, { deadline: Date.now() + timeoutMs }, (e, r) => {
      c.close();
      if (e) reject(e);
      else resolve(r!.status);
    }),
  );
}
