// The large, realistic benchmark image: a `debootstrap --variant=minbase` Debian root (about 120 MB and
// 6,700 files) as a one-layer docker-archive, made once and cached.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

function sha256File(file: string): string {
  const h = createHash('sha256');
  const fd = fs.openSync(file, 'r');
  const buf = Buffer.alloc(1 << 20);
  try {
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
    }
  } finally {
    fs.closeSync(fd);
  }
  return 'sha256:' + h.digest('hex');
}

/** The first deb URI of the host's apt sources, so debootstrap uses the configured mirror. */
export function configuredDebianMirror(): string {
  for (const file of ['/etc/apt/sources.list.d/debian.sources', '/etc/apt/sources.list']) {
    if (!fs.existsSync(file)) continue;
    const text = fs.readFileSync(file, 'utf8');
    const m = /^URIs:\s*(\S+)/m.exec(text) ?? /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+bookworm/m.exec(text);
    if (m) return m[1]!;
  }
  return 'http://deb.debian.org/debian';
}

/**
 * Returns the path of `<cacheDir>/debootstrap-bookworm.tar` (docker-archive, name `debian:bookworm-minbase`),
 * making it when missing. Needs root, debootstrap and the Debian mirror.
 */
export function debootstrapImageArchive(cacheDir: string, name = 'debian:bookworm-minbase'): string {
  const out = path.join(cacheDir, 'debootstrap-bookworm.tar');
  if (fs.existsSync(out)) return out;
  fs.mkdirSync(cacheDir, { recursive: true });
  const work = fs.mkdtempSync(path.join(cacheDir, 'make-'));
  try {
    const rootfs = path.join(work, 'rootfs');
    execFileSync('debootstrap', ['--variant=minbase', 'bookworm', rootfs, configuredDebianMirror()], { stdio: 'ignore' });
    // As Debian's own container images: no package lists or downloaded .debs.
    for (const dir of ['var/lib/apt/lists', 'var/cache/apt/archives']) {
      for (const entry of fs.readdirSync(path.join(rootfs, dir))) {
        const p = path.join(rootfs, dir, entry);
        if (fs.statSync(p).isFile()) fs.rmSync(p);
      }
    }
    const archive = path.join(work, 'archive');
    const layerDir = path.join(archive, 'layer');
    fs.mkdirSync(layerDir, { recursive: true });
    const layer = path.join(layerDir, 'layer.tar');
    execFileSync('tar', ['--sort=name', '--mtime=@1704067200', '--owner=0', '--group=0', '--numeric-owner', '--xattrs', '-C', rootfs, '-cf', layer, '.']);
    const diffId = sha256File(layer);
    const config = JSON.stringify({
      created: '2024-01-01T00:00:00Z',
      architecture: 'amd64',
      os: 'linux',
      config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['bash'] },
      rootfs: { type: 'layers', diff_ids: [diffId] },
      history: [{ created: '2024-01-01T00:00:00Z', created_by: 'debootstrap --variant=minbase bookworm' }],
    });
    const configName = createHash('sha256').update(config).digest('hex') + '.json';
    fs.writeFileSync(path.join(archive, configName), config);
    fs.writeFileSync(path.join(archive, 'manifest.json'), JSON.stringify([{ Config: configName, RepoTags: [name], Layers: ['layer/layer.tar'] }]));
    const tmp = out + '.tmp';
    execFileSync('tar', ['--sort=name', '--mtime=@1704067200', '--owner=0', '--group=0', '--numeric-owner', '-C', archive, '-cf', tmp, '.']);
    fs.renameSync(tmp, out);
    return out;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
