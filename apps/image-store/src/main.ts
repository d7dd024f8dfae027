// The image-store service process (see README.md): content-addressable blobs and image records under
// <BERTH_ROOT>/image-store, served as berth.images.v1.Content and berth.images.v1.Images.
import { runService } from '@berth/service-kit';
import { contentService } from './grpc/content-grpc';
import { imagesService } from './grpc/images-grpc';
import { ImageStore } from './image-store';

const { version } = require('../package.json') as { version: string };

void runService({
  name: 'image-store',
  version,
  setup: async ({ config, log, bus }) => {
    const store = ImageStore.open(config.stateDir, bus);
    return {
      services: [contentService(store.content, log), imagesService(store, log)],
      close: () => store.close(),
    };
  },
}).catch(() => undefined);
