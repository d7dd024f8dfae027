// Attach and Exec sessions: a bidi stream with PID 1 (or an exec'd process), its output handed to a sink.
import type { ClientDuplexStream } from '@grpc/grpc-js';
import type { containersV1 } from '@berth/api';
import type { BerthClients } from './clients';
import { fromServiceError } from './errors';

export interface OutputSink {
  stdout(b: Buffer): void;
  stderr(b: Buffer): void;
}

export interface SessionEnd {
  /** The process exit code, when it exited. */
  exitCode?: number;
  /** The client typed the detach keys. */
  detached?: boolean;
}

export interface IoSession {
  write(b: Buffer): void;
  closeStdin(): void;
  resize(rows: number, cols: number): void;
  /** Ends the call; the process keeps running (attach) or is abandoned (exec). */
  cancel(): void;
  /** Resolves when the stream ends; rejects with an SDK error when the call failed. */
  done: Promise<SessionEnd>;
}

type Part<T> = T extends { part?: infer P } ? NonNullable<P> : never;

function session<Req extends { part?: unknown }, Res extends { part?: unknown }>(
  call: ClientDuplexStream<Req, Res>,
  method: string,
  target: string,
  sink: OutputSink,
  onOther: (p: Part<Res>) => SessionEnd | undefined,
): IoSession {
  let end: SessionEnd = {};
  let ended = false;
  const done = new Promise<SessionEnd>((resolve, reject) => {
    call.on('data', (m: Res) => {
      const p = m.part as { $case: string; value: unknown } | undefined;
      if (!p) return;
      if (p.$case === 'stdout') sink.stdout(Buffer.from(p.value as Uint8Array));
      else if (p.$case === 'stderr') sink.stderr(Buffer.from(p.value as Uint8Array));
      else {
        const e = onOther(p as unknown as Part<Res>);
        if (e) end = e;
      }
    });
    call.on('error', (err) => {
      ended = true;
      if ((err as { code?: number }).code === 1 && (end.exitCode !== undefined || end.detached)) resolve(end);
      else reject(fromServiceError(err, method, target));
    });
    call.on('end', () => {
      ended = true;
      resolve(end);
    });
  });
  done.catch(() => undefined);
  const send = (part: unknown) => {
    if (!ended) call.write({ part } as Req);
  };
  return {
    write: (b) => send({ $case: 'stdin', value: b }),
    closeStdin: () => send({ $case: 'closeStdin', value: true }),
    resize: (rows, cols) => send({ $case: 'resize', value: { rows, cols } }),
    cancel: () => {
      ended = true;
      call.cancel();
    },
    done,
  };
}

export interface AttachOptions {
  stdin?: boolean;
  stdout?: boolean;
  stderr?: boolean;
  detachKeys?: string;
  /** Start the container once attached (run without -d, start -a). */
  start?: boolean;
  size?: { rows: number; cols: number };
}

export function attach(c: BerthClients, id: string, opts: AttachOptions, sink: OutputSink): IoSession {
  const call = c.raw.containers.attach();
  const s = session<containersV1.AttachRequest, containersV1.AttachResponse>(call, '/berth.containers.v1.Containers/Attach', c.targetOf('containers'), sink, (p) => {
    if (p.$case === 'exitCode') return { exitCode: p.value };
    if (p.$case === 'detached') return { detached: true };
    return undefined;
  });
  call.write({
    part: {
      $case: 'start',
      value: {
        id,
        stdin: opts.stdin ?? false,
        stdout: opts.stdout ?? true,
        stderr: opts.stderr ?? true,
        detachKeys: opts.detachKeys ?? '',
        start: opts.start ?? false,
        size: opts.size,
      },
    },
  });
  return s;
}

export interface ExecOptions {
  args: string[];
  env?: string[];
  workingDir?: string;
  user?: string;
  tty?: boolean;
  stdin?: boolean;
  detach?: boolean;
  size?: { rows: number; cols: number };
}

export interface ExecSession extends IoSession {
  started: Promise<containersV1.ExecStarted>;
}

export function exec(c: BerthClients, id: string, opts: ExecOptions, sink: OutputSink): ExecSession {
  const call = c.raw.containers.exec();
  let onStarted!: (s: containersV1.ExecStarted) => void;
  const started = new Promise<containersV1.ExecStarted>((r) => (onStarted = r));
  const s = session<containersV1.ExecRequest, containersV1.ExecResponse>(call, '/berth.containers.v1.Containers/Exec', c.targetOf('containers'), sink, (p) => {
    if (p.$case === 'started') onStarted(p.value);
    if (p.$case === 'exitCode') return { exitCode: p.value };
    return undefined;
  });
  // A failure before "started" rejects started too.
  const startedOrFail = Promise.race([started, s.done.then(() => started)]);
  startedOrFail.catch(() => undefined);
  call.write({
    part: {
      $case: 'start',
      value: {
        id,
        args: opts.args,
        env: opts.env ?? [],
        workingDir: opts.workingDir ?? '',
        user: opts.user ?? '',
        tty: opts.tty ?? false,
        stdin: opts.stdin ?? false,
        detach: opts.detach ?? false,
        size: opts.size,
      },
    },
  });
  return { ...s, started: startedOrFail };
}
