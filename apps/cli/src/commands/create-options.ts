// Turns run/create flags into the SDK's create options (docker's flag semantics; values parsed in parse/).
import type { RunOptions } from '@berth/client';
import { UsageError } from '../cli-error';
import { hostFlags, resourceFlags, type HostFlags, type ResourceFlags } from '../parse/host-flags';
import { healthOverrides, type HealthFlags } from '../parse/health-flags';
import { insecureRegistries } from '../parse/registries';
import { parseMount, parseTmpfs, parseVolume } from '../parse/mounts';
import {
  parseBytes, parseCpus, parseDetachKeys, parseEnv, parseEnvFile, parseIntFlag, parseLabels, parseMemorySwap, parsePublish, parseRestart, readLabelFile,
} from '../parse/flags';

export interface ContainerFlags extends HostFlags, ResourceFlags, HealthFlags {
  detach?: boolean;
  interactive?: boolean;
  tty?: boolean;
  rm?: boolean;
  name?: string;
  env?: string[];
  envFile?: string[];
  volume?: string[];
  mount?: string[];
  tmpfs?: string[];
  volumesFrom?: string[];
  labelFile?: string[];
  cidfile?: string;
  logDriver?: string;
  logOpt?: string[];
  publish?: string[];
  publishAll?: boolean;
  expose?: string[];
  cpuShares?: string;
  cpus?: string;
  memory?: string;
  memorySwap?: string;
  pidsLimit?: string;
  restart?: string;
  init?: boolean;
  user?: string;
  workdir?: string;
  entrypoint?: string;
  readOnly?: boolean;
  network?: string;
  hostname?: string;
  stopSignal?: string;
  stopTimeout?: string;
  detachKeys?: string;
  label?: string[];
  pull?: string;
  runtime?: string;
}

const PULL = new Set(['missing', 'never', 'always']);

/** --log-opt key=value pairs (the supervisor checks which keys its driver takes). */
function parseLogOpts(values: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const i = v.indexOf('=');
    if (i <= 0) throw new UsageError(`invalid --log-opt "${v}": use key=value, e.g. max-size=10m`);
    out[v.slice(0, i)] = v.slice(i + 1);
  }
  return out;
}

/** Docker's warnings for flags the network mode makes pointless (the supervisor ignores them; not refused). */
export function flagWarnings(f: ContainerFlags): string[] {
  if (f.network === 'host' && ((f.publish?.length ?? 0) > 0 || f.publishAll)) return ['WARNING: Published ports are discarded when using host network mode'];
  return [];
}

export function createOptions(image: string, command: string[], f: ContainerFlags): RunOptions {
  if (f.rm && f.restart && f.restart !== 'no') throw new UsageError('conflicting options: --restart and --rm');
  if (f.pull && !PULL.has(f.pull)) throw new UsageError(`invalid --pull "${f.pull}": use missing, never or always`);
  const env = [...(f.envFile ?? []).flatMap((file) => parseEnvFile(file)), ...parseEnv(f.env ?? [])];
  const ports = (f.publish ?? []).flatMap(parsePublish);
  const memory = f.memory !== undefined ? parseBytes(f.memory, '--memory') : 0;
  const memorySwap = f.memorySwap !== undefined ? parseMemorySwap(f.memorySwap) : 0;
  if (memorySwap > 0 && !memory) throw new UsageError('--memory-swap needs --memory as well');
  if (memorySwap > 0 && memorySwap < memory) throw new UsageError('--memory-swap must be at least --memory');
  const restart = f.restart ? parseRestart(f.restart) : undefined;
  return {
    image,
    ...(f.name ? { name: f.name } : {}),
    pull: (f.pull as RunOptions['pull']) ?? 'never',
    pullOptions: {
      insecureRegistries: insecureRegistries(image),
      // The credentials `berth login` stored for the image's registry, read only when a pull may happen.
      ...(f.pull && f.pull !== 'never' ? (require('./registry-auth') as typeof import('./registry-auth')).credentialsFor(image) : {}),
    },
    detach: !!f.detach,
    remove: !!f.rm,
    overrides: {
      ...(command.length ? { cmd: command } : {}),
      ...(f.entrypoint !== undefined ? { entrypoint: f.entrypoint === '' ? [] : [f.entrypoint] } : {}),
      env,
      ...(f.workdir ? { workingDir: f.workdir } : {}),
      ...(f.user !== undefined ? { user: f.user } : {}),
      ...(f.hostname ? { hostname: f.hostname } : {}),
      ...(f.domainname ? { domainname: f.domainname } : {}),
      // Files first, so a --label given on the line wins, as docker merges them.
      labels: parseLabels([...(f.labelFile ?? []).flatMap(readLabelFile), ...(f.label ?? [])]),
      tty: !!f.tty,
      openStdin: !!f.interactive,
      // As docker: stdin closes when the first client's input ends, except with a TTY (ctrl-d is the EOF
      // there), so that ctrl-p ctrl-q and a later attach keep typing into the same shell.
      stdinOnce: !!f.interactive && !f.detach && !f.tty,
      ...(f.stopSignal ? { stopSignal: f.stopSignal } : {}),
      ...(f.stopTimeout !== undefined ? { stopTimeout: parseIntFlag(f.stopTimeout, '--stop-timeout', -1) } : {}),
      exposedPorts: [...(f.expose ?? []), ...ports.map((p) => `${p.containerPort}/${p.protocol}`)],
      ...healthOverrides(f),
    },
    hostConfig: {
      resources: {
        cpuShares: f.cpuShares !== undefined ? parseIntFlag(f.cpuShares, '--cpu-shares', 0) : 0,
        nanoCpus: f.cpus !== undefined ? parseCpus(f.cpus) : 0,
        memory,
        memorySwap,
        pidsLimit: f.pidsLimit !== undefined ? parseIntFlag(f.pidsLimit, '--pids-limit', -1) : 0,
        ...resourceFlags(f),
      },
      volumes: [...(f.volume ?? []).map(parseVolume), ...(f.mount ?? []).map(parseMount), ...(f.tmpfs ?? []).map(parseTmpfs)],
      volumesFrom: f.volumesFrom ?? [],
      ...(f.logDriver !== undefined || f.logOpt?.length ? { logConfig: { type: f.logDriver ?? '', options: parseLogOpts(f.logOpt ?? []) } } : {}),
      ports,
      publishAll: !!f.publishAll,
      networkMode: f.network ?? '',
      ...(restart ? { restartPolicy: restart } : {}),
      init: !!f.init,
      readOnly: !!f.readOnly,
      ...(f.runtime ? { runtime: f.runtime } : {}),
      ...(f.detachKeys ? { detachKeys: parseDetachKeys(f.detachKeys) } : {}),
      ...hostFlags(f),
    },
  };
}
