// The real registry of libs/testing (Debian's docker-registry on 127.0.0.1), images put in by skopeo from a
// docker-archive.
import { startLocalRegistry, type LocalRegistry as SharedRegistry, type LocalRegistryOptions } from '@berth/testing';

export interface LocalRegistry extends SharedRegistry {
  push(dockerArchive: string, name: string): void;
}

export async function startRegistry(opts: LocalRegistryOptions = {}): Promise<LocalRegistry> {
  const reg = await startLocalRegistry(opts);
  return { ...reg, push: (file, name) => reg.copyIn(`docker-archive:${file}`, name) };
}
