// A private networking world per test: temp state root, a bridge name and a /24 of its own (10.213.x.0/24),
// so tests never touch a user's berth0/10.88.0.0/16; `cleanup` tears down every attachment, user network,
// bridge and directory it made.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tempBerthDirs } from '@berth/testing';
import { createNetworking, type Networking, type NetworkingOptions } from '../../src/network/networking';
import { removeNetworkLeftovers } from '../../src/network/host-cleanup';

export interface NetFixture extends Networking {
  stateDir: string;
  /** A short runtime dir (conmon's socket paths). */
  runDir: string;
  bridge: string;
  subnet: string;
  /** "10.213.x" */
  prefix: string;
  /** A fresh 64-hex container id. */
  newId(): string;
  /** Another Networking over the same state (a restarted supervisor). */
  reopen(): Networking;
  /** Starts a process inside a netns; killed by PID in cleanup. */
  spawnIn(netns: string, args: string[]): ChildProcess;
  cleanup(): Promise<void>;
}

let counter = 0;

export function uniqueThirdOctet(): number {
  // Spread over 10.213.100-227.0/24 by pid and a counter, so parallel jest workers do not collide.
  return 100 + ((process.pid * 7 + counter++) % 128);
}

export function makeFixture(extra: Partial<NetworkingOptions> = {}): NetFixture {
  const dirs = tempBerthDirs('berth-net-');
  const stateDir = path.join(dirs.root, 'supervisor');
  const prefix = `10.213.${uniqueThirdOctet()}`;
  const subnet = `${prefix}.0/24`;
  const bridge = `bt${randomBytes(4).toString('hex')}`;
  const opts: NetworkingOptions = { stateDir, defaultBridge: { bridge, subnet }, subnetPool: '10.214.0.0/16', env: {}, ...extra };
  const net = createNetworking(opts);
  const children: ChildProcess[] = [];
  return {
    ...net,
    stateDir,
    runDir: dirs.runDir,
    bridge,
    subnet,
    prefix,
    newId: () => randomBytes(32).toString('hex'),
    reopen: () => createNetworking(opts),
    spawnIn(netns, args) {
      const c = spawn('ip', ['netns', 'exec', netns, ...args], { stdio: 'ignore' });
      children.push(c);
      return c;
    },
    async cleanup() {
      for (const c of children) {
        if (c.exitCode === null && c.signalCode === null && c.pid) {
          const done = new Promise((r) => c.once('exit', r));
          process.kill(c.pid, 'SIGKILL');
          await done;
        }
      }
      for (const rec of net.provider.attachments()) await net.provider.teardown(rec.containerId);
      for (const n of net.networks.list()) {
        if (!n.predefined) await net.networks.remove(n.id);
      }
      // The plugins leave the bridge (and shared CNI-HOSTPORT-*/CNI-FORWARD chains, kept on purpose).
      await removeNetworkLeftovers(bridge, net.networks.registry.ipamDir, 'bridge');
      dirs.cleanup();
    },
  };
}

export function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Interface names inside a namespace. */
export function linksIn(netns: string): string[] {
  return sh('ip', ['-n', netns, '-o', 'link', 'show'])
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(':')[1]!.trim().replace(/@.*$/, ''));
}

export function linkExists(name: string): boolean {
  return fs.existsSync(`/sys/class/net/${name}`);
}

/** Every iptables rule (nat and filter) that mentions the text. */
export function iptablesMentions(text: string): string[] {
  const rules = sh('iptables', ['-t', 'nat', '-S']) + sh('iptables', ['-S']);
  return rules.split('\n').filter((l) => l.includes(text));
}

/** Runs a command in a netns; resolves with its exit code (never throws on non-zero). */
export function runIn(netns: string, args: string[], timeoutMs = 5000): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const c = spawn('ip', ['netns', 'exec', netns, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const t = setTimeout(() => c.kill('SIGKILL'), timeoutMs);
    c.on('close', (code) => {
      clearTimeout(t);
      resolve({ code: code ?? -1, out });
    });
  });
}
