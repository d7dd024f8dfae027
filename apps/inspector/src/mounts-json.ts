// A container's mounts as docker inspect shows them: Mounts (bind, volume with its name and driver, tmpfs),
// HostConfig.Binds ("src:dst[:ro]", named volumes as "name:dst"), HostConfig.Tmpfs and Config.Volumes
// (the image's VOLUME paths and anonymous volumes). Pure.
import type { containersV1 } from '@berth/api';

type VolumeMount = containersV1.VolumeMount;

/** The recorded type: the supervisor resolves it at create; records from before volumes are binds. */
function typeOf(v: VolumeMount): string {
  return v.type || (v.source.startsWith('/') ? 'bind' : 'volume');
}

export function mountsJson(mounts: VolumeMount[]): Record<string, unknown>[] {
  return mounts.map((v) => {
    const type = typeOf(v);
    if (type === 'volume') {
      return { Type: 'volume', Name: v.source, Source: v.volumePath, Destination: v.destination, Driver: 'local', Mode: 'z', RW: !v.readOnly, Propagation: '' };
    }
    if (type === 'tmpfs') return { Type: 'tmpfs', Source: '', Destination: v.destination, Mode: '', RW: !v.readOnly, Propagation: '' };
    return { Type: 'bind', Source: v.source, Destination: v.destination, Mode: v.readOnly ? 'ro' : '', RW: !v.readOnly, Propagation: 'rprivate' };
  });
}

/** Binds as the user gave them with -v: host paths and named volumes; anonymous ones are Config.Volumes. */
export function bindsJson(mounts: VolumeMount[]): string[] | null {
  const binds = mounts.filter((v) => typeOf(v) === 'bind' || (typeOf(v) === 'volume' && !v.anonymous && !v.fromImage))
    .map((v) => `${v.source}:${v.destination}${v.readOnly ? ':ro' : ''}`);
  return binds.length ? binds : null;
}

/** HostConfig.Tmpfs: destination → options ("size=65536,mode=700,exec"); absent when there are none. */
export function tmpfsJson(mounts: VolumeMount[]): { Tmpfs?: Record<string, string> } {
  const t = mounts.filter((v) => typeOf(v) === 'tmpfs');
  if (!t.length) return {};
  return {
    Tmpfs: Object.fromEntries(t.map((v) => {
      const opts = [...(v.tmpfsSize ? [`size=${v.tmpfsSize}`] : []), ...(v.tmpfsMode ? [`mode=${v.tmpfsMode.toString(8)}`] : []), ...v.tmpfsOptions, ...(v.readOnly ? ['ro'] : [])];
      return [v.destination, opts.join(',')];
    })),
  };
}

/** Config.Volumes: the image's VOLUME paths and the anonymous volumes asked for (-v /dst). */
export function configVolumesJson(cfg: containersV1.ContainerConfig, mounts: VolumeMount[]): Record<string, object> | null {
  const paths = new Set(cfg.volumes);
  for (const v of mounts) if (typeOf(v) === 'volume' && v.anonymous && !v.fromImage) paths.add(v.destination);
  return paths.size ? Object.fromEntries([...paths].map((p) => [p, {}])) : null;
}
