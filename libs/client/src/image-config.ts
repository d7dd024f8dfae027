// Docker's rules for merging an image's config into a container's: the supervisor takes the config already
// merged (CreateContainerRequest.config), so the SDK does it, as dockerd does before it creates a container.
import type { containersV1 } from '@berth/api';
import type { ImageConfig, ImageConfigExecution, ImageHealthcheck } from '@berth/oci';
import { BadImageConfigError, NoCommandError } from './errors';

/** What the user asked for; undefined means "not given" (the image's value applies). */
export interface ContainerOverrides {
  /** --entrypoint: [] (from `--entrypoint ""`) clears the image's entrypoint. */
  entrypoint?: string[];
  /** The command after the image name; [] or undefined keeps the image's Cmd (unless entrypoint is given). */
  cmd?: string[];
  env?: string[];
  workingDir?: string;
  user?: string;
  hostname?: string;
  /** --domainname: the NIS domain name of the container's UTS namespace. */
  domainname?: string;
  labels?: Record<string, string>;
  tty?: boolean;
  openStdin?: boolean;
  stdinOnce?: boolean;
  stopSignal?: string;
  stopTimeout?: number;
  exposedPorts?: string[];
  /** More volume paths, as an image's VOLUME (docker create's Config.Volumes). */
  volumes?: string[];
  /**
   * --health-* flags: each given field replaces the image's (an empty test or a zero keeps it);
   * --no-healthcheck is test ["NONE"].
   */
  healthcheck?: Partial<containersV1.Healthcheck>;
}

export const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export function parseImageConfig(image: string, json: Uint8Array | string): ImageConfig {
  let cfg: unknown;
  try {
    cfg = JSON.parse(typeof json === 'string' ? json : Buffer.from(json).toString('utf8'));
  } catch (err) {
    throw new BadImageConfigError(image, (err as Error).message);
  }
  if (!cfg || typeof cfg !== 'object') throw new BadImageConfigError(image, 'not a JSON object');
  return cfg as ImageConfig;
}

function envKey(kv: string): string {
  const i = kv.indexOf('=');
  return i < 0 ? kv : kv.slice(0, i);
}

/** Image env first, then the user's: a user value replaces the image's of the same name, in place. */
export function mergeEnv(image: string[], user: string[]): string[] {
  const out = [...image];
  for (const kv of user) {
    const k = envKey(kv);
    const i = out.findIndex((e) => envKey(e) === k);
    if (i >= 0) out[i] = kv;
    else out.push(kv);
  }
  if (!out.some((e) => envKey(e) === 'PATH')) out.unshift(DEFAULT_PATH);
  return out;
}

/**
 * The container config Docker would make: entrypoint from --entrypoint or the image; cmd from the
 * arguments, or the image's Cmd unless --entrypoint was given; env, labels and exposed ports merged; working
 * dir, user and stop signal from the user or else the image; the image's volumes kept. Fails when there is nothing to run.
 */
/**
 * docker's merge of the health check: absent flags keep the image's check; otherwise each field the user gave
 * (a test, a non-zero duration or retries) replaces the image's, one by one.
 */
export function mergeHealthcheck(image: ImageHealthcheck | undefined, user: Partial<containersV1.Healthcheck> | undefined): containersV1.Healthcheck | undefined {
  const img: containersV1.Healthcheck | undefined = image
    ? { test: image.Test ?? [], interval: image.Interval ?? 0, timeout: image.Timeout ?? 0, startPeriod: image.StartPeriod ?? 0,
      startInterval: image.StartInterval ?? 0, retries: image.Retries ?? 0 }
    : undefined;
  if (!user) return img;
  const u = { test: [], interval: 0, timeout: 0, startPeriod: 0, startInterval: 0, retries: 0, ...user };
  if (!img) return u;
  return {
    test: u.test.length ? u.test : img.test,
    interval: u.interval || img.interval,
    timeout: u.timeout || img.timeout,
    startPeriod: u.startPeriod || img.startPeriod,
    startInterval: u.startInterval || img.startInterval,
    retries: u.retries || img.retries,
  };
}

/** A container's health check as an image config carries it (docker commit): zero fields left out. */
export function imageHealthcheck(hc: containersV1.Healthcheck): ImageHealthcheck {
  const out: ImageHealthcheck = {};
  if (hc.test.length) out.Test = hc.test;
  if (hc.interval) out.Interval = hc.interval;
  if (hc.timeout) out.Timeout = hc.timeout;
  if (hc.startPeriod) out.StartPeriod = hc.startPeriod;
  if (hc.startInterval) out.StartInterval = hc.startInterval;
  if (hc.retries) out.Retries = hc.retries;
  return out;
}

export function mergeImageConfig(image: string, imageId: string, img: ImageConfig, o: ContainerOverrides): containersV1.ContainerConfig {
  const ic: ImageConfigExecution = img.config ?? {};
  const entrypoint = o.entrypoint !== undefined ? o.entrypoint.filter((s, i) => !(i === 0 && s === '' && o.entrypoint!.length === 1)) : (ic.Entrypoint ?? []);
  let cmd: string[];
  if (o.cmd && o.cmd.length > 0) cmd = o.cmd;
  else if (o.entrypoint !== undefined) cmd = [];
  else cmd = ic.Cmd ?? [];
  if (entrypoint.length === 0 && cmd.length === 0) throw new NoCommandError(image);
  const exposed = new Set<string>(Object.keys(ic.ExposedPorts ?? {}));
  for (const p of o.exposedPorts ?? []) exposed.add(p.includes('/') ? p : `${p}/tcp`);
  return {
    image,
    imageId,
    entrypoint,
    cmd,
    env: mergeEnv(ic.Env ?? [], o.env ?? []),
    workingDir: o.workingDir || ic.WorkingDir || '',
    user: o.user ?? ic.User ?? '',
    hostname: o.hostname ?? '',
    domainname: o.domainname ?? '',
    labels: { ...(ic.Labels ?? {}), ...(o.labels ?? {}) },
    tty: o.tty ?? false,
    openStdin: o.openStdin ?? false,
    stopSignal: o.stopSignal || ic.StopSignal || '',
    stopTimeout: o.stopTimeout ?? 0,
    exposedPorts: [...exposed],
    stdinOnce: o.stdinOnce ?? false,
    // The image's VOLUME paths: the supervisor gives each one not covered by a mount an anonymous volume.
    volumes: [...new Set([...Object.keys(ic.Volumes ?? {}), ...(o.volumes ?? [])])],
    healthcheck: mergeHealthcheck(ic.Healthcheck, o.healthcheck),
  };
}
