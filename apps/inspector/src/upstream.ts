// The generated gRPC clients of the services the inspector reads from, with promise calls, a deadline per
// call and their failures turned into the inspector's errors (a dead service is UNAVAILABLE naming it).
import * as grpc from '@grpc/grpc-js';
import { containersV1, imagesV1, networksV1, snapshotsV1 } from '@berth/api';
import { BerthError } from '@berth/service-kit';
import { UpstreamUnavailableError } from './errors';

/** An error status another service answered with, passed on with its code and message. */
export class UpstreamCallError extends BerthError {
  readonly grpcCode: grpc.status;
  constructor(
    readonly service: string,
    code: grpc.status,
    detail: string,
  ) {
    super(`${service}: ${detail}`);
    this.grpcCode = code;
  }
}

const CALL_DEADLINE_MS = Number(process.env.BERTH_INSPECTOR_CALL_DEADLINE_MS ?? 10_000);

type Callback<Res> = (err: grpc.ServiceError | null, res: Res) => void;

function call<Req, Res>(service: string, target: string, client: grpc.Client, method: string, req: Req): Promise<Res> {
  return new Promise<Res>((resolve, reject) => {
    const fn = (client as unknown as Record<string, (r: Req, md: grpc.Metadata, o: grpc.CallOptions, cb: Callback<Res>) => void>)[method]!;
    fn.call(client, req, new grpc.Metadata(), { deadline: Date.now() + CALL_DEADLINE_MS }, (err, res) => {
      if (!err) return resolve(res);
      if (err.code === grpc.status.UNAVAILABLE || err.code === grpc.status.DEADLINE_EXCEEDED) {
        return reject(new UpstreamUnavailableError(service, target, err.details || err.message));
      }
      reject(new UpstreamCallError(service, err.code, err.details || err.message));
    });
  });
}

export function isNotFound(err: unknown): boolean {
  return err instanceof UpstreamCallError && err.grpcCode === grpc.status.NOT_FOUND;
}

export function isFailedPrecondition(err: unknown): boolean {
  return err instanceof UpstreamCallError && err.grpcCode === grpc.status.FAILED_PRECONDITION;
}

export function isUnimplemented(err: unknown): boolean {
  return err instanceof UpstreamCallError && err.grpcCode === grpc.status.UNIMPLEMENTED;
}

export interface UpstreamTargets {
  supervisor: string;
  imageStore: string;
  rootfs: string;
}

/** What the inspector asks of the other services; an interface so tests can hand in their own. */
export interface Upstream {
  listContainers(): Promise<containersV1.Container[]>;
  getContainer(ref: string): Promise<containersV1.Container>;
  listNetworks(): Promise<networksV1.Network[]>;
  getImage(ref: string): Promise<imagesV1.GetImageResponse>;
  snapshotUsage(key: string): Promise<snapshotsV1.UsageResponse>;
  snapshotStat(key: string): Promise<snapshotsV1.SnapshotInfo>;
  close(): void;
}

export class GrpcUpstream implements Upstream {
  private readonly containers: containersV1.ContainersClient;
  private readonly networks: networksV1.NetworksClient;
  private readonly images: imagesV1.ImagesClient;
  private readonly snapshots: snapshotsV1.SnapshotsClient;

  constructor(private readonly targets: UpstreamTargets) {
    const creds = grpc.credentials.createInsecure();
    this.containers = new containersV1.ContainersClient(targets.supervisor, creds);
    this.networks = new networksV1.NetworksClient(targets.supervisor, creds);
    this.images = new imagesV1.ImagesClient(targets.imageStore, creds);
    this.snapshots = new snapshotsV1.SnapshotsClient(targets.rootfs, creds);
  }

  async listContainers(): Promise<containersV1.Container[]> {
    const res = await call<containersV1.ListContainersRequest, containersV1.ListContainersResponse>('supervisor', this.targets.supervisor, this.containers, 'list', { all: true });
    return res.containers;
  }

  getContainer(ref: string): Promise<containersV1.Container> {
    return call('supervisor', this.targets.supervisor, this.containers, 'get', { id: ref });
  }

  async listNetworks(): Promise<networksV1.Network[]> {
    const res = await call<networksV1.ListNetworksRequest, networksV1.ListNetworksResponse>('supervisor', this.targets.supervisor, this.networks, 'list', { nameContains: '' });
    return res.networks;
  }

  getImage(ref: string): Promise<imagesV1.GetImageResponse> {
    return call('image-store', this.targets.imageStore, this.images, 'get', { reference: ref });
  }

  snapshotUsage(key: string): Promise<snapshotsV1.UsageResponse> {
    return call('rootfs', this.targets.rootfs, this.snapshots, 'usage', { key });
  }

  snapshotStat(key: string): Promise<snapshotsV1.SnapshotInfo> {
    return call('rootfs', this.targets.rootfs, this.snapshots, 'stat', { key });
  }

  close(): void {
    for (const c of [this.containers, this.networks, this.images, this.snapshots]) c.close();
  }
}
