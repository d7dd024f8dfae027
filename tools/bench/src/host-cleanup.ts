// The bench's private bridge goes at the end with the rules berth made for it (masquerade, FORWARD accepts),
// through the supervisor's own cleanup (built in apps/supervisor/dist, like the launcher the bench starts).
import * as path from 'node:path';
import { REPO_ROOT } from './berth-instance';

interface HostCleanup {
  removeNetworkLeftovers(bridge: string): Promise<boolean>;
}

export async function removeBridge(bridge: string): Promise<void> {
  const cleanup = require(path.join(REPO_ROOT, 'apps', 'supervisor', 'dist', 'network', 'host-cleanup.js')) as HostCleanup;
  await cleanup.removeNetworkLeftovers(bridge);
}
