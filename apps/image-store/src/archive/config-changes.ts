// Dockerfile-style changes for `docker import --change`: CMD, ENTRYPOINT, ENV, WORKDIR, EXPOSE, USER,
// LABEL, STOPSIGNAL, VOLUME. Each bad line is refused with the line in the message.
import type { ImageConfigExecution } from '@berth/oci';
import { InvalidChangeError } from '../errors';

function parseCommand(line: string, arg: string): string[] {
  if (arg.startsWith('[')) {
    let v: unknown;
    try {
      v = JSON.parse(arg);
    } catch {
      throw new InvalidChangeError(`change "${line}": not a JSON array of strings`);
    }
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new InvalidChangeError(`change "${line}": not a JSON array of strings`);
    return v as string[];
  }
  return ['/bin/sh', '-c', arg];
}

/** Splits `A=1 "B=two words"` or the legacy `KEY value` form into pairs. */
function parsePairs(line: string, arg: string): [string, string][] {
  const words = arg.match(/(?:[^\s"']+|"(?:\\.|[^"])*"|'[^']*')+/g) ?? [];
  if (!words.length) throw new InvalidChangeError(`change "${line}": needs KEY=VALUE`);
  const unquote = (s: string) => s.replace(/^"((?:\\.|[^"])*)"$/, (_, x: string) => x.replace(/\\(.)/g, '$1')).replace(/^'([^']*)'$/, '$1');
  if (!words[0]!.includes('=')) {
    const rest = arg.slice(arg.indexOf(words[0]!) + words[0]!.length).trim();
    if (!rest) throw new InvalidChangeError(`change "${line}": needs KEY=VALUE`);
    return [[words[0]!, unquote(rest)]];
  }
  return words.map((w) => {
    const eq = w.indexOf('=');
    if (eq <= 0) throw new InvalidChangeError(`change "${line}": "${w}" is not KEY=VALUE`);
    return [unquote(w.slice(0, eq)), unquote(w.slice(eq + 1))];
  });
}

export function applyChanges(base: ImageConfigExecution, changes: readonly string[]): ImageConfigExecution {
  const c: ImageConfigExecution = { ...base };
  for (const raw of changes) {
    const line = raw.trim();
    const m = /^([A-Za-z]+)\s+([\s\S]+)$/.exec(line);
    if (!m) throw new InvalidChangeError(`change "${raw}" is not "INSTRUCTION arguments"`);
    const arg = m[2]!.trim();
    switch (m[1]!.toUpperCase()) {
      case 'CMD':
        c.Cmd = parseCommand(line, arg);
        break;
      case 'ENTRYPOINT':
        c.Entrypoint = parseCommand(line, arg);
        break;
      case 'ENV': {
        const env = [...(c.Env ?? [])];
        for (const [k, v] of parsePairs(line, arg)) {
          const i = env.findIndex((e) => e.startsWith(`${k}=`));
          if (i >= 0) env[i] = `${k}=${v}`;
          else env.push(`${k}=${v}`);
        }
        c.Env = env;
        break;
      }
      case 'LABEL':
        c.Labels = { ...(c.Labels ?? {}), ...Object.fromEntries(parsePairs(line, arg)) };
        break;
      case 'WORKDIR':
        if (!arg.startsWith('/')) throw new InvalidChangeError(`change "${line}": WORKDIR must be an absolute path`);
        c.WorkingDir = arg;
        break;
      case 'USER':
        c.User = arg;
        break;
      case 'STOPSIGNAL':
        c.StopSignal = arg;
        break;
      case 'EXPOSE': {
        const ports = { ...(c.ExposedPorts ?? {}) };
        for (const p of arg.split(/\s+/)) {
          const pm = /^(\d{1,5})(?:\/(tcp|udp|sctp))?$/i.exec(p);
          if (!pm || Number(pm[1]) > 65535) throw new InvalidChangeError(`change "${line}": "${p}" is not PORT[/tcp|udp|sctp]`);
          ports[`${pm[1]}/${(pm[2] ?? 'tcp').toLowerCase()}`] = {};
        }
        c.ExposedPorts = ports;
        break;
      }
      case 'VOLUME': {
        const vols = { ...(c.Volumes ?? {}) };
        const list = arg.startsWith('[') ? parseCommand(line, arg) : arg.split(/\s+/);
        for (const v of list) vols[v] = {};
        c.Volumes = vols;
        break;
      }
      default:
        throw new InvalidChangeError(`change "${raw}": unsupported instruction ${m[1]} (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, STOPSIGNAL, USER, VOLUME, WORKDIR)`);
    }
  }
  return c;
}
