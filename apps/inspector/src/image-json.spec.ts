import { imagesV1 } from '@berth/api';
import { familiarName, imageToDocker, repositoryOf } from './image-json';

it('names images as docker shows them', () => {
  expect(familiarName('docker.io/library/busybox:latest')).toBe('busybox:latest');
  expect(familiarName('docker.io/me/app:1')).toBe('me/app:1');
  expect(familiarName('localhost:5000/app:1')).toBe('localhost:5000/app:1');
  expect(repositoryOf('localhost:5000/app:1')).toBe('localhost:5000/app');
  expect(repositoryOf('busybox@sha256:abc')).toBe('busybox');
});

it('prints docker image inspect fields from the resolved image', () => {
  const config = { created: '2024-01-01T00:00:00Z', architecture: 'amd64', os: 'linux', config: { Cmd: ['sh'], Env: ['PATH=/bin'] }, rootfs: { type: 'layers', diff_ids: ['sha256:d1'] } };
  const res = imagesV1.GetImageResponse.fromPartial({
    image: { name: 'docker.io/library/busybox:latest', updatedAt: new Date('2024-02-01T00:00:00Z') },
    resolved: {
      id: 'sha256:' + 'c'.repeat(64), manifest: { digest: 'sha256:' + 'm'.repeat(64), size: 300 },
      layers: [{ digest: 'sha256:l1', size: 1000 }, { digest: 'sha256:l2', size: 24 }], diffIds: ['sha256:d1', 'sha256:d2'],
      configJson: Buffer.from(JSON.stringify(config)), names: ['docker.io/library/busybox:latest', 'docker.io/library/busybox:1.36'],
    },
  });
  const d = imageToDocker(res) as any;
  expect(d.Id).toBe('sha256:' + 'c'.repeat(64));
  expect(d.RepoTags).toEqual(['busybox:latest', 'busybox:1.36']);
  expect(d.RepoDigests).toEqual(['busybox@sha256:' + 'm'.repeat(64)]);
  expect(d.Created).toBe('2024-01-01T00:00:00Z');
  expect(d.Size).toBe(1024);
  expect(d.RootFS).toEqual({ Type: 'layers', Layers: ['sha256:d1', 'sha256:d2'] });
  expect(d.Config).toMatchObject({ Cmd: ['sh'], Env: ['PATH=/bin'] });
  expect([d.Architecture, d.Os]).toEqual(['amd64', 'linux']);
});
