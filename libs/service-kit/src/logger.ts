// pino, one JSON line per event; pretty only when a person watches a terminal.
import pino, { type Logger } from 'pino';

export type { Logger };

export function createLogger(service: string, level = 'info', destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = { name: service, level, base: { service, pid: process.pid } };
  if (destination) return pino(options, destination);
  if (process.stderr.isTTY && !process.env.BERTH_LOG_JSON && canResolve('pino-pretty')) {
    return pino({ ...options, transport: { target: 'pino-pretty', options: { destination: 2 } } });
  }
  return pino(options, pino.destination({ fd: 2, sync: false }));
}

function canResolve(mod: string): boolean {
  try {
    require.resolve(mod);
    return true;
  } catch {
    return false;
  }
}
