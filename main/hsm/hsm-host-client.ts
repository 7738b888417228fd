import type { ModuleRef } from '../../shared/contract/hsm';
import { DEFAULT_HSM_TIMEOUT_MS, type HsmHost, type HsmHostPool, type ObjectInfo } from './hsm-host';
import { HostProcess } from './host-process';

export interface HsmHostPoolOptions {
  /** The bundled child entry (dist/main/hsm-host-child.js). */
  childEntry: string;
  /** Per-call timeout unless a call gives its own; for findObjects it applies between pages. */
  defaultTimeoutMs?: number;
}

const DEFAULT_PAGE_SIZE = 1024;

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

/** One HsmHost over one supervised child (restarted on the next call after a crash, timeout or dispose). */
export function createHsmHost(module: ModuleRef, options: { childEntry: string; defaultTimeoutMs: number }): HsmHost {
  const moduleRef: ModuleRef = { ModulePath: module.ModulePath, ModuleEnvironment: { ...(module.ModuleEnvironment ?? {}) } };
  const child = new HostProcess({ childEntry: options.childEntry, modulePath: moduleRef.ModulePath, moduleEnvironment: moduleRef.ModuleEnvironment });
  const timeout = (o?: { timeoutMs?: number }): { timeoutMs: number } => ({ timeoutMs: o?.timeoutMs ?? options.defaultTimeoutMs });
  return {
    module: moduleRef,
    getModuleInfo: (o) => child.call('getModuleInfo', {}, timeout(o)),
    listSlots: (o) => child.call('listSlots', {}, timeout(o)),
    getMechanisms: (slotId, o) => child.call('getMechanisms', { slotId }, timeout(o)),
    openSession: (slotId, o) => child.call('openSession', { slotId, readWrite: o?.readWrite ?? false }, timeout(o)),
    getSessionInfo: (session, o) => child.call('getSessionInfo', { session }, timeout(o)),
    // Secret: the PIN crosses into the child here (IPC only). It is never logged, and errors never carry it.
    login: async (session, userType, pin, o) => {
      await child.call('login', { session, userType, pin }, timeout(o));
    },
    // Secret: as for login, the PINs below go only down the IPC channel into the child.
    initToken: async (slotId, soPin, label, o) => {
      await child.call('initToken', { slotId, soPin, label }, timeout(o));
    },
    initPin: async (session, pin, o) => {
      await child.call('initPin', { session, pin }, timeout(o));
    },
    setPin: async (session, oldPin, newPin, o) => {
      await child.call('setPin', { session, oldPin, newPin }, timeout(o));
    },
    logout: async (session, o) => {
      await child.call('logout', { session }, timeout(o));
    },
    closeSession: async (session, o) => {
      await child.call('closeSession', { session }, timeout(o));
    },
    findObjects: async (session, query, o) => {
      const objects: ObjectInfo[] = [];
      await child.call(
        'findObjects',
        { session, template: query.template, attributes: query.attributes, pageSize: query.pageSize ?? DEFAULT_PAGE_SIZE },
        {
          ...timeout(o),
          onPage: (page) => {
            for (const object of page) objects.push(object);
            o?.onPage?.(page);
          },
        },
      );
      return objects;
    },
    dispose: () => child.stop(),
  };
}
