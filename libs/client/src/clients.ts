// Typed clients for the four services. Each unary RPC is exposed as `(req) => Promise<res>` whose failures
// are SDK errors (errors.ts); streaming RPCs are reached through `raw`, wrapped by the helpers in streams.ts.
// gRPC clients are made on first use, so a program that talks to one service never connects to the others.
import type { CallOptions, Client, ClientUnaryCall, Metadata, ServiceError } from '@grpc/grpc-js';
import type { archiveV1, containersV1, contentV1, imagesV1, inspectorV1, networksV1, snapshotsV1, volumesV1 } from '@berth/api';
import { apiPart } from './api-parts';
import { ArchiveApi } from './archive';
import { channelCredentials, resolveTargets, type ClientOptions, type Env, type Service } from './config';
import { fromServiceError } from './errors';
import { VolumesApi } from './volumes';

/** The unary methods of a generated grpc-js client, promisified. */
/* eslint-disable @typescript-eslint/no-explicit-any */
type UnaryShape<Req, Res> = (req: Req, md: Metadata, o: Partial<CallOptions>, cb: (e: ServiceError | null, r: Res) => void) => ClientUnaryCall;
export type Promisified<C> = {
  [K in keyof C as C[K] extends UnaryShape<any, any> ? K : never]: C[K] extends UnaryShape<infer Req, infer Res> ? (req: Req, opts?: Partial<CallOptions>) => Promise<Res> : never;
};

export interface RawClients {
  containers: containersV1.ContainersClient;
  networks: networksV1.NetworksClient;
  volumes: volumesV1.VolumesClient;
  archive: archiveV1.ArchiveClient;
  images: imagesV1.ImagesClient;
  content: contentV1.ContentClient;
  snapshots: snapshotsV1.SnapshotsClient;
  inspector: inspectorV1.InspectorClient;
}

const SERVICE_OF: Record<keyof RawClients, Service> = {
  containers: 'supervisor',
  networks: 'supervisor',
  volumes: 'supervisor',
  archive: 'supervisor',
  images: 'image-store',
  content: 'image-store',
  snapshots: 'rootfs',
  inspector: 'inspector',
};

// Channel options: large messages (inspect documents, image configs) and no long idle reconnect back-off.
const CHANNEL_OPTIONS = {
  'grpc.max_receive_message_length': 64 * 1024 * 1024,
  'grpc.max_send_message_length': 64 * 1024 * 1024,
  'grpc.initial_reconnect_backoff_ms': 100,
};

function makeRaw(kind: keyof RawClients, target: string, env: Env): Client {
  // Required here, not at the top, so a CLI verb that needs no service loads no gRPC code; and only the
  // generated package of this client (api-parts.ts).
  const creds = channelCredentials(target, env);
  switch (kind) {
    case 'containers':
      return new (apiPart('containersV1').ContainersClient)(target, creds, CHANNEL_OPTIONS);
    case 'networks':
      return new (apiPart('networksV1').NetworksClient)(target, creds, CHANNEL_OPTIONS);
    case 'volumes':
      return new (apiPart('volumesV1').VolumesClient)(target, creds, CHANNEL_OPTIONS);
    case 'archive':
      return new (apiPart('archiveV1').ArchiveClient)(target, creds, CHANNEL_OPTIONS);
    case 'images':
      return new (apiPart('imagesV1').ImagesClient)(target, creds, CHANNEL_OPTIONS);
    case 'content':
      return new (apiPart('contentV1').ContentClient)(target, creds, CHANNEL_OPTIONS);
    case 'snapshots':
      return new (apiPart('snapshotsV1').SnapshotsClient)(target, creds, CHANNEL_OPTIONS);
    case 'inspector':
      return new (apiPart('inspectorV1').InspectorClient)(target, creds, CHANNEL_OPTIONS);
  }
}

/** The fully qualified service name of a client kind, for error messages. */
const QUALIFIED: Record<keyof RawClients, string> = {
  containers: 'berth.containers.v1.Containers',
  networks: 'berth.containers.v1.Networks',
  volumes: 'berth.containers.v1.Volumes',
  archive: 'berth.containers.v1.Archive',
  images: 'berth.images.v1.Images',
  content: 'berth.images.v1.Content',
  snapshots: 'berth.snapshots.v1.Snapshots',
  inspector: 'berth.inspector.v1.Inspector',
};

function promisify<C extends Client>(kind: keyof RawClients, get: () => C, target: string): Promisified<C> {
  return new Proxy({} as Promisified<C>, {
    get(_t, prop) {
      if (typeof prop !== 'string' || prop === 'then') return undefined;
      return (req: unknown, opts: Partial<CallOptions> = {}) =>
        new Promise((resolve, reject) => {
          const c = get() as unknown as Record<string, (...a: unknown[]) => ClientUnaryCall>;
          const fn = c[prop];
          const method = `${QUALIFIED[kind]}/${prop[0]!.toUpperCase()}${prop.slice(1)}`;
          if (typeof fn !== 'function') return reject(fromServiceError(new Error(`no method ${method}`), method, target));
          const grpc = require('@grpc/grpc-js') as typeof import('@grpc/grpc-js');
          fn.call(c, req, new grpc.Metadata(), opts, (err: ServiceError | null, res: unknown) => (err ? reject(fromServiceError(err, method, target)) : resolve(res)));
        });
    },
  });
}

export class BerthClients {
  readonly targets: Record<Service, string>;
  private readonly made = new Map<keyof RawClients, Client>();
  readonly raw: RawClients;
  readonly containers: Promisified<containersV1.ContainersClient>;
  readonly networks: Promisified<networksV1.NetworksClient>;
  /** Volumes (served by the supervisor), with docker's defaults for what is not given. */
  readonly volumes: VolumesApi;
  /** Copying files in and out of containers, export (served by the supervisor). */
  readonly archive: ArchiveApi;
  readonly images: Promisified<imagesV1.ImagesClient>;
  readonly content: Promisified<contentV1.ContentClient>;
  readonly snapshots: Promisified<snapshotsV1.SnapshotsClient>;
  readonly inspector: Promisified<inspectorV1.InspectorClient>;

  private readonly env: Env;

  constructor(opts: ClientOptions = {}) {
    this.targets = resolveTargets(opts);
    this.env = opts.env ?? process.env;
    const self = this;
    this.raw = new Proxy({} as RawClients, { get: (_t, k) => self.client(k as keyof RawClients) });
    this.containers = promisify('containers', () => this.raw.containers, this.targetOf('containers'));
    this.networks = promisify('networks', () => this.raw.networks, this.targetOf('networks'));
    this.volumes = new VolumesApi(promisify('volumes', () => this.raw.volumes, this.targetOf('volumes')));
    this.archive = new ArchiveApi(promisify('archive', () => this.raw.archive, this.targetOf('archive')), () => this.raw.archive, this.targetOf('archive'));
    this.images = promisify('images', () => this.raw.images, this.targetOf('images'));
    this.content = promisify('content', () => this.raw.content, this.targetOf('content'));
    this.snapshots = promisify('snapshots', () => this.raw.snapshots, this.targetOf('snapshots'));
    this.inspector = promisify('inspector', () => this.raw.inspector, this.targetOf('inspector'));
  }

  targetOf(kind: keyof RawClients): string {
    return this.targets[SERVICE_OF[kind]];
  }

  private client(kind: keyof RawClients): Client {
    let c = this.made.get(kind);
    if (!c) {
      c = makeRaw(kind, this.targetOf(kind), this.env);
      this.made.set(kind, c);
    }
    return c;
  }

  /**
   * Starts connecting the channels of these clients now, so a workflow's later calls to other services do
   * not each wait for a connection in turn.
   */
  connectEarly(...kinds: (keyof RawClients)[]): void {
    for (const k of kinds) {
      try {
        this.client(k).getChannel().getConnectivityState(true);
      } catch {
        // the call that needs it reports the problem
      }
    }
  }

  /** Closes every channel made so far. */
  close(): void {
    for (const c of this.made.values()) c.close();
    this.made.clear();
  }
}
