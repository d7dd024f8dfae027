// Shared pieces of the workspace e2e suites: a reflection client and an event collector.
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

const reflectionProto = path.join(path.dirname(require.resolve('@grpc/reflection/package.json')), 'build', 'proto', 'grpc', 'reflection', 'v1', 'reflection.proto');

/** The service names a server lists through grpc.reflection.v1 (as grpcurl list does). */
export function listServicesByReflection(target: string): Promise<string[]> {
  const def = protoLoader.loadSync(reflectionProto);
  const pkg = grpc.loadPackageDefinition(def) as unknown as {
    grpc: { reflection: { v1: { ServerReflection: grpc.ServiceClientConstructor } } };
  };
  const client = new pkg.grpc.reflection.v1.ServerReflection(target, grpc.credentials.createInsecure());
  return new Promise((resolve, reject) => {
    const call = (client as unknown as { serverReflectionInfo(): grpc.ClientDuplexStream<object, { listServicesResponse?: { service: { name: string }[] } }> }).serverReflectionInfo();
    call.on('data', (res) => {
      resolve((res.listServicesResponse?.service ?? []).map((s: { name: string }) => s.name).sort());
      call.end();
      client.close();
    });
    call.on('error', reject);
    call.write({ listServices: '*' });
  });
}

/** Resolves with the first stderr line, the exit code, and whether a stack trace was printed. */
export function summariseFailure(output: string): { lines: string[]; hasStack: boolean } {
  const lines = output.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('{'));
  return { lines, hasStack: /^\s+at .+\(.*:\d+:\d+\)/m.test(output) };
}
