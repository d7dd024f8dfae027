// The SDK's entry point: typed clients plus the workflows that compose the services, as containerd's client
// does. Every workflow undoes what it made when a later step fails, so nothing half made is left behind.
import { randomBytes } from 'node:crypto';
import type { containersV1, imagesV1 } from '@berth/api';
import { apiPart } from './api-parts';
import { BerthClients } from './clients';
import type { ClientOptions } from './config';
import { FailedPreconditionError, NotFoundError, StartFailedError, type BerthClientError } from './errors';
import { mergeImageConfig, parseImageConfig, type ContainerOverrides } from './image-config';
import { exportImages, importImage, pullImage, pushImage, resolveImage, writeBlob, type ImportOptions, type PullOptions, type PullPolicy, type PushOptions } from './image-workflows';
import { attach, exec, type AttachOptions, type ExecOptions, type ExecSession, type IoSession, type OutputSink } from './io-session';
import { commitContainer, type CommitOptions } from './commit';

/** Label on a container's writable snapshot naming the container, so orphans can be found and pruned. */
export const CONTAINER_LABEL = 'berth.container';

export interface CreateOptions {
  image: string;
  name?: string;
  overrides?: ContainerOverrides;
  /** Host configuration; resources, volumes, ports, network, restart policy... */
  hostConfig?: Partial<containersV1.HostConfig>;
  pull?: PullPolicy;
  pullOptions?: PullOptions;
}

export interface RunOptions extends CreateOptions {
  /** Start and return at once (docker run -d). */
  detach?: boolean;
  /** With detach false: how to attach. */
  attach?: Omit<AttachOptions, 'start'>;
  /** Remove the container and its snapshot once it exits (docker run --rm). */
  remove?: boolean;
}

export interface RunResult {
  container: containersV1.Container;
  /** The attach session (not detached). */
  session?: IoSession;
  /**
   * Not detached: resolves once the container exited (and was removed, with remove) with its exit code, or
   * with `detached` when the user typed the detach keys.
   */
  done?: Promise<{ exitCode?: number; detached?: boolean }>;
}

function isStartFailure(err: unknown): err is BerthClientError {
  return err instanceof FailedPreconditionError && /cannot start container/.test(err.message);
}

export class Berth extends BerthClients {
  constructor(opts: ClientOptions = {}) {
    super(opts);
  }

  // ---- images --------------------------------------------------------------------------------------

  resolveImage(reference: string, policy: PullPolicy = 'never', opts: PullOptions = {}): Promise<imagesV1.GetImageResponse> {
    return resolveImage(this, reference, policy, opts);
  }
  pull(reference: string, opts: PullOptions = {}): Promise<imagesV1.Image> {
    return pullImage(this, reference, opts);
  }
  push(reference: string, opts: PushOptions = {}): Promise<imagesV1.PushDone> {
    return pushImage(this, reference, opts);
  }
  importImage(data: AsyncIterable<Buffer | Uint8Array>, opts: ImportOptions = {}): Promise<imagesV1.ImportResponse> {
    return importImage(this, data, opts);
  }
  exportImages(references: string[], format = ''): AsyncGenerator<Buffer> {
    return exportImages(this, references, format);
  }
  writeBlob(data: Buffer, mediaType: string) {
    return writeBlob(this, data, mediaType);
  }

  // ---- containers ----------------------------------------------------------------------------------

  /**
   * Resolve (and maybe pull) the image → Unpack its layers → Prepare a writable snapshot keyed by a new
   * container id → Create the container. A failed Create removes the snapshot it prepared.
   */
  async createContainer(opts: CreateOptions): Promise<containersV1.Container> {
    this.connectEarly('snapshots', 'containers');
    const img = await this.resolveImage(opts.image, opts.pull ?? 'never', opts.pullOptions);
    const r = img.resolved!;
    const config = mergeImageConfig(opts.image, r.id, parseImageConfig(opts.image, r.configJson), opts.overrides ?? {});
    const unpacked = await this.snapshots.unpack({
      layers: r.layers.map((blob, i) => ({ blob, diffId: r.diffIds[i] ?? '' })),
      image: img.image?.name ?? opts.image,
    });
    const id = randomBytes(32).toString('hex');
    const prepared = await this.snapshots.prepare({ key: id, parent: unpacked.chainId, labels: { [CONTAINER_LABEL]: id } });
    try {
      return await this.containers.create({
        id,
        name: opts.name ?? '',
        config,
        hostConfig: apiPart('containersV1').HostConfig.fromPartial(opts.hostConfig ?? {}),
        rootfs: prepared.mounts,
        snapshotKey: id,
      });
    } catch (err) {
      await this.removeSnapshot(id);
      throw err;
    }
  }

  /** Removes a snapshot, ignoring one that is gone already. */
  async removeSnapshot(key: string): Promise<void> {
    if (!key) return;
    try {
      await this.snapshots.remove({ key, force: true, owner: '' });
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
    }
  }

  /** Deletes a container and then its writable snapshot; `removeVolumes`: its anonymous volumes too (rm -v). */
  async removeContainer(ref: string, force = false, removeVolumes = false): Promise<containersV1.Container> {
    const ctr = await this.containers.get({ id: ref });
    await this.containers.delete({ id: ctr.id, force, removeVolumes });
    await this.removeSnapshot(ctr.snapshotKey);
    return ctr;
  }

  /** Turns a failed start into StartFailedError carrying docker's exit code (126, 127...). */
  private async startFailure(id: string, err: unknown): Promise<never> {
    if (!isStartFailure(err)) throw err;
    let code = /not found|no such file/i.test(err.message) ? 127 : /permission denied|not executable/i.test(err.message) ? 126 : 125;
    try {
      const c = await this.containers.get({ id });
      if (c.state?.exitCode) code = c.state.exitCode;
    } catch {
      // removed meanwhile: keep the code from the message
    }
    throw new StartFailedError(err.message, code);
  }

  async start(id: string): Promise<containersV1.Container> {
    try {
      return await this.containers.start({ id });
    } catch (err) {
      return this.startFailure(id, err);
    }
  }

  attach(id: string, opts: AttachOptions, sink: OutputSink): IoSession {
    return attach(this, id, opts, sink);
  }

  exec(id: string, opts: ExecOptions, sink: OutputSink): ExecSession {
    return exec(this, id, opts, sink);
  }

  /**
   * docker run: create, then start detached, or attach-and-start and follow the container to its exit.
   * With remove, the container and its snapshot go once it exited, and also when starting it failed.
   */
  async run(opts: RunOptions, sink?: OutputSink): Promise<RunResult> {
    const hostConfig = { ...opts.hostConfig, autoRemove: !!opts.remove };
    const container = await this.createContainer({ ...opts, hostConfig });
    const id = container.id;
    const cleanup = async (exited: boolean) => {
      if (opts.remove) await this.removeQuietly(id, container.snapshotKey, exited);
    };
    if (opts.detach || !sink) {
      try {
        await this.start(id);
      } catch (err) {
        await cleanup(false);
        throw err;
      }
      return { container };
    }
    const session = this.attach(id, { ...opts.attach, start: true }, sink);
    const done = session.done.then(
      async (end) => {
        if (end.exitCode !== undefined) await cleanup(true);
        return end;
      },
      async (err: unknown) => {
        try {
          await this.startFailure(id, err);
        } catch (e) {
          await cleanup(false);
          throw e;
        }
        return {};
      },
    );
    return { container, session, done };
  }

  /** Waits for an auto-removed container to be gone (the supervisor removes it), then removes its snapshot. */
  private async removeQuietly(id: string, snapshotKey: string, exited: boolean): Promise<void> {
    let gone = false;
    if (exited) {
      try {
        await this.containers.wait({ id, condition: 'removed' }, { deadline: Date.now() + 15_000 });
        gone = true;
      } catch (err) {
        // NOT_FOUND: gone already; else the supervisor did not remove it in time: delete it below
        gone = err instanceof NotFoundError;
      }
    }
    if (!gone) {
      try {
        await this.containers.delete({ id, force: true, removeVolumes: true });
      } catch (err) {
        if (!(err instanceof NotFoundError)) throw err;
      }
    }
    await this.removeSnapshot(snapshotKey);
  }

  /** docker commit: the container's writable layer becomes a new image. */
  commit(ref: string, opts: CommitOptions): Promise<imagesV1.Image> {
    return commitContainer(this, ref, opts);
  }

  /**
   * Removes active snapshots labelled as a container's writable layer whose container no longer exists
   * (e.g. after the supervisor auto-removed a detached --rm container). Returns the keys removed.
   */
  async pruneOrphanSnapshots(): Promise<string[]> {
    const [snaps, ctrs] = await Promise.all([this.snapshots.list({ parent: '' }), this.containers.list({ all: true })]);
    const live = new Set(ctrs.containers.map((c) => c.snapshotKey));
    const out: string[] = [];
    for (const s of snaps.snapshots) {
      if (!s.labels[CONTAINER_LABEL] || live.has(s.key)) continue;
      await this.removeSnapshot(s.key);
      out.push(s.key);
    }
    return out;
  }
}
