import type { ModuleRef } from '../../shared/contract/hsm';
import { WorkbenchError } from '../../shared/errors';
import { DEFAULT_HSM_TIMEOUT_MS, type CallOptions, type HsmHost, type HsmHostPool, type ObjectInfo, type RemoteVerbs, type SessionLostEvent } from './hsm-host';
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

/** Returns of a call naming a session after which that session is gone, and what they mean to its owner. */
const SESSION_LOST: Readonly<Record<string, SessionLostEvent['reason']>> = {
  CKR_DEVICE_ERROR: 'device-error',
  CKR_DEVICE_REMOVED: 'token-removed',
  CKR_TOKEN_NOT_PRESENT: 'token-removed',
  CKR_SESSION_HANDLE_INVALID: 'session-invalid',
  CKR_SESSION_CLOSED: 'session-invalid',
};

/** A host as the pool sees it: whether stopping it now would cut anything off. */
type PooledHost = HsmHost & { readonly idle: boolean };

/**
 * One host per (module path, environment, lane): the environment is part of a module's identity (it is read at
 * C_Initialize); a lane is a child of its own for the same module (a key store member's sessions).
 */
export function hostKey(module: ModuleRef, lane?: string): string {
  const env = Object.entries(module.ModuleEnvironment ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify(lane === undefined ? [module.ModulePath, env] : [module.ModulePath, env, lane]);
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
    get(module: ModuleRef, lane?: string): HsmHost {
      const key = hostKey(module, lane);
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

  // Open sessions, by the pid of the child holding them: the pool never stops a host a flow (or a connected key store)
  // is still using between its calls, and a child's exit ends exactly its own sessions.
  const sessions = new Map<string, number | undefined>();
  const lostListeners = new Set<(event: SessionLostEvent) => void>();
  const lose = (session: string, reason: SessionLostEvent['reason'], code?: string): void => {
    if (!sessions.delete(session)) return;
    const event: SessionLostEvent = code === undefined ? { session, reason } : { session, reason, code };
    for (const listener of [...lostListeners]) listener(event);
  };
  child.onExit((exit, pid) => {
    for (const [session, holder] of [...sessions]) {
      if (holder !== pid) continue;
      // dispose() is the owner's own doing; anything else took the session away.
      if (exit.expected) sessions.delete(session);
      else lose(session, 'host-exit');
    }
  });

  /** One call to the child; openSession and closeSession keep the session map. */
  async function send(verb: HostVerb, traits: VerbTraits, args: unknown[], callOptions: CallOptions<ObjectInfo[]> & { timeoutMs: number }): Promise<unknown> {
    const { timeoutMs, signal } = callOptions;
    if (!traits.paged) {
      const served = child.call(verb, args, { timeoutMs, signal });
      // The call was just handed to the current child: that one holds the session it opens.
      const holder = child.pid;
      const value = await served;
      if (verb === 'openSession' && typeof value === 'string') sessions.set(value, holder);
      if (verb === 'closeSession' && typeof args[0] === 'string') sessions.delete(args[0]);
      return value;
    }
    const objects: ObjectInfo[] = [];
    await child.call(verb, args, {
      timeoutMs,
      signal,
      onPage: (page) => {
        for (const object of page) objects.push(object);
        callOptions.onPage?.(page);
      },
    });
    return objects;
  }

  const remote = (verb: HostVerb) =>
    async (...all: unknown[]): Promise<unknown> => {
      const traits: VerbTraits = HOST_VERBS[verb];
      const args = all.slice(0, traits.arity);
      const callOptions = (all[traits.arity] ?? {}) as CallOptions<ObjectInfo[]>;
      // Session verbs name their session first; only a session this host opened is followed.
      const named = typeof args[0] === 'string' && sessions.has(args[0]) ? args[0] : undefined;
      try {
        return await send(verb, traits, args, { ...callOptions, timeoutMs: callOptions.timeoutMs ?? options.defaultTimeoutMs });
      } catch (error) {
        const code = error instanceof WorkbenchError ? error.code : undefined;
        const reason = code === undefined ? undefined : SESSION_LOST[code];
        if (named !== undefined && reason !== undefined) lose(named, reason, code);
        throw error;
      }
    };
  const verbs = Object.fromEntries((Object.keys(HOST_VERBS) as HostVerb[]).map((verb) => [verb, remote(verb)])) as unknown as RemoteVerbs<HostVerbs>;

  return {
    ...verbs,
    get idle(): boolean {
      return sessions.size === 0 && !child.busy;
    },
    module: moduleRef,
    onExit: (listener) => child.onExit((exit) => listener(exit)),
    onSessionLost: (listener) => {
      lostListeners.add(listener);
      return () => lostListeners.delete(listener);
    },
    get pid(): number | undefined {
      return child.pid;
    },
    retire: () => child.retire(),
    dispose: () => child.stop(),
  };
}
