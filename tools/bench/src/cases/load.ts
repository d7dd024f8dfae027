// Loading an image until it is ready to run: berth import + unpack, podman load, docker load.
import type { BenchCase, Subject } from '../harness';
import type { BerthInstance } from '../berth-instance';
import { run } from '../exec';
import { connectClients, loadAndUnpack, unloadImage } from '../grpc-clients';

export function loadCase(opts: {
  name: string;
  archive: string;
  imageName: string;
  berth: BerthInstance;
  podman: boolean;
  docker: boolean;
  runs: number;
}): BenchCase & { close(): void; phases: { importMs: number[]; unpackMs: number[] } } {
  const clients = connectClients(opts.berth.env);
  let loaded: string[] = [];
  // berth's two steps, per run (warm-up included), for the breakdown in the notes.
  const phases = { importMs: [] as number[], unpackMs: [] as number[] };
  const subjects: Subject[] = [
    {
      name: 'berth',
      run: async () => {
        const got = await loadAndUnpack(clients, opts.archive);
        loaded = got.names;
        phases.importMs.push(got.importMs);
        phases.unpackMs.push(got.unpackMs);
      },
      after: () => unloadImage(clients, loaded),
    },
  ];
  if (opts.podman) {
    subjects.push({
      name: 'podman',
      run: async () => void (await run('podman', ['load', '-q', '-i', opts.archive])),
      after: async () => void (await run('podman', ['rmi', '-f', opts.imageName]).catch(() => undefined)),
    });
  }
  if (opts.docker) {
    subjects.push({
      name: 'docker',
      run: async () => void (await run('docker', ['load', '-q', '-i', opts.archive])),
      after: async () => void (await run('docker', ['rmi', '-f', opts.imageName]).catch(() => undefined)),
    });
  }
  return {
    name: opts.name,
    description: `load ${opts.imageName} from a docker-archive until ready to run (import + unpack)`,
    unit: 'ms',
    subjects,
    runs: opts.runs,
    warmup: 1,
    close: () => clients.close(),
    phases,
  };
}
