// Host-side views for the network e2e: what a container left on this host (netns, veth on a bridge, iptables
// rules, IPAM lease), a free port, and HTTP from the host. Only loopback and the test's own container
// addresses are ever contacted.
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import { removeNetworkLeftovers } from '../../supervisor/src/network/host-cleanup';

/** A TCP port nothing listens on right now (the kernel's pick). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** GET http://host:port/ → body, or the error's message. */
export function httpGet(host: string, port: number, timeoutMs = 3000): Promise<{ status?: number; body?: string; error?: string }> {
  return new Promise((resolve) => {
    const req = http.get({ host, port, path: '/', timeout: timeoutMs, agent: false }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve({ error: e.message }));
  });
}

export function iptablesRules(): string[] {
  return [...execFileSync('iptables', ['-w', '-t', 'nat', '-S'], { encoding: 'utf8' }).split('\n'), ...execFileSync('iptables', ['-w', '-S'], { encoding: 'utf8' }).split('\n')];
}

/** Interfaces enslaved to a bridge (the host ends of its containers' veth pairs). */
export function bridgePorts(bridge: string): string[] {
  const r = spawnSync('ip', ['-o', 'link', 'show', 'master', bridge], { encoding: 'utf8' });
  if (r.status !== 0) return [];
  return r.stdout.split('\n').filter(Boolean).map((l) => l.split(': ')[1]!.split('@')[0]!);
}

export function linkExists(name: string): boolean {
  return spawnSync('ip', ['link', 'show', name], { stdio: 'ignore' }).status === 0;
}

/**
 * Claims a bridge name and two /24s for one test run, so that two runs at once (two people, or CI and a
 * person) do not share a bridge or a subnet: creating the bridge device is the atomic claim of its number.
 */
export function claimBridge(prefix: string): { bridge: string; subnet: string; userSubnet: string; third: number } {
  const routes = execFileSync('ip', ['-4', '-o', 'route', 'show'], { encoding: 'utf8' });
  const candidates = Array.from({ length: 25 }, (_, i) => 140 + 2 * i).sort(() => Math.random() - 0.5);
  for (const third of candidates) {
    if (routes.includes(`10.213.${third}.`) || routes.includes(`10.213.${third + 1}.`)) continue;
    const bridge = `${prefix}${third}`;
    if (spawnSync('ip', ['link', 'add', bridge, 'type', 'bridge'], { stdio: 'ignore' }).status !== 0) continue;
    return { bridge, subnet: `10.213.${third}.0/24`, userSubnet: `10.213.${third + 1}.0/24`, third };
  }
  throw new Error('no free 10.213.x.0/24 pair for a test bridge');
}

/** Deletes a test bridge and the rules berth made for it (masquerade, FORWARD accepts). */
export async function removeBridge(name: string): Promise<void> {
  await removeNetworkLeftovers(name);
}

export interface Leftovers {
  netns: string[];
  rules: string[];
  leases: string[];
}

/**
 * What is left on the host of the container `id` that had address `ip` (may be ''): its netns, iptables
 * rules naming its id or address, and host-local leases for the address under the supervisor's state.
 */
export function leftoversOf(root: string, id: string, ip: string): Leftovers {
  const netns = fs.existsSync('/run/netns') ? fs.readdirSync('/run/netns').filter((n) => n === `berth-${id.slice(0, 12)}`) : [];
  const rules = iptablesRules().filter((l) => l.includes(id) || (ip !== '' && new RegExp(`\\b${ip.replace(/\./g, '\\.')}(/|:|\\b)`).test(l)));
  const ipam = path.join(root, 'supervisor', 'network', 'ipam');
  const leases: string[] = [];
  if (fs.existsSync(ipam)) {
    for (const netName of fs.readdirSync(ipam)) {
      for (const f of fs.readdirSync(path.join(ipam, netName))) {
        const file = path.join(ipam, netName, f);
        if ((ip !== '' && f === ip) || fs.readFileSync(file, 'utf8').includes(id)) leases.push(file);
      }
    }
  }
  return { netns, rules, leases };
}

export const NOTHING_LEFT: Leftovers = { netns: [], rules: [], leases: [] };
