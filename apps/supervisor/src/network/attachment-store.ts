// Our own CNI result cache (libcni keeps one under /var/lib/cni/results; the plugins keep none): one file
// per container at <stateDir>/network/results/<id>.json (and one per network Connect added to it,
// <id>.<network id12>.json) holding everything DEL needs — the exact
// configuration list used for ADD, the netns, the port mappings and the final ADD result — so teardown
// works after a supervisor crash, after the network was removed, or after the config changed.
// The record is written "pending" before the first side effect, so a crash half way through setup still
// leaves enough to undo it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CniConfList, CniResult } from './cni-invoker';
import type { PortMapping } from './network-provider';
import { readJson, readJsonDir, writeJsonAtomic } from './state-files';

export interface AttachmentRecord {
  /** File key of a network Connect added: "<container id>.<network id12>"; absent for the container's first. */
  key?: string;
  containerId: string;
  /** Container name, what peers on a user network resolve. */
  name: string;
  hostname: string;
  /** More names peers resolve (--network-alias, connect --alias). */
  aliases?: string[];
  /** Network name and id at attach time. */
  network: string;
  networkId: string;
  /** "ip netns" name; absent for the host network and for none. */
  netnsName?: string;
  netnsPath?: string;
  /**
   * The runtime made the namespace (netnsPath is then /proc/<pid>/ns/net) and it dies with the container:
   * nothing to delete, and DEL runs without a namespace (a pid can be reused).
   */
  runtimeNetns?: boolean;
  ifName: string;
  /** The list ADD ran (loopback excluded: it is called separately); absent for none/host. */
  confList?: CniConfList;
  ports: PortMapping[];
  /** The IPv4 address asked for (--ip, connect --ip), given to host-local through the "ips" capability. */
  ipv4?: string;
  /** The MAC address asked for (--mac-address), given to the bridge plugin through the "mac" capability. */
  mac?: string;
  /** Final ADD result; absent while pending. */
  result?: CniResult;
  state: 'pending' | 'ready';
  created: string;
}

export class AttachmentStore {
  readonly dir: string;

  constructor(networkStateDir: string) {
    this.dir = path.join(networkStateDir, 'results');
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
  }

  file(key: string): string {
    return path.join(this.dir, `${key}.json`);
  }

  /** The container's first attachment (the network it was created with). */
  get(containerId: string): AttachmentRecord | undefined {
    return readJson<AttachmentRecord>(this.file(containerId));
  }

  put(rec: AttachmentRecord): void {
    writeJsonAtomic(this.file(rec.key ?? rec.containerId), rec);
  }

  /** Removes a record by its key: the container id for the first attachment, `key` for the others. */
  remove(key: string): void {
    fs.rmSync(this.file(key), { force: true });
  }

  /** The attachments Connect added to a container. */
  extrasOf(containerId: string): AttachmentRecord[] {
    // By file name, so a teardown reads its own few files, not every container's.
    const prefix = `${containerId}.`;
    return fs.readdirSync(this.dir)
      .filter((f) => f.startsWith(prefix) && f.endsWith('.json') && f !== `${containerId}.json`)
      .flatMap((f) => readJson<AttachmentRecord>(path.join(this.dir, f)) ?? []);
  }

  list(): AttachmentRecord[] {
    return readJsonDir<AttachmentRecord>(this.dir);
  }

  byNetwork(networkId: string): AttachmentRecord[] {
    return this.list().filter((r) => r.networkId === networkId);
  }
}
