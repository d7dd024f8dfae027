// berth.containers.v1.Containers over gRPC: a thin adapter over ContainerManager and ContainerIo.
import type { ServerDuplexStream } from '@grpc/grpc-js';
import { containersV1 } from '@berth/api';
import { bidiStream, InvalidArgumentError, serverStream, unary, writeMessage, type Logger, type ServiceRegistration } from '@berth/service-kit';
import type { ContainerIo } from '../container-io';
import type { ContainerManager } from '../container-manager';

class StreamProtocolError extends InvalidArgumentError {}

/** The first message of a bidi call, which must be of the `start` case. */
async function firstStart<Req extends { part?: { $case: string; value: unknown } | undefined }, S>(
  call: ServerDuplexStream<Req, unknown>,
  method: string,
): Promise<{ start: S; rest: AsyncIterator<Req> }> {
  const it = call[Symbol.asyncIterator]() as AsyncIterator<Req>;
  const first = await it.next();
  const part = first.done ? undefined : first.value.part;
  if (part?.$case !== 'start') throw new StreamProtocolError(`the first ${method} message must be "start"`);
  return { start: part.value as S, rest: it };
}

/** Feeds the client's later messages to the handlers, in the background; ends quietly when the client does. */
function pump<Req extends { part?: { $case: string; value: unknown } | undefined }>(it: AsyncIterator<Req>, on: (p: NonNullable<Req['part']>) => void, onEnd: () => void): void {
  void (async () => {
    try {
      for (;;) {
        const n = await it.next();
        if (n.done) break;
        if (n.value.part) on(n.value.part as NonNullable<Req['part']>);
      }
    } catch {
      // the call was cancelled
    }
    onEnd();
  })();
}

// Handlers are async so that a lookup that throws at once (NOT_FOUND) becomes a rejection with its status, not UNKNOWN.
export function containersService(mgr: ContainerManager, io: ContainerIo, log: Logger): ServiceRegistration {
  const impl: containersV1.ContainersServer = {
    create: unary(log, 'Containers.Create', async (req: containersV1.CreateContainerRequest) =>
      mgr.create({
        id: req.id,
        name: req.name,
        config: req.config ?? containersV1.ContainerConfig.fromPartial({}),
        hostConfig: req.hostConfig ?? containersV1.HostConfig.fromPartial({}),
        rootfs: req.rootfs,
        snapshotKey: req.snapshotKey,
      }),
    ),
    start: unary(log, 'Containers.Start', async (req: containersV1.ContainerRef) => mgr.start(req.id)),
    stop: unary(log, 'Containers.Stop', async (req: containersV1.StopContainerRequest) => mgr.stop(req.id, req.timeout)),
    kill: unary(log, 'Containers.Kill', async (req: containersV1.KillContainerRequest) => {
      await mgr.kill(req.id, req.signal);
      return {};
    }),
    restart: unary(log, 'Containers.Restart', async (req: containersV1.StopContainerRequest) => mgr.restart(req.id, req.timeout)),
    pause: unary(log, 'Containers.Pause', async (req: containersV1.ContainerRef) => {
      await mgr.pause(req.id);
      return {};
    }),
    resume: unary(log, 'Containers.Resume', async (req: containersV1.ContainerRef) => {
      await mgr.resume(req.id);
      return {};
    }),
    wait: unary(log, 'Containers.Wait', async (req: containersV1.WaitContainerRequest, call) => {
      const ac = new AbortController();
      call.once('cancelled', () => ac.abort());
      const id = mgr.resolve(req.id);
      const exitCode = await mgr.wait(id, req.condition, ac.signal);
      let error = '';
      try {
        error = mgr.get(id).state!.error;
      } catch {
        // removed meanwhile
      }
      return { exitCode, error };
    }),
    delete: unary(log, 'Containers.Delete', async (req: containersV1.DeleteContainerRequest) => {
      await mgr.remove(req.id, req.force, req.removeVolumes);
      return {};
    }),
    rename: unary(log, 'Containers.Rename', async (req: containersV1.RenameContainerRequest) => mgr.rename(req.id, req.newName)),
    update: unary(log, 'Containers.Update', async (req: containersV1.UpdateContainerRequest) => mgr.update(req.id, req.resources, req.restartPolicy)),
    get: unary(log, 'Containers.Get', async (req: containersV1.ContainerRef) => mgr.get(req.id)),
    list: unary(log, 'Containers.List', async (req: containersV1.ListContainersRequest) => ({ containers: mgr.list(req.all) })),
    resize: unary(log, 'Containers.Resize', async (req: containersV1.ResizeRequest) => {
      io.resize(req.id, req.size?.rows ?? 0, req.size?.cols ?? 0, req.execId);
      return {};
    }),

    attach: bidiStream(log, 'Containers.Attach', async (call: ServerDuplexStream<containersV1.AttachRequest, containersV1.AttachResponse>) => {
      const { start, rest } = await firstStart<containersV1.AttachRequest, containersV1.AttachStart>(call, 'Attach');
      const conn = await io.attach(start.id, {
        stdin: start.stdin, stdout: start.stdout, stderr: start.stderr, detachKeys: start.detachKeys, start: start.start,
        size: start.size ? { rows: start.size.rows, cols: start.size.cols } : undefined,
      }, {
        stdout: (b) => call.write({ part: { $case: 'stdout', value: b } }),
        stderr: (b) => call.write({ part: { $case: 'stderr', value: b } }),
      });
      pump(rest, (p) => {
        if (p.$case === 'stdin' && start.stdin) conn.write(p.value);
        else if (p.$case === 'closeStdin') conn.closeStdin();
        else if (p.$case === 'resize') {
          try {
            io.resize(conn.id, p.value.rows, p.value.cols);
          } catch (err) {
            log.info({ err: (err as Error).message }, 'attach resize refused');
          }
        }
      }, () => {
        if (start.stdin) conn.closeStdin();
      });
      call.once('cancelled', () => conn.close());
      const end = await conn.done;
      if (call.cancelled) return;
      if (end.detached) {
        await writeMessage(call, { part: { $case: 'detached', value: true } });
        return;
      }
      const exitCode = await conn.exited;
      await writeMessage(call, { part: { $case: 'exitCode', value: exitCode ?? -1 } });
    }),

    exec: bidiStream(log, 'Containers.Exec', async (call: ServerDuplexStream<containersV1.ExecRequest, containersV1.ExecResponse>) => {
      const { start, rest } = await firstStart<containersV1.ExecRequest, containersV1.ExecStart>(call, 'Exec');
      const x = await io.exec(start.id, {
        args: start.args, env: start.env, workingDir: start.workingDir, user: start.user, tty: start.tty, stdin: start.stdin, detach: start.detach,
        ...(start.size ? { size: { rows: start.size.rows, cols: start.size.cols } } : {}),
      }, {
        stdout: (b) => call.write({ part: { $case: 'stdout', value: b } }),
        stderr: (b) => call.write({ part: { $case: 'stderr', value: b } }),
      });
      await writeMessage(call, { part: { $case: 'started', value: { execId: x.execId, pid: x.pid } } });
      if (start.detach) return;
      pump(rest, (p) => {
        if (p.$case === 'stdin') x.write(p.value);
        else if (p.$case === 'closeStdin') x.closeStdin();
        else if (p.$case === 'resize') {
          try {
            io.resize(start.id, p.value.rows, p.value.cols, x.execId);
          } catch (err) {
            log.info({ err: (err as Error).message }, 'exec resize refused');
          }
        }
      }, () => {
        if (start.stdin) x.closeStdin();
      });
      // The client went away: its exec session goes too.
      call.once('cancelled', () => x.abandon());
      const exitCode = await x.exited;
      if (!call.cancelled) await writeMessage(call, { part: { $case: 'exitCode', value: exitCode } });
    }),

    logs: serverStream(log, 'Containers.Logs', async (req: containersV1.LogsRequest, call) => {
      const ac = new AbortController();
      call.once('cancelled', () => ac.abort());
      const both = !req.stdout && !req.stderr;
      for await (const l of io.logs(req.id, {
        follow: req.follow, since: req.since, until: req.until, tail: req.tail,
        stdout: both || req.stdout, stderr: both || req.stderr, signal: ac.signal,
      })) {
        if (call.cancelled) return;
        await writeMessage(call, { time: l.time, stream: l.stream, line: l.line });
      }
    }),
  };
  return { name: 'berth.containers.v1.Containers', definition: containersV1.ContainersService, implementation: impl };
}
