// The inspector service process: see README.md for its configuration.
import { runService } from '@berth/service-kit';

const { version } = require('../package.json') as { version: string };

void runService({
  name: 'inspector',
  version,
  setup: async () => ({ services: [] }),
}).catch(() => undefined);
