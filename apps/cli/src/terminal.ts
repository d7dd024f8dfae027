// The local terminal during run -it / attach / exec -it: raw mode, resize forwarding, and stdin forwarding.
import type { IoSession, OutputSink } from '@berth/client';

export interface TerminalHandle {
  restore(): void;
}

export function terminalSize(): { rows: number; cols: number } | undefined {
  if (!process.stdout.isTTY) return undefined;
  return { rows: process.stdout.rows, cols: process.stdout.columns };
}

/** Writes container output to our stdout/stderr, with backpressure ignored (the streams buffer). */
export const stdioSink: OutputSink = {
  stdout: (b) => process.stdout.write(b),
  stderr: (b) => process.stderr.write(b),
};

/**
 * Connects the local terminal to a session: stdin bytes (when `stdin`), raw mode when `tty` and stdin is a
 * terminal, and the terminal size on every SIGWINCH ('resize' on stdout).
 */
export function connectTerminal(session: IoSession, opts: { stdin: boolean; tty: boolean }): TerminalHandle {
  const raw = opts.tty && opts.stdin && process.stdin.isTTY;
  if (raw) process.stdin.setRawMode(true);
  const onData = (b: Buffer) => session.write(b);
  const onEnd = () => session.closeStdin();
  if (opts.stdin) {
    process.stdin.on('data', onData);
    process.stdin.once('end', onEnd);
    process.stdin.resume();
  }
  const onResize = () => {
    const s = terminalSize();
    if (s) session.resize(s.rows, s.cols);
  };
  if (opts.tty && process.stdout.isTTY) process.stdout.on('resize', onResize);
  return {
    restore: () => {
      if (raw) process.stdin.setRawMode(false);
      process.stdin.off('data', onData);
      process.stdin.off('end', onEnd);
      process.stdin.pause();
      process.stdout.off('resize', onResize);
    },
  };
}
