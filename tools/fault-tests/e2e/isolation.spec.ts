// What a container can and cannot see or do: the berth state root and sockets are out of sight, the classic
// escapes fail, capabilities are Docker's defaults, and one container cannot see another's filesystem.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { containersV1 } from '@berth/api';
import { Berth } from '@berth/client';
import { importBusybox, removeAllContainers, SERVICES, startBerth, type BerthUnderTest } from './harness';

jest.setTimeout(180_000);

// Docker's default CapEff: CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID SETPCAP NET_BIND_SERVICE NET_RAW
// SYS_CHROOT MKNOD AUDIT_WRITE SETFCAP.
const DOCKER_CAPEFF = '00000000a80425fb';

async function sh(berth: Berth, script: string, name?: string): Promise<{ code: number; out: string }> {
  let out = '';
  const sink = { stdout: (b: Buffer | Uint8Array) => (out += Buffer.from(b).toString()), stderr: (b: Buffer | Uint8Array) => (out += Buffer.from(b).toString()) };
  const r = await berth.run({ image: 'busybox', name, overrides: { cmd: ['sh', '-c', script] }, hostConfig: { networkMode: 'none' }, remove: true, attach: {} }, sink);
  const end = await r.done!;
  return { code: end.exitCode ?? -1, out };
}

describe('container isolation', () => {
  let b: BerthUnderTest;

  beforeAll(async () => {
    b = await startBerth();
    await importBusybox(b.berth);
  });

  afterAll(async () => {
    if (b) {
      await removeAllContainers(b.berth).catch(() => undefined);
      await b.stop();
    }
  });

  it('serves its sockets root-owned and not world-accessible', () => {
    for (const s of SERVICES) {
      const st = fs.statSync(path.join(b.runDir, `${s}.sock`));
      expect(st.isSocket()).toBe(true);
      expect(st.uid).toBe(0);
      expect(st.mode & 0o007).toBe(0);
      expect((st.mode & 0o777).toString(8)).toMatch(/^6[0-6]0$/);
    }
  });

  it('cannot see the berth state root or the sockets', async () => {
    const r = await sh(b.berth, `ls ${b.root} ${b.runDir} 2>&1; ls /proc/1/root${b.root} 2>&1; echo done`);
    expect(r.out).toContain('done');
    expect(r.out).not.toMatch(/image-store|rootfs|supervisor|\.sock/);
    expect(r.out).toMatch(/No such file or directory/);
  });

  it('fails the classic escapes: mount proc, remount /proc/sys, write /sys, read masked paths', async () => {
    const r = await sh(
      b.berth,
      [
        'mkdir -p /p; mount -t proc proc /p && echo MOUNTED-PROC',
        'mount -o remount,rw /proc/sys && echo REMOUNTED-SYS',
        'echo 1 > /proc/sys/kernel/sysrq && echo WROTE-PROCSYS',
        'touch /sys/kernel/berth-escape && echo WROTE-SYS',
        // crun puts a private (container-only) tmpfs at /sys/fs/cgroup; the controllers in it are read-only.
        'mkdir /sys/fs/cgroup/memory/berth-escape && echo WROTE-CGROUP',
        'echo 1 > /sys/fs/cgroup/pids/pids.max && echo WROTE-PIDS-MAX',
        'mknod /dev/sda-escape b 8 0 && head -c1 /dev/sda-escape >/dev/null && echo READ-DISK',
        'echo kcore=$(head -c 16 /proc/kcore | wc -c)',
        'grep CapEff /proc/self/status',
        'echo end',
      ].join('; '),
    );
    expect(r.out).toContain('end');
    for (const bad of ['MOUNTED-PROC', 'REMOUNTED-SYS', 'WROTE-PROCSYS', 'WROTE-SYS', 'WROTE-CGROUP', 'WROTE-PIDS-MAX', 'READ-DISK']) expect(r.out).not.toContain(bad);
    expect(r.out).toContain('kcore=0');
    expect(r.out).toMatch(new RegExp(`CapEff:\\s+${DOCKER_CAPEFF}`));
  });

  it('is unprivileged unless asked: privileged is off by default, the escapes above ran without it, and the CLI asks for it by name only', async () => {
    // docker's --privileged exists (an explicit opt-in, as in docker and podman); nothing turns it on implicitly.
    expect(containersV1.HostConfig.fromPartial({}).privileged).toBe(false);
    const plain = await b.berth.run({ image: 'busybox', overrides: { cmd: ['true'] }, hostConfig: { networkMode: 'none' }, detach: true });
    expect((await b.berth.containers.get({ id: plain.container.id })).hostConfig!.privileged).toBe(false);
    await b.berth.removeContainer(plain.container.id, true);
    const help = require('node:child_process').execFileSync(path.join(__dirname, '..', '..', '..', 'apps', 'cli', 'bin', 'berth'), ['run', '--help'], { encoding: 'utf8' }) as string;
    expect(help).toMatch(/--privileged\s+every capability, the host's devices, nothing masked/);
  });

  it("cannot see another container's filesystem or processes", async () => {
    const other = await b.berth.run({ image: 'busybox', name: 'neighbour', overrides: { cmd: ['sh', '-c', 'echo secret > /neighbour-marker; sleep 1000'] }, hostConfig: { networkMode: 'none' }, detach: true });
    const otherPid = (await b.berth.containers.get({ id: other.container.id })).state!.pid;
    const r = await sh(b.berth, `find / -xdev -name neighbour-marker 2>/dev/null; ls /proc | grep -c '^[0-9]'; ls /proc/${otherPid}/root/ 2>&1 | head -3; echo end`);
    expect(r.out).toContain('end');
    expect(r.out).not.toContain('/neighbour-marker');
    // Only its own few processes (sh, find/ls/grep) are in its PID namespace.
    const nprocs = Number(r.out.split('\n')[0]);
    expect(nprocs).toBeLessThan(6);
    expect(r.out).not.toContain('secret');
    await b.berth.removeContainer(other.container.id, true);
  });
});
