// A grpc-js server for one berth service: a root-only unix socket (and TCP when configured), the standard
// grpc.health.v1.Health service and server reflection over the services it serves.
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { HealthImplementation, protoPath as healthProtoPath } from 'grpc-health-check';
import { ReflectionService } from '@grpc/reflection';
import { descriptorSetPath } from '@berth/api';
import { FailedPreconditionError, InvalidArgumentError } from './errors';
import type { Logger } from './logger';

export interface ServiceRegistration {
  /** Fully qualified service name, e.g. "berth.images.v1.Content". */
  name: string;
  definition: grpc.ServiceDefinition;
  implementation: grpc.UntypedServiceImplementation;
}

export interface GrpcServerOptions {
  socketPath?: string;
  tcpAddress?: string;
  services: ServiceRegistration[];
  log: Logger;
  /** TCP credentials; insecure when absent. */
  tcpCredentials?: grpc.ServerCredentials;
}

export interface RunningGrpcServer {
  server: grpc.Server;
  health: HealthImplementation;
  /** Where it listens: "unix:///run/berth/x.sock", "127.0.0.1:7001". */
  addresses: string[];
  /** Stops taking calls, lets the calls in flight finish (up to graceMs), then closes. */
  shutdown(graceMs?: number): Promise<void>;
}

/** TLS for TCP with client certificates required (mutual TLS). */
export function serverTlsCredentials(files: { cert: string; key: string; ca: string }): grpc.ServerCredentials {
  const read = (what: string, file: string) => {
    try {
      return fs.readFileSync(file);
    } catch (err) {
      throw new InvalidArgumentError(`cannot read the TLS ${what} ${file}: ${(err as Error).message}`);
    }
  };
  return grpc.ServerCredentials.createSsl(read('CA', files.ca), [{ cert_chain: read('certificate', files.cert), private_key: read('key', files.key) }], true);
}

let cachedPackageDefinition: protoLoader.PackageDefinition | undefined;

function reflectionPackage(): protoLoader.PackageDefinition {
  if (!cachedPackageDefinition) {
    const ours = protoLoader.loadFileDescriptorSetFromBuffer(fs.readFileSync(descriptorSetPath));
    const health = protoLoader.loadSync(healthProtoPath);
    cachedPackageDefinition = { ...ours, ...health };
  }
  return cachedPackageDefinition;
}

/** Throws when a live server answers on the socket; removes a stale socket file left by a dead one. */
async function claimSocket(socketPath: string): Promise<void> {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(socketPath);
  } catch {
    return;
  }
  if (!st.isSocket()) throw new InvalidArgumentError(`${socketPath} exists and is not a socket`);
  const live = await new Promise<boolean>((resolve) => {
    const s = net.connect(socketPath);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
  if (live) throw new FailedPreconditionError(`socket ${socketPath} is in use by a running server; stop it or choose another address`);
  fs.unlinkSync(socketPath);
}

function bind(server: grpc.Server, address: string, creds: grpc.ServerCredentials): Promise<number> {
  return new Promise((resolve, reject) =>
    server.bindAsync(address, creds, (err, port) => (err ? reject(err) : resolve(port))),
  );
}

export async function startGrpcServer(opts: GrpcServerOptions): Promise<RunningGrpcServer> {
  const server = new grpc.Server({ 'grpc.max_receive_message_length': 16 * 1024 * 1024 });
  const statusMap: Record<string, 'SERVING'> = { '': 'SERVING' };
  for (const s of opts.services) {
    server.addService(s.definition, s.implementation);
    statusMap[s.name] = 'SERVING';
  }
  const health = new HealthImplementation(statusMap);
  health.addToServer(server);
  new ReflectionService(reflectionPackage(), {
    services: [...opts.services.map((s) => s.name), 'grpc.health.v1.Health'],
  }).addToServer(server);

  const addresses: string[] = [];
  if (opts.socketPath) {
    fs.mkdirSync(path.dirname(opts.socketPath), { recursive: true, mode: 0o755 });
    await claimSocket(opts.socketPath);
    await bind(server, 'unix://' + opts.socketPath, grpc.ServerCredentials.createInsecure());
    fs.chmodSync(opts.socketPath, 0o660);
    addresses.push('unix://' + opts.socketPath);
  }
  if (opts.tcpAddress) {
    const port = await bind(server, opts.tcpAddress, opts.tcpCredentials ?? grpc.ServerCredentials.createInsecure());
    addresses.push(opts.tcpAddress.replace(/:\d+$/, `:${port}`));
  }
  if (addresses.length === 0) throw new InvalidArgumentError('no address to listen on: give a socket path or a TCP address');

  let closing: Promise<void> | undefined;
  const shutdown = (graceMs = 10_000): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      for (const name of Object.keys(statusMap)) health.setStatus(name, 'NOT_SERVING');
      const timer = setTimeout(() => {
        opts.log.warn({ graceMs }, 'calls still running after the grace time; closing them');
        server.forceShutdown();
        resolve();
      }, graceMs);
      server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    }).then(() => {
      if (opts.socketPath) fs.rmSync(opts.socketPath, { force: true });
    });
    return closing;
  };
  return { server, health, addresses, shutdown };
}
