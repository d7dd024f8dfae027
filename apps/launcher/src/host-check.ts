// What the host must have before berth starts; each missing piece is named with the fix.
import * as fs from 'node:fs';

const REQUIRED_BINARIES: Record<string, string> = {
  conmon: 'conmon',
  crun: 'crun',
  'nats-server': 'nats-server',
  ip: 'iproute2',
};

function onPath(bin: string): boolean {
  return (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin')
    .split(':')
    .some((dir) => dir && fs.existsSync(`${dir}/${bin}`));
}

/** Problems found, as lines a person can act on; empty when the host is ready. */
export function hostProblems(opts: { needNats: boolean }): string[] {
  const problems: string[] = [];
  if (process.getuid?.() !== 0) problems.push('berth needs root (mounts, namespaces, cgroups): run it as root');
  for (const [bin, pkg] of Object.entries(REQUIRED_BINARIES)) {
    if (bin === 'nats-server' && !opts.needNats) continue;
    if (!onPath(bin)) problems.push(`${bin} is not installed: run tools/host-setup.sh (or apt-get install ${pkg})`);
  }
  if (!fs.readFileSync('/proc/filesystems', 'utf8').includes('overlay')) problems.push('the kernel has no overlay filesystem (modprobe overlay)');
  return problems;
}
