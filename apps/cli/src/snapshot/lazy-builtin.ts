// Built-in modules Node 20 cannot keep in a startup snapshot (http, https, http2, tls: their native bindings
// hold handles V8 cannot serialize, and http needs Array.prototype.toSorted, which V8 only installs at run
// time). gRPC requires them at module load; in the snapshot bundle each is this stand-in, which loads the real
// module on first use (at run time) and answers the few properties read at module load (http2.constants) from
// a copy taken when the bundle was built.
import * as v8 from 'node:v8';

export function lazyBuiltin(name: string, load: () => object, eager: Record<string, unknown>): object {
  let real: Record<string | symbol, unknown> | undefined;
  const get = (): Record<string | symbol, unknown> => {
    if (!real) {
      if (v8.startupSnapshot.isBuildingSnapshot()) {
        throw new Error(`built-in module "${name}" was used while building the snapshot: it cannot be serialized, use it at call time only`);
      }
      real = load() as Record<string | symbol, unknown>;
    }
    return real;
  };
  return new Proxy({} as Record<string | symbol, unknown>, {
    get: (_t, key) => (typeof key === 'string' && Object.hasOwn(eager, key) ? eager[key] : Reflect.get(get(), key)),
    set: (_t, key, value) => Reflect.set(get(), key, value),
    has: (_t, key) => key in get(),
    ownKeys: () => Reflect.ownKeys(get()),
    // Reported configurable: a proxy may not claim a non-configurable property its (empty) target lacks.
    getOwnPropertyDescriptor: (_t, key) => {
      const d = Reflect.getOwnPropertyDescriptor(get(), key);
      return d && { ...d, configurable: true };
    },
  });
}
