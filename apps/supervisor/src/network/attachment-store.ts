// Our own CNI result cache (libcni keeps one under /var/lib/cni/results; the plugins keep none): one file
// per container at <stateDir>/network/results/<id>.json holding everything DEL needs — the exact
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
  containerId: string;
  /** Container name, what peers on a user network resolve. */
  name: string;
  hostname: string;
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

  file(containerId: string): string {
    return path.join(this.dir, `${containerId}.json`);
  }

  get(containerId: string): AttachmentRecord | undefined {
    return readJson<AttachmentRecord>(this.file(containerId));
  }

  put(rec: AttachmentRecord): void {
    writeJsonAtomic(this.file(rec.containerId), rec);
  }

  remove(containerId: string): void {
    fs.rmSync(this.file(containerId), { force: true });
  }

  list(): AttachmentRecord[] {
    return readJsonDir<AttachmentRecord>(this.dir);
  }

  byNetwork(networkId: string): AttachmentRecord[] {
    return this.list().filter((r) => r.networkId === networkId);
  }
}
