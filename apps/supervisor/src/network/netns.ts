// Named network namespaces through iproute2 (`ip netns add` makes /run/netns/NAME and bind-mounts the
// namespace there, so it outlives any process and the runtime can join it by path).
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import { NetnsError } from './errors';

export const NETNS_DIR = '/run/netns';

/** "berth-" plus the first 12 characters of the container id (netns names are file names). */
export function netnsNameFor(containerId: string): string {
  return `berth-${containerId.slice(0, 12)}`;
}

export function netnsPath(name: string): string {
  return `${NETNS_DIR}/${name}`;
}

export function netnsExists(name: string): boolean {
  return fs.existsSync(netnsPath(name));
}

export function run(cmd: string, args: string[], timeoutMs = 15_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMs, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) reject(new NetnsError(`${cmd} ${args.join(' ')} failed: ${(stderr || err.message).trim()}`));
      else resolve(stdout);
    });
  });
}

export async function addNetns(name: string): Promise<string> {
  await run('ip', ['netns', 'add', name]);
  return netnsPath(name);
}

/** Removes the namespace; no error when it is gone already. */
export async function deleteNetns(name: string): Promise<void> {
  if (!netnsExists(name)) return;
  try {
    await run('ip', ['netns', 'del', name]);
  } catch (err) {
    if (netnsExists(name)) throw err;
  }
}

/** Deletes a network link (a bridge); no error when it does not exist. */
export async function deleteLink(name: string): Promise<boolean> {
  if (!fs.existsSync(`/sys/class/net/${name}`)) return false;
  try {
    await run('ip', ['link', 'del', name]);
  } catch (err) {
    if (fs.existsSync(`/sys/class/net/${name}`)) throw err;
  }
  return true;
}
