// Where a container's files live. Records and logs under the state dir (<root>/supervisor/containers/<id>);
// the bundle with conmon's sockets under a short runtime dir (<run>/b/<id12>) so the attach socket path stays
// under the 108-byte limit of unix sockets.
import * as path from 'node:path';

export interface ContainerPaths {
  dir: string;
  configCopy: string;
  hostname: string;
  hosts: string;
  resolvConf: string;
  log: string;
  persistExit: string;
  persistOom: string;
  bundle: string;
  rootfs: string;
  bundleConfig: string;
  pidFile: string;
  conmonPidFile: string;
  attach: string;
  ctl: string;
  bundleOom: string;
  exitFile: string;
  execsDir: string;
}

export class Layout {
  readonly containersDir: string;
  readonly exitDir: string;
  readonly socketDir: string;
  readonly bundlesDir: string;
  readonly dbFile: string;

  constructor(
    readonly stateDir: string,
    readonly runDir: string,
  ) {
    this.containersDir = path.join(stateDir, 'containers');
    this.dbFile = path.join(stateDir, 'meta.db');
    this.exitDir = path.join(runDir, 'exits');
    this.socketDir = path.join(runDir, 'sock');
    this.bundlesDir = path.join(runDir, 'b');
  }

  paths(id: string): ContainerPaths {
    const dir = path.join(this.containersDir, id);
    const bundle = path.join(this.bundlesDir, id.slice(0, 12));
    return {
      dir,
      configCopy: path.join(dir, 'config.json'),
      hostname: path.join(dir, 'hostname'),
      hosts: path.join(dir, 'hosts'),
      resolvConf: path.join(dir, 'resolv.conf'),
      log: path.join(dir, 'ctr.log'),
      persistExit: path.join(dir, 'exit'),
      persistOom: path.join(dir, 'oom'),
      bundle,
      rootfs: path.join(bundle, 'rootfs'),
      bundleConfig: path.join(bundle, 'config.json'),
      pidFile: path.join(bundle, 'pidfile'),
      conmonPidFile: path.join(bundle, 'conmon.pid'),
      attach: path.join(bundle, 'attach'),
      ctl: path.join(bundle, 'ctl'),
      bundleOom: path.join(bundle, 'oom'),
      exitFile: path.join(this.exitDir, id),
      execsDir: path.join(bundle, 'x'),
    };
  }
}
