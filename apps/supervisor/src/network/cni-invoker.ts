// Calls CNI plugins the way libcni does (CNI spec 1.0): one exec per plugin with the CNI_* environment,
// the plugin's config on stdin (plus name, cniVersion, prevResult and the runtimeConfig for the
// capabilities it declares), the result JSON on stdout, or an error {code, msg} and a non-zero exit.
// ADD walks the list in order feeding each plugin the previous result; DEL walks it in reverse with the
// final ADD result, which the caller must have cached (the plugins keep no copy).
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CniPluginError, CniPluginMissingError } from './errors';

export const DEFAULT_CNI_PATH = '/usr/lib/cni';
export const CNI_VERSION = '1.0.0';

/** One plugin object of a network configuration list. */
export interface CniPluginConf {
  type: string;
  capabilities?: Record<string, boolean>;
  [key: string]: unknown;
}

export interface CniConfList {
  cniVersion: string;
  name: string;
  plugins: CniPluginConf[];
}

export interface CniInterface {
  name: string;
  mac?: string;
  sandbox?: string;
}

export interface CniIpConfig {
  /** Index into interfaces. */
  interface?: number;
  /** CIDR, e.g. "10.88.0.2/16". */
  address: string;
  gateway?: string;
}

export interface CniResult {
  cniVersion: string;
  interfaces?: CniInterface[];
  ips?: CniIpConfig[];
  routes?: { dst: string; gw?: string }[];
  dns?: { nameservers?: string[]; domain?: string; search?: string[]; options?: string[] };
}

export interface CniRuntime {
  containerId: string;
  /** Path of the network namespace; empty on DEL when it is gone already. */
  netns: string;
  ifName: string;
  /** Values for capabilities, e.g. {portMappings: [...]}; each plugin gets only those it declares. */
  capabilityArgs?: Record<string, unknown>;
}

export type CniCommand = 'ADD' | 'DEL' | 'CHECK';

export interface CniInvokerOptions {
  /** Directories searched for plugin binaries (CNI_PATH). */
  pluginDirs?: string[];
  /** Kill a plugin that runs longer (default 30 s). */
  timeoutMs?: number;
}

export class CniInvoker {
  readonly pluginDirs: string[];
  private readonly timeoutMs: number;

  constructor(opts: CniInvokerOptions = {}) {
    this.pluginDirs = opts.pluginDirs ?? [DEFAULT_CNI_PATH];
    this.timeoutMs = opts.timeoutMs ?? 30_000;
  }

  /** Runs ADD for every plugin in order; returns the last plugin's result. */
  async addList(list: CniConfList, rt: CniRuntime): Promise<CniResult> {
    let prev: CniResult | undefined;
    for (const plugin of list.plugins) {
      const out = await this.exec('ADD', buildPluginConfig(list, plugin, rt, prev), rt);
      prev = parseResult(plugin.type, out);
    }
    if (!prev) throw new CniPluginError(list.name, 'ADD', 0, 'the configuration list has no plugins');
    return prev;
  }

  /**
   * Runs DEL for every plugin in reverse order with the cached ADD result as prevResult. Keeps going past
   * a failing plugin so the others still release what they hold; throws the first failure at the end.
   */
  async delList(list: CniConfList, rt: CniRuntime, cached: CniResult | undefined): Promise<void> {
    let first: unknown;
    for (const plugin of [...list.plugins].reverse()) {
      try {
        await this.exec('DEL', buildPluginConfig(list, plugin, rt, cached), rt);
      } catch (err) {
        first ??= err;
      }
    }
    if (first) throw first;
  }

  /** Runs one plugin; resolves with its stdout. */
  exec(command: CniCommand, config: Record<string, unknown>, rt: CniRuntime): Promise<string> {
    const type = String(config.type);
    const bin = this.findPlugin(type);
    const env: NodeJS.ProcessEnv = {
      CNI_COMMAND: command,
      CNI_CONTAINERID: rt.containerId,
      CNI_NETNS: rt.netns,
      CNI_IFNAME: rt.ifName,
      CNI_PATH: this.pluginDirs.join(':'),
      // The plugins exec iptables, ip6tables and modprobe.
      PATH: process.env.PATH || '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    };
    return new Promise((resolve, reject) => {
      const child = spawn(bin, [], { env, stdio: ['pipe', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      const timer = setTimeout(() => child.kill('SIGKILL'), this.timeoutMs);
      child.stdout.on('data', (b: Buffer) => out.push(b));
      child.stderr.on('data', (b: Buffer) => err.push(b));
      child.on('error', (e) => {
        clearTimeout(timer);
        reject(new CniPluginError(type, command, 0, e.message));
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        const stdout = Buffer.concat(out).toString('utf8');
        const stderr = Buffer.concat(err).toString('utf8').trim();
        if (code === 0) return resolve(stdout);
        reject(pluginFailure(type, command, stdout, stderr, signal ? `killed by ${signal}` : `exit code ${code}`));
      });
      child.stdin.on('error', () => undefined); // a plugin that exits early closes its stdin; close reports it
      child.stdin.end(JSON.stringify(config));
    });
  }

  private findPlugin(type: string): string {
    if (!/^[A-Za-z0-9_.-]+$/.test(type)) throw new CniPluginMissingError(`CNI plugin type "${type}" is not a plain name`);
    for (const dir of this.pluginDirs) {
      const p = path.join(dir, type);
      try {
        fs.accessSync(p, fs.constants.X_OK);
        return p;
      } catch {
        // try the next directory
      }
    }
    throw new CniPluginMissingError(`CNI plugin "${type}" not found in ${this.pluginDirs.join(':')}; install containernetworking-plugins`);
  }
}

/** The stdin of one plugin call, as libcni builds it. */
export function buildPluginConfig(
  list: CniConfList,
  plugin: CniPluginConf,
  rt: CniRuntime,
  prevResult: CniResult | undefined,
): Record<string, unknown> {
  const conf: Record<string, unknown> = { ...plugin, cniVersion: list.cniVersion, name: list.name };
  if (prevResult) conf.prevResult = prevResult;
  const runtimeConfig: Record<string, unknown> = {};
  for (const [cap, on] of Object.entries(plugin.capabilities ?? {})) {
    if (on && rt.capabilityArgs && cap in rt.capabilityArgs) runtimeConfig[cap] = rt.capabilityArgs[cap];
  }
  if (Object.keys(runtimeConfig).length > 0) conf.runtimeConfig = runtimeConfig;
  return conf;
}

function parseResult(type: string, stdout: string): CniResult {
  try {
    const r = JSON.parse(stdout) as CniResult;
    if (typeof r !== 'object' || r === null) throw new Error('not an object');
    return r;
  } catch (e) {
    throw new CniPluginError(type, 'ADD', 0, `printed a result that is not JSON: ${(e as Error).message}`, stdout.slice(0, 200));
  }
}

function pluginFailure(type: string, command: string, stdout: string, stderr: string, how: string): CniPluginError {
  try {
    const e = JSON.parse(stdout) as { code?: number; msg?: string; details?: string };
    if (typeof e.code === 'number') return new CniPluginError(type, command, e.code, e.msg ?? '', e.details ?? stderr);
  } catch {
    // not a CNI error object
  }
  return new CniPluginError(type, command, 0, how, (stderr || stdout).slice(0, 500));
}
