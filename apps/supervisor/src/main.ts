// The supervisor service process: see README.md for its configuration.
import { runService } from '@berth/service-kit';

const { version } = require('../package.json') as { version: string };

void runService({
  name: 'supervisor',
  version,
  setup: async () => ({ services: [] }),
}).catch(() => undefined);
