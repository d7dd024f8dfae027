// docker's prune verbs: container prune, image prune [-a], network prune, and system prune [-a] [--volumes]
// over all of them. Each asks first unless -f, as docker does (the answer may be piped).
import { connect, out } from '../context';
import { humanSize } from '../format/table';
import { confirm } from '../prompt';

const HOLDS = new Set(['running', 'paused', 'restarting']);

/** Stopped containers, then the writable layers left without a container. */
async function pruneContainers(): Promise<{ containers: string[]; orphans: string[] }> {
  const berth = connect();
  const containers: string[] = [];
  for (const c of (await berth.containers.list({ all: true })).containers) {
    if (HOLDS.has(c.state?.status ?? '')) continue;
    await berth.removeContainer(c.id);
    containers.push(c.id);
  }
  return { containers, orphans: await berth.pruneOrphanSnapshots() };
}

/** Images no container uses: without a name (dangling) only, or every one with `all`. */
async function pruneImages(all: boolean): Promise<{ untagged: string[]; deleted: string[] }> {
  const berth = connect();
  const used = new Set((await berth.containers.list({ all: true })).containers.map((c) => c.config?.imageId ?? ''));
  const untagged: string[] = [];
  const deleted: string[] = [];
  for (const i of (await berth.images.list({ filter: '' })).images) {
    const name = i.image!.name;
    // The image-store records an image without a name as docker.io/library/berth-dangling@<digest>.
    const dangling = name.startsWith('docker.io/library/berth-dangling@');
    if (used.has(i.resolved?.id ?? '') || (!all && !dangling)) continue;
    const res = await berth.images.delete({ reference: name, force: false });
    if (!dangling) untagged.push(...res.untagged);
    deleted.push(...res.deleted);
  }
  return { untagged, deleted };
}

/** User networks without a container on them. */
async function pruneNetworks(): Promise<string[]> {
  const berth = connect();
  const removed: string[] = [];
  for (const n of (await berth.networks.list({ nameContains: '' })).networks) {
    if (n.predefined || (await berth.networks.inspect({ id: n.id })).containers.length > 0) continue;
    await berth.networks.remove({ id: n.id });
    removed.push(n.name);
  }
  return removed;
}

function section(title: string, lines: string[]): void {
  if (lines.length) process.stdout.write(`${title}:\n${lines.join('\n')}\n\n`);
}

export async function containerPrune(f: { force?: boolean }): Promise<number> {
  if (!f.force && !(await confirm('WARNING! This will remove all stopped containers.'))) return 0;
  const r = await pruneContainers();
  section('Deleted Containers', r.containers);
  out(`Total: ${r.containers.length} containers`);
  return 0;
}

export async function imagePrune(f: { force?: boolean; all?: boolean }): Promise<number> {
  const warning = f.all ? 'WARNING! This will remove all images without at least one container associated to them.' : 'WARNING! This will remove all dangling images.';
  if (!f.force && !(await confirm(warning))) return 0;
  const r = await pruneImages(!!f.all);
  section('Deleted Images', [...r.untagged.map((u) => `untagged: ${u}`), ...r.deleted.map((d) => `deleted: ${d}`)]);
  out(`Total: ${r.deleted.length} blobs deleted`);
  return 0;
}

export async function networkPrune(f: { force?: boolean }): Promise<number> {
  if (!f.force && !(await confirm('WARNING! This will remove all custom networks not used by at least one container.'))) return 0;
  section('Deleted Networks', await pruneNetworks());
  return 0;
}

export async function systemPrune(f: { force?: boolean; all?: boolean; volumes?: boolean }): Promise<number> {
  const items = ['all stopped containers', 'all networks not used by at least one container', f.all ? 'all images without at least one container associated to them' : 'all dangling images'];
  if (f.volumes) items.splice(2, 0, 'all anonymous volumes not used by at least one container');
  if (!f.force && !(await confirm(`WARNING! This will remove:\n${items.map((i) => `  - ${i}`).join('\n')}`))) return 0;
  const c = await pruneContainers();
  const networks = await pruneNetworks();
  const volumes = f.volumes ? await connect().volumes.prune({ all: false }) : undefined;
  const images = await pruneImages(!!f.all);
  section('Deleted Containers', c.containers);
  section('Deleted orphan snapshots', c.orphans);
  section('Deleted Networks', networks);
  if (volumes) section('Deleted Volumes', volumes.volumesDeleted);
  section('Deleted Images', [...images.untagged.map((u) => `untagged: ${u}`), ...images.deleted.map((d) => `deleted: ${d}`)]);
  const reclaimed = volumes ? ` (volumes: ${humanSize(volumes.spaceReclaimed)} reclaimed)` : '';
  out(`Total: ${c.containers.length} containers, ${c.orphans.length} orphan snapshots, ${networks.length} networks, ${images.deleted.length} image blobs${volumes ? `, ${volumes.volumesDeleted.length} volumes` : ''}${reclaimed}`);
  return 0;
}
