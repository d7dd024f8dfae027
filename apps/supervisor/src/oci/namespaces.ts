// docker's --pid, --ipc and --uts: a container's own namespace (the default), the host's, or (pid, ipc) the
// one of another running container, joined through /proc/<its PID 1>/ns/<type>.
import type { containersV1 } from '@berth/api';
import { FailedPreconditionError } from '@berth/service-kit';
import { InvalidConfigError } from '../errors';

export type SharedNamespace = 'pid' | 'ipc';

/** Another container's namespace cannot be joined: it is not running (or is gone). */
export class NamespaceTargetNotRunningError extends FailedPreconditionError {
  constructor(kind: SharedNamespace, ref: string) {
    super(`cannot join the ${kind} namespace of container ${ref}: it is not running`);
  }
}

const MODES: Record<SharedNamespace | 'uts', (hc: containersV1.HostConfig) => string> = {
  pid: (hc) => hc.pidMode,
  ipc: (hc) => hc.ipcMode,
  uts: (hc) => hc.utsMode,
};

export function validateNamespaceModes(hc: containersV1.HostConfig): void {
  for (const [kind, get] of Object.entries(MODES)) {
    const mode = get(hc);
    if (mode === '' || mode === 'host' || mode === 'private' || (mode === 'shareable' && kind === 'ipc')) continue;
    if (kind !== 'uts' && mode.startsWith('container:') && mode.length > 'container:'.length) continue;
    const allowed = kind === 'uts' ? 'host' : 'host or container:<name|id>';
    throw new InvalidConfigError(`invalid --${kind} "${mode}": use ${allowed}`);
  }
}

/** The container a "container:<ref>" mode names, if it is one. */
export function namespaceTarget(hc: containersV1.HostConfig, kind: SharedNamespace): string | undefined {
  const mode = MODES[kind](hc);
  return mode.startsWith('container:') ? mode.slice('container:'.length) : undefined;
}

export interface NamespaceChoice {
  /** Leave the namespace out of the spec: the process stays in the host's. */
  host: boolean;
  /** Join this namespace file instead of making one. */
  path?: string;
}

/**
 * What each shareable namespace is for this container. `pidOf` gives PID 1 of a running container by
 * reference (id, name or prefix), undefined when it is not running.
 */
export function namespaceChoices(hc: containersV1.HostConfig, pidOf: (ref: string) => number | undefined): Record<SharedNamespace | 'uts', NamespaceChoice> {
  const choose = (kind: SharedNamespace): NamespaceChoice => {
    const target = namespaceTarget(hc, kind);
    if (target === undefined) return { host: MODES[kind](hc) === 'host' };
    const pid = pidOf(target);
    if (!pid) throw new NamespaceTargetNotRunningError(kind, target);
    return { host: false, path: `/proc/${pid}/ns/${kind}` };
  };
  return { pid: choose('pid'), ipc: choose('ipc'), uts: { host: hc.utsMode === 'host' } };
}
