// A client of conmon's attach socket (SOCK_SEQPACKET): each datagram is one chunk of output whose first byte
// names the stream (2 stdout, 3 stderr); what we write goes to the container's stdin unframed.
import * as fs from 'node:fs';
import { SeqpacketSocket } from 'node-unix-socket';
import { FailedPreconditionError } from '@berth/service-kit';
import { DetachFilter, parseDetachKeys } from './detach-keys';

/** conmon cuts stdin messages at 32 KiB. */
const STDIN_CHUNK = 32 * 1024;

export class AttachSocketMissingError extends FailedPreconditionError {
  constructor(path: string) {
    super(`attach socket ${path} is not there: the container is not running under conmon`);
  }
}

export interface AttachHandlers {
  stdout(b: Buffer): void;
  stderr(b: Buffer): void;
}

export type AttachEnd = { detached: true } | { detached: false };

export interface AttachConnection {
  /** Input bytes, checked for the detach keys first. */
  write(b: Buffer): void;
  closeStdin(): void;
  /** Ends the session from our side (client gone); the container keeps running. */
  close(): void;
  /** Resolves when the socket closes (the process exited) or the detach keys were typed. */
  done: Promise<AttachEnd>;
}

export function connectAttach(path: string, detachKeys: string, h: AttachHandlers): Promise<AttachConnection> {
  if (!fs.existsSync(path)) return Promise.reject(new AttachSocketMissingError(path));
  const filter = new DetachFilter(parseDetachKeys(detachKeys));
  const sock = new SeqpacketSocket();
  let finish: (e: AttachEnd) => void = () => undefined;
  const done = new Promise<AttachEnd>((r) => (finish = r));
  let closed = false;
  const close = (e: AttachEnd) => {
    if (closed) return;
    closed = true;
    try {
      sock.destroy();
    } catch {
      // already gone
    }
    finish(e);
  };
  sock.on('data', (b: Buffer) => {
    if (b.length < 1) return;
    if (b[0] === 3) h.stderr(b.subarray(1));
    else h.stdout(b.subarray(1));
  });
  sock.on('end', () => close({ detached: false }));
  sock.on('close', () => close({ detached: false }));
  return new Promise<AttachConnection>((resolve, reject) => {
    sock.once('error', (err: Error) => {
      if (!closed) reject(err);
      close({ detached: false });
    });
    try {
      sock.connect(path, () =>
        resolve({
          write: (b: Buffer) => {
            if (closed) return;
            const { forward, detach } = filter.feed(b);
            for (let i = 0; i < forward.length; i += STDIN_CHUNK) sock.write(forward.subarray(i, i + STDIN_CHUNK));
            if (detach) close({ detached: true });
          },
          closeStdin: () => {
            if (!closed) sock.end();
          },
          close: () => close({ detached: true }),
          done,
        }),
      );
    } catch (err) {
      reject(err);
    }
  });
}

/** Writes a command to conmon's ctl FIFO; non-blocking so a gone conmon gives ENXIO, not a hang. */
export function writeCtl(ctlPath: string, line: string): void {
  const fd = fs.openSync(ctlPath, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
  try {
    fs.writeSync(fd, line);
  } finally {
    fs.closeSync(fd);
  }
}

/** A new terminal size ("1 ROWS COLS"). */
export function writeResize(ctlPath: string, rows: number, cols: number): void {
  writeCtl(ctlPath, `1 ${rows} ${cols}\n`);
}

/** Makes conmon reopen its log file ("2 0 0"), after the old one was renamed for rotation. */
export function writeReopenLog(ctlPath: string): void {
  writeCtl(ctlPath, '2 0 0\n');
}
