// The generated API one proto package at a time. `@berth/api` loads every package (events, inspector,
// networks...) when first required; a CLI verb that talks to two services pays for all of them at every
// start. These load only the package asked for, from the file @berth/api itself re-exports, and fall
// back to the whole module if that layout ever changes.
import type * as api from '@berth/api';

type Api = typeof api;

const FILES = {
  containersV1: 'containers/v1/containers',
  networksV1: 'containers/v1/networks',
  imagesV1: 'images/v1/images',
  contentV1: 'images/v1/content',
  snapshotsV1: 'snapshots/v1/snapshots',
  inspectorV1: 'inspector/v1/inspector',
} as const;

export type ApiPart = keyof typeof FILES;

export function apiPart<K extends ApiPart>(name: K): Api[K] {
  try {
    return require(`@berth/api/dist/generated/berth/${FILES[name]}`) as Api[K];
  } catch {
    return (require('@berth/api') as Api)[name];
  }
}
