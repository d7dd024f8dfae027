// images, load, save, import, pull, tag, rmi, history: verbs over the image-store.
import * as fs from 'node:fs';
import type { imagesV1 } from '@berth/api';
import { CliError } from '../cli-error';
import { connect, err, out } from '../context';
import { compileTemplate } from '../format/template';
import { ago, alignTabs, humanSize, shortId, table, truncate } from '../format/table';

function familiar(name: string): string {
  const { familiarName } = require('@berth/oci') as typeof import('@berth/oci');
  try {
    return familiarName(name);
  } catch {
    return name;
  }
}

function splitName(name: string): [string, string] {
  const f = familiar(name);
  const at = f.indexOf('@');
  if (at >= 0) return [f.slice(0, at), '<none>'];
  const colon = f.lastIndexOf(':');
  return colon > f.lastIndexOf('/') ? [f.slice(0, colon), f.slice(colon + 1)] : [f, 'latest'];
}

function imageSize(r: imagesV1.ResolvedImage | undefined): number {
  if (!r) return 0;
  return r.layers.reduce((n, l) => n + l.size, 0) + (r.config?.size ?? 0);
}

function created(r: imagesV1.ResolvedImage | undefined): string | undefined {
  try {
    return (JSON.parse(Buffer.from(r?.configJson ?? []).toString()) as { created?: string }).created;
  } catch {
    return undefined;
  }
}

export async function images(filter: string | undefined, f: { quiet?: boolean; format?: string; noTrunc?: boolean; digests?: boolean }): Promise<number> {
  const res = await connect().images.list({ filter: filter ?? '' });
  const rows = res.images.map((i) => {
    const [repo, tag] = splitName(i.image!.name);
    const id = i.resolved?.id ?? '';
    return { Repository: repo, Tag: tag, ID: f.noTrunc ? id : shortId(id), CreatedSince: ago(created(i.resolved)), CreatedAt: created(i.resolved) ?? '', Size: humanSize(imageSize(i.resolved)), Digest: i.image!.target?.digest ?? '' };
  });
  if (f.quiet) {
    out([...new Set(rows.map((r) => r.ID))].join('\n'));
    return 0;
  }
  if (f.format) return formatRows(rows, f.format);
  if (f.digests) {
    process.stdout.write(table(['REPOSITORY', 'TAG', 'DIGEST', 'IMAGE ID', 'CREATED', 'SIZE'], rows.map((r) => [r.Repository, r.Tag, r.Digest || '<none>', r.ID, r.CreatedSince, r.Size])));
    return 0;
  }
  process.stdout.write(table(['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE'], rows.map((r) => [r.Repository, r.Tag, r.ID, r.CreatedSince, r.Size])));
  return 0;
}

/** --format over rows: "json", a template, or a "table ..." template. */
export function formatRows(rows: object[], format: string): number {
  if (format === 'json') {
    for (const r of rows) out(JSON.stringify(r));
    return 0;
  }
  const t = compileTemplate(format);
  const lines = rows.map((r) => t.render(r));
  if (t.header !== undefined) process.stdout.write(alignTabs([t.header, ...lines]));
  else for (const l of lines) out(l);
  return 0;
}

function progressLine(label: string, done: number, total: number): string {
  const width = 40;
  if (total <= 0) return `${label}  ${humanSize(done)}`;
  const n = Math.min(width, Math.round((done / total) * width));
  const bar = '='.repeat(Math.max(0, n - 1)) + (n > 0 ? '>' : '') + ' '.repeat(width - n);
  return `${label} [${bar}]  ${humanSize(done)}/${humanSize(total)}`;
}

async function* fileChunks(file: string | undefined): AsyncGenerator<Buffer> {
  const stream = file && file !== '-' ? fs.createReadStream(file, { highWaterMark: 256 * 1024 }) : process.stdin;
  for await (const c of stream) yield c as Buffer;
}

function openSize(file: string | undefined): number {
  if (!file || file === '-') return 0;
  try {
    return fs.statSync(file).size;
  } catch (e) {
    throw new CliError(`open ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}`);
  }
}

export async function load(f: { input?: string; quiet?: boolean }): Promise<number> {
  const total = openSize(f.input);
  if (!f.input && process.stdin.isTTY) throw new CliError('requested load from stdin, but stdin is empty: use -i FILE or pipe an archive');
  const tty = process.stderr.isTTY && !f.quiet;
  let last = 0;
  const res = await connect().importImage(fileChunks(f.input), {
    onBytes: (sent) => {
      if (!tty || Date.now() - last < 100) return;
      last = Date.now();
      process.stderr.write(`\r${progressLine('Loading', sent, total)}`);
    },
  });
  if (tty) process.stderr.write(`\r${progressLine('Loading', res.bytesRead, total || res.bytesRead)}\n`);
  for (const i of res.images) out(`Loaded image: ${familiar(i.name)}`);
  return 0;
}

export async function save(refs: string[], f: { output?: string; format?: string }): Promise<number> {
  if (refs.length === 0) throw new CliError('save needs at least one image');
  if (!f.output && process.stdout.isTTY) throw new CliError('cowardly refusing to save to a terminal: use -o FILE or redirect stdout');
  const tmp = f.output ? `${f.output}.tmp-${process.pid}` : undefined;
  const dst = tmp ? fs.createWriteStream(tmp) : process.stdout;
  try {
    for await (const chunk of connect().exportImages(refs, f.format ?? '')) {
      if (!dst.write(chunk)) await new Promise<void>((r) => dst.once('drain', () => r()));
    }
    if (tmp) {
      await new Promise<void>((res, rej) => (dst as fs.WriteStream).end((e?: Error | null) => (e ? rej(e) : res())));
      fs.renameSync(tmp, f.output!);
    }
  } catch (e) {
    if (tmp) {
      (dst as fs.WriteStream).destroy();
      fs.rmSync(tmp, { force: true });
    }
    throw e;
  }
  return 0;
}

export async function importRootfs(file: string, name: string | undefined, f: { change?: string[]; message?: string }): Promise<number> {
  openSize(file);
  const res = await connect().importImage(fileChunks(file), { format: 'rootfs', name: name ?? '', changes: f.change ?? [], message: f.message ?? '' });
  for (const i of res.images) {
    const got = await connect().images.get({ reference: i.name });
    out(got.resolved!.id);
  }
  return 0;
}

export async function pull(ref: string, f: { insecureRegistry?: string[]; insecure?: string[]; platform?: string; quiet?: boolean }): Promise<number> {
  const tty = process.stderr.isTTY && !f.quiet;
  const blobs = new Map<string, string>();
  const render = () => {
    if (!tty) return;
    process.stderr.write(`\x1b[${blobs.size}A`);
    for (const l of blobs.values()) process.stderr.write(`\x1b[2K${l}\n`);
  };
  const img = await connect().pull(ref, {
    insecureRegistries: (require('../parse/registries') as typeof import('../parse/registries')).insecureRegistries(ref, [...(f.insecureRegistry ?? []), ...(f.insecure ?? [])]),
    // The credentials `berth login` stored for this registry, if any.
    ...(require('./registry-auth') as typeof import('./registry-auth')).credentialsFor(ref),
    ...(f.platform ? { platform: f.platform } : {}),
    onProgress: (p) => {
      if (p.event?.$case === 'resolved') {
        for (const b of p.event.value.blobs) blobs.set(b.digest, `${shortId(b.digest)}: Waiting`);
        if (tty) process.stderr.write('\n'.repeat(blobs.size));
        render();
      } else if (p.event?.$case === 'blob') {
        const b = p.event.value;
        const label = `${shortId(b.digest)}: ${b.status === 'exists' ? 'Already exists' : b.status === 'done' ? 'Pull complete' : b.status === 'verifying' ? 'Verifying' : 'Downloading'}`;
        blobs.set(b.digest, b.status === 'downloading' ? progressLine(label, b.offset, b.total) : label);
        render();
      }
    },
  });
  out(`Digest: ${img.target?.digest ?? ''}`);
  out(`Status: Downloaded newer image for ${familiar(img.name)}`);
  out(familiar(img.name));
  return 0;
}

export async function tag(source: string, target: string): Promise<number> {
  await connect().images.tag({ source, target });
  return 0;
}

export async function rmi(refs: string[], f: { force?: boolean }): Promise<number> {
  let failed = 0;
  for (const ref of refs) {
    try {
      const res = await connect().images.delete({ reference: ref, force: !!f.force });
      for (const u of res.untagged) out(`Untagged: ${familiar(u)}`);
      for (const d of res.deleted) out(`Deleted: ${d}`);
    } catch (e) {
      failed++;
      err(`Error: ${(e as Error).message}`);
    }
  }
  return failed ? 1 : 0;
}

export async function history(ref: string, f: { noTrunc?: boolean; quiet?: boolean }): Promise<number> {
  const got = await connect().images.get({ reference: ref });
  const r = got.resolved!;
  const cfg = JSON.parse(Buffer.from(r.configJson).toString()) as { history?: { created?: string; created_by?: string; comment?: string; empty_layer?: boolean }[] };
  const hist = cfg.history?.length ? cfg.history : r.layers.map(() => ({}) as { created?: string; created_by?: string; comment?: string; empty_layer?: boolean });
  // Non-empty history entries map, in order, to the layers.
  let layer = 0;
  const rows = hist.map((h) => {
    const size = h.empty_layer ? 0 : (r.layers[layer++]?.size ?? 0);
    return { h, size };
  });
  rows.reverse();
  const id = f.noTrunc ? r.id : shortId(r.id);
  if (f.quiet) {
    out(id);
    return 0;
  }
  process.stdout.write(
    table(
      ['IMAGE', 'CREATED', 'CREATED BY', 'SIZE', 'COMMENT'],
      rows.map(({ h, size }, i) => [i === 0 ? id : '<missing>', ago(h.created) || 'N/A', f.noTrunc ? (h.created_by ?? '') : truncate(h.created_by ?? '', 45), humanSize(size), h.comment ?? '']),
    ),
  );
  return 0;
}
