import type { ModuleRef } from '../../shared/contract/hsm';
import { DEFAULT_HSM_TIMEOUT_MS, type CallOptions, type HsmHost, type HsmHostPool, type ObjectInfo, type RemoteVerbs } from './hsm-host';
import { HOST_VERBS, type HostVerb, type HostVerbs, type VerbTraits } from './host-protocol';
import { HostProcess } from './host-process';

export interface HsmHostPoolOptions {
  /** The bundled child entry (dist/main/hsm-host-child.js). */
  childEntry: string;
  /** Per-call timeout unless a call gives its own; for findObjects it applies between pages. */
  defaultTimeoutMs?: number;
  /**
   * How many hosts (child processes) the pool keeps; past it, the least recently used idle one (no call
   * running, no session open) is stopped. Every distinct module environment is a host of its own, so
   * without a bound a caller varying environments would pile up processes. Default 16.
   */
  maxHosts?: number;
}

const DEFAULT_MAX_HOSTS = 16;

/** A host as the pool sees it: whether stopping it now would cut anything off. */
type PooledHost = HsmHost & { readonly idle: boolean };

/** One host per (module path, environment): the environment is part of a module's identity (it is read at C_Initialize). */
export function hostKey(module: ModuleRef): string {
  const env = Object.entries(module.ModuleEnvironment ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify([module.ModulePath, env]);
}

/** The supervisor side of the HSM hosts: each module runs in its own child process, created on first use. */
export function createHsmHostPool(options: HsmHostPoolOptions): HsmHostPool {
  // In least-recently-used order: a get() moves its host to the end.
  const hosts = new Map<string, PooledHost>();
  const defaultTimeoutMs = options.defaultTimeoutMs ?? DEFAULT_HSM_TIMEOUT_MS;
  const maxHosts = options.maxHosts ?? DEFAULT_MAX_HOSTS;

  function evictIdle(keep: string): void {
    for (const [key, host] of hosts) {
      if (hosts.size <= maxHosts) return;
      if (key === keep || !host.idle) continue;
      hosts.delete(key);
      // Nothing is running on it; a caller still holding it gets a fresh child on its next call.
      void host.dispose().catch(() => undefined);
    }
  }

  return {
    get(module: ModuleRef): HsmHost {
      const key = hostKey(module);
      let host = hosts.get(key);
      if (host) hosts.delete(key);
      host ??= createHsmHost(module, { childEntry: options.childEntry, defaultTimeoutMs });
      hosts.set(key, host);
      evictIdle(key);
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
export function createHsmHost(module: ModuleRef, options: { childEntry: string; defaultTimeoutMs: number }): PooledHost {
  const moduleRef: ModuleRef = { ModulePath: module.ModulePath, ModuleEnvironment: { ...(module.ModuleEnvironment ?? {}) } };
  const child = new HostProcess({ childEntry: options.childEntry, modulePath: moduleRef.ModulePath, moduleEnvironment: moduleRef.ModuleEnvironment });

  // Open sessions, so the pool never stops a host a flow is still using between its calls. A child's exit ends them all.
  let openSessions = 0;
  child.onExit(() => (openSessions = 0));

  const remote = (verb: HostVerb) =>
    async (...all: unknown[]): Promise<unknown> => {
      const traits: VerbTraits = HOST_VERBS[verb];
      const args = all.slice(0, traits.arity);
      const callOptions = (all[traits.arity] ?? {}) as CallOptions<ObjectInfo[]>;
      const timeoutMs = callOptions.timeoutMs ?? options.defaultTimeoutMs;
      if (!traits.paged) {
        const value = await child.call(verb, args, { timeoutMs, signal: callOptions.signal });
        if (verb === 'openSession') openSessions += 1;
        if (verb === 'closeSession') openSessions = Math.max(0, openSessions - 1);
        return value;
      }
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
    get idle(): boolean {
      return openSessions === 0 && !child.busy;
    },
    module: moduleRef,
    onExit: (listener) => child.onExit(listener),
    retire: () => child.retire(),
    dispose: () => child.stop(),
  };
}
