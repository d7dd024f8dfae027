import { InvalidArgumentError } from '@berth/service-kit';
import { CopySnapshotter } from './copy-snapshotter';
import { OverlaySnapshotter } from './overlay-snapshotter';
import type { Snapshotter } from './snapshotter';

export * from './snapshotter';
export { OverlaySnapshotter } from './overlay-snapshotter';
export { CopySnapshotter } from './copy-snapshotter';

export class UnknownDriverError extends InvalidArgumentError {
  constructor(driver: string) {
    super(`unknown snapshot driver "${driver}" (BERTH_ROOTFS_DRIVER): use "overlay" or "copy"`);
  }
}

/** The snapshotter for a driver name ("overlay", the default, or "copy"). */
export function createSnapshotter(driver: string, stateDir: string): Snapshotter {
  switch (driver || 'overlay') {
    case 'overlay':
      return new OverlaySnapshotter(stateDir);
    case 'copy':
      return new CopySnapshotter(stateDir);
    default:
      throw new UnknownDriverError(driver);
  }
}
