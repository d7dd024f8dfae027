// The generated API one proto package at a time. `@berth/api` loads every package (events, inspector,
// networks...) when first required; a CLI verb that talks to two services pays for all of them at every
// start. These load only the package asked for, from the file @berth/api itself re-exports. Each require
// names its file literally so a bundler (the CLI's snapshot bundle) follows it instead of failing at run time.
import type * as api from '@berth/api';

type Api = typeof api;

/* eslint-disable @typescript-eslint/no-require-imports */
const LOADERS = {
  containersV1: () => require('@berth/api/dist/generated/berth/containers/v1/containers') as Api['containersV1'],
  networksV1: () => require('@berth/api/dist/generated/berth/containers/v1/networks') as Api['networksV1'],
  volumesV1: () => require('@berth/api/dist/generated/berth/containers/v1/volumes') as Api['volumesV1'],
  archiveV1: () => require('@berth/api/dist/generated/berth/containers/v1/archive') as Api['archiveV1'],
  imagesV1: () => require('@berth/api/dist/generated/berth/images/v1/images') as Api['imagesV1'],
  contentV1: () => require('@berth/api/dist/generated/berth/images/v1/content') as Api['contentV1'],
  snapshotsV1: () => require('@berth/api/dist/generated/berth/snapshots/v1/snapshots') as Api['snapshotsV1'],
  inspectorV1: () => require('@berth/api/dist/generated/berth/inspector/v1/inspector') as Api['inspectorV1'],
};

export type ApiPart = keyof typeof LOADERS;

export function apiPart<K extends ApiPart>(name: K): Api[K] {
  return LOADERS[name]() as Api[K];
}
