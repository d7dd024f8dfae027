import * as api from '@berth/api';
import { apiPart, type ApiPart } from './api-parts';

it('loads each proto package from the file @berth/api re-exports (the same classes)', () => {
  const whole: Record<ApiPart, unknown> = { ...api };
  const parts: ApiPart[] = ['containersV1', 'networksV1', 'volumesV1', 'archiveV1', 'imagesV1', 'contentV1', 'snapshotsV1', 'inspectorV1'];
  for (const p of parts) {
    const part = apiPart(p) as unknown as Record<string, unknown>;
    const all = whole[p] as Record<string, unknown>;
    expect(Object.keys(part).sort()).toEqual(Object.keys(all).sort());
    for (const k of Object.keys(all)) expect(part[k]).toBe(all[k]);
  }
});
