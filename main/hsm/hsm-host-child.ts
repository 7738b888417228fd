/**
 * The HSM host child: one PKCS#11 module, in its own process, serving the supervisor over Node's IPC
 * channel. PKCS#11 calls are synchronous and vendor libraries can hang or crash; here a hang blocks
 * only this process (the supervisor kills it) and a crash takes only this process down.
 *
 * The module path is argv[2]; its environment (SOFTHSM2_CONF, P11_KIT_SERVER_ADDRESS, …) was set on
 * this process at spawn, because modules read it once, at C_Initialize.
 * This process writes nothing to stdout/stderr: requests carry PINs, and nothing here may echo them.
 */
import { Worker } from 'node:worker_threads';
import { toErrorInfo, WorkbenchError } from '../../shared/errors';
import type { HostMethods, HostReply, HostRequest } from './host-protocol';
import { MODULE_PATH_ARG_INDEX } from './host-protocol';
import { Pkcs11Module } from './pkcs11-module';

const modulePath = process.argv[MODULE_PATH_ARG_INDEX] ?? '';

/**
 * Kills this process once the supervisor is gone. The 'disconnect' handler below cannot do it while
 * the main thread is blocked inside a PKCS#11 call (a hung module), so a worker thread, which keeps
 * running meanwhile, watches the parent: when it dies this process is re-parented (to PID 1 or a
 * subreaper) and process.ppid changes. SIGKILL, because a clean exit would wait for the blocked thread.
 */
const ORPHAN_WATCHDOG = `
const { workerData } = require('node:worker_threads');
setInterval(() => {
  if (process.ppid !== workerData.parentPid) process.kill(process.pid, 'SIGKILL');
}, workerData.intervalMs);
`;
const ORPHAN_POLL_MS = 500;

function startOrphanWatchdog(): void {
  const watchdog = new Worker(ORPHAN_WATCHDOG, { eval: true, workerData: { parentPid: process.ppid, intervalMs: ORPHAN_POLL_MS } });
  // Never the reason this process stays alive; it ends with the process.
  watchdog.unref();
  // A watchdog that failed to start must not take the host down; 'disconnect' still covers the unblocked case.
  watchdog.on('error', () => undefined);
}
startOrphanWatchdog();

let loaded: Pkcs11Module | undefined;

/** Loads on first use, so a load failure is the reply to a request (and the next request tries again). */
function module(): Pkcs11Module {
  loaded ??= Pkcs11Module.load(modulePath);
  return loaded;
}

function send(reply: HostReply): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!process.send) {
      reject(new Error('the HSM host child has no IPC channel'));
      return;
    }
    process.send(reply, undefined, {}, (error) => (error ? reject(error) : resolve()));
  });
}

type Handlers = { [M in keyof HostMethods]: (params: HostMethods[M]['params'], id: number) => Promise<HostMethods[M]['result']> | HostMethods[M]['result'] };

const handlers: Handlers = {
  getModuleInfo: () => module().getModuleInfo(),
  listSlots: () => module().listSlots(),
  getMechanisms: ({ slotId }) => module().getMechanisms(slotId),
  openSession: ({ slotId, readWrite }) => module().openSession(slotId, readWrite),
  getSessionInfo: ({ session }) => module().getSessionInfo(session),
  // Secret: the PIN arrives here from the supervisor and goes straight into C_Login; it is not kept.
  login: ({ session, userType, pin }) => {
    module().login(session, userType, pin);
    return null;
  },
  // Secret: these PINs, too, go straight into the PKCS#11 call and are not kept.
  initToken: ({ slotId, soPin, label }) => {
    module().initToken(slotId, soPin, label);
    return null;
  },
  initPin: ({ session, pin }) => {
    module().initPin(session, pin);
    return null;
  },
  setPin: ({ session, oldPin, newPin }) => {
    module().setPin(session, oldPin, newPin);
    return null;
  },
  logout: ({ session }) => {
    module().logout(session);
    return null;
  },
  closeSession: ({ session }) => {
    module().closeSession(session);
    return null;
  },
  findObjects: async (params, id) => {
    let count = 0;
    for (const objects of module().findObjects(params.session, params)) {
      count += objects.length;
      // One message per page; waiting for it to be flushed streams pages to the supervisor (whose
      // timeout restarts with each page) instead of queueing a 100k-object scan in this process.
      await send({ id, kind: 'page', objects });
    }
    return count;
  },
  shutdown: () => {
    try {
      loaded?.finalize();
    } finally {
      loaded = undefined;
      setImmediate(() => process.exit(0));
    }
    return null;
  },
};

async function serve(request: HostRequest): Promise<void> {
  let reply: HostReply;
  try {
    const handler = handlers[request.method] as (params: unknown, id: number) => unknown;
    if (typeof handler !== 'function') throw new WorkbenchError('UnknownOperationException', `The HSM host has no operation ${String(request.method)}.`);
    reply = { id: request.id, kind: 'result', value: await handler(request.params, request.id) };
  } catch (error) {
    // Only WorkbenchErrors (built from CKR codes, never from argument values) cross; anything else is generic.
    reply = { id: request.id, kind: 'error', error: toErrorInfo(error) };
  }
  await send(reply);
}

// PKCS#11 sessions are not safe to interleave (a search in progress owns its session), so requests run one at a time.
let queue: Promise<void> = Promise.resolve();
process.on('message', (message: HostRequest) => {
  queue = queue.then(() => serve(message)).catch(() => process.exit(70));
});

// The supervisor went away: nobody can receive replies, and an orphaned host must not linger.
process.on('disconnect', () => {
  try {
    loaded?.finalize();
  } finally {
    process.exit(0);
  }
});
