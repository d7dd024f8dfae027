// Message conversions between the domain types and the generated berth.images.v1 / berth.types.v1 ones.
import type { imagesV1, typesV1 } from '@berth/api';
import type { Descriptor } from '@berth/oci';
import type { ImageDetail, ImageRecord } from '../images/images';

export function toDescriptor(d: Descriptor): typesV1.Descriptor {
  return { mediaType: d.mediaType, digest: d.digest, size: d.size, annotations: { ...(d.annotations ?? {}) } };
}

export function toImage(r: ImageRecord): imagesV1.Image {
  return { name: r.name, target: toDescriptor(r.target), createdAt: r.createdAt, updatedAt: r.updatedAt, labels: { ...r.labels } };
}

export function toGetResponse(d: ImageDetail): imagesV1.GetImageResponse {
  const r = d.resolved;
  return {
    image: toImage(d.image),
    resolved: {
      id: r.id,
      manifest: toDescriptor(r.manifest),
      config: toDescriptor(r.config),
      layers: r.layers.map(toDescriptor),
      diffIds: r.diffIds,
      configJson: r.configJson,
      names: r.names,
    },
  };
}
