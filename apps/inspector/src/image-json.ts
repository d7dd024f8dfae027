// An image-store record as `docker image inspect` prints it. Pure.
import type { imagesV1 } from '@berth/api';
import { rfc3339Nano } from './docker-time';

/** "docker.io/library/busybox:latest" → "busybox:latest", "docker.io/x/y:1" → "x/y:1", as docker shows names. */
export function familiarName(name: string): string {
  return name.replace(/^docker\.io\/library\//, '').replace(/^docker\.io\//, '');
}

/** The repository part of a name: everything before the tag or digest. */
export function repositoryOf(name: string): string {
  const at = name.indexOf('@');
  if (at >= 0) return name.slice(0, at);
  const slash = name.lastIndexOf('/');
  const colon = name.lastIndexOf(':');
  return colon > slash ? name.slice(0, colon) : name;
}

interface ImageConfigJson {
  created?: string;
  author?: string;
  architecture?: string;
  os?: string;
  variant?: string;
  config?: Record<string, unknown>;
  rootfs?: { type?: string; diff_ids?: string[] };
  history?: { comment?: string }[];
}

export function imageToDocker(img: imagesV1.GetImageResponse): Record<string, unknown> {
  const r = img.resolved!;
  let cfg: ImageConfigJson = {};
  try {
    cfg = JSON.parse(Buffer.from(r.configJson).toString('utf8')) as ImageConfigJson;
  } catch {
    // a config the image-store accepted is JSON; an empty one leaves the fields empty
  }
  const names = r.names.length ? r.names : img.image ? [img.image.name] : [];
  const tags = names.filter((n) => !n.includes('@')).map(familiarName);
  const digests = [...new Set(names.map((n) => `${familiarName(repositoryOf(n))}@${r.manifest?.digest ?? ''}`))];
  const c = cfg.config ?? {};
  return {
    Id: r.id,
    RepoTags: tags,
    RepoDigests: digests,
    Parent: '',
    Comment: cfg.history?.at(-1)?.comment ?? '',
    Created: cfg.created ? rfc3339Nano(new Date(cfg.created)) : rfc3339Nano(undefined),
    DockerVersion: '',
    Author: cfg.author ?? '',
    Config: {
      Hostname: '',
      Domainname: '',
      User: (c.User as string) ?? '',
      ExposedPorts: c.ExposedPorts ?? null,
      Env: c.Env ?? null,
      Cmd: c.Cmd ?? null,
      // HEALTHCHECK, as the config has it (docker leaves the key out without one).
      ...(c.Healthcheck ? { Healthcheck: c.Healthcheck } : {}),
      Entrypoint: c.Entrypoint ?? null,
      WorkingDir: (c.WorkingDir as string) ?? '',
      Labels: c.Labels ?? null,
      Volumes: c.Volumes ?? null,
      StopSignal: c.StopSignal ?? undefined,
      OnBuild: c.OnBuild ?? null,
    },
    Architecture: cfg.architecture ?? '',
    ...(cfg.variant ? { Variant: cfg.variant } : {}),
    Os: cfg.os ?? '',
    // The stored (possibly compressed) layer sizes: the image-store does not record uncompressed ones.
    Size: r.layers.reduce((n, l) => n + l.size, 0),
    GraphDriver: { Name: 'overlay', Data: null },
    RootFS: { Type: cfg.rootfs?.type ?? 'layers', Layers: r.diffIds },
    Metadata: { LastTagTime: rfc3339Nano(img.image?.updatedAt) },
  };
}
