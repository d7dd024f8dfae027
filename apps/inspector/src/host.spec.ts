import { overlayMountPoint } from './host';

const MOUNTINFO = `22 27 0:21 / /proc rw,relatime - proc proc rw
512 27 0:90 / /tmp/br-x/supervisor/b/abc\\040def/rootfs rw,relatime - overlay overlay rw,lowerdir=/l/1:/l/2,upperdir=/s/u,workdir=/s/w,index=off
`;

it('finds where the overlay with an upper dir is mounted', () => {
  expect(overlayMountPoint('/s/u', MOUNTINFO)).toBe('/tmp/br-x/supervisor/b/abc def/rootfs');
  expect(overlayMountPoint('/s/other', MOUNTINFO)).toBe('');
  expect(overlayMountPoint('', MOUNTINFO)).toBe('');
});
