import type { ModuleRef } from '../../shared/contract/hsm';
import { DEFAULT_HSM_TIMEOUT_MS, type CallOptions, type HsmHost, type HsmHostPool, type ObjectInfo, type RemoteVerbs } from './hsm-host';
import { HOST_VERBS, type HostVerb, type HostVerbs, type VerbTraits } from './host-protocol';
import { HostProcess } from './host-process';

export interface HsmHostPoolOptions {
  /** The bundled child entry (dist/main/hsm-host-child.js). */
  childEntry: string;
  /** Per-call timeout unless a call gives its own; for findObjects it applies between pages. */
  defaultTimeoutMs?: number;
}

/** One host per (module path, environment): the environment is part of a module's identity (it is read at C_Initialize). */
export function hostKey(module: ModuleRef): string {
  const env = Object.entries(module.ModuleEnvironment ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify([module.ModulePath, env]);
}

/** The supervisor side of the HSM hosts: each module runs in its own child process, created on first use. */
export function createHsmHostPool(options: HsmHostPoolOptions): HsmHostPool {
  const hosts = new Map<string, HsmHost>();
  const defaultTimeoutMs = options.defaultTimeoutMs ?? DEFAULT_HSM_TIMEOUT_MS;
  return {
    get(module: ModuleRef): HsmHost {
      const key = hostKey(module);
      let host = hosts.get(key);
      if (!host) {
        host = createHsmHost(module, { childEntry: options.childEntry, defaultTimeoutMs });
        hosts.set(key, host);
      }
      return host;
    },
    async disposeAll(): Promise<void> {
      const all = [...hosts.values()];
      hosts.clear();
      await Promise.all(all.map((host) => host.dispose()));
    },
  };
}

/**
 * One HsmHost over one supervised child (restarted on the next call after a crash, timeout or dispose).
 * Its methods are derived from the verb table: arguments go to the child as they are, the options that
 * follow them steer the call (timeout, cancel, pages).
 */
export function createHsmHost(module: ModuleRef, options: { childEntry: string; defaultTimeoutMs: number }): HsmHost {
  const moduleRef: ModuleRef = { ModulePath: module.ModulePath, ModuleEnvironment: { ...(module.ModuleEnvironment ?? {}) } };
  const child = new HostProcess({ childEntry: options.childEntry, modulePath: moduleRef.ModulePath, moduleEnvironment: moduleRef.ModuleEnvironment });

  const remote = (verb: HostVerb) =>
    async (...all: unknown[]): Promise<unknown> => {
      const traits: VerbTraits = HOST_VERBS[verb];
      const args = all.slice(0, traits.arity);
      const callOptions = (all[traits.arity] ?? {}) as CallOptions<ObjectInfo[]>;
      const timeoutMs = callOptions.timeoutMs ?? options.defaultTimeoutMs;
      if (!traits.paged) return child.call(verb, args, { timeoutMs, signal: callOptions.signal });
      const objects: ObjectInfo[] = [];
      await child.call(verb, args, {
        timeoutMs,
        signal: callOptions.signal,
        onPage: (page) => {
          for (const object of page) objects.push(object);
          callOptions.onPage?.(page);
        },
      });
      return objects;
    };
  const verbs = Object.fromEntries((Object.keys(HOST_VERBS) as HostVerb[]).map((verb) => [verb, remote(verb)])) as unknown as RemoteVerbs<HostVerbs>;

  return {
    ...verbs,
    module: moduleRef,
    onExit: (listener) => child.onExit(listener),
    retire: () => child.retire(),
    dispose: () => child.stop(),
  };
}
