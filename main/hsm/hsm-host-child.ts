/**
 * The HSM host child: one PKCS#11 module, in its own process, serving the supervisor over Node's IPC
 * channel. PKCS#11 calls are synchronous and vendor libraries can hang or crash; here a hang blocks
 * only this process (the supervisor kills it) and a crash takes only this process down.
 *
 * The module path is argv[2]; its environment (SOFTHSM2_CONF, P11_KIT_SERVER_ADDRESS, …) was set on
 * this process at spawn, because modules read it once, at C_Initialize.
 * This process writes nothing to stdout/stderr: requests carry PINs, and nothing here may echo them.
 */
import { toErrorInfo, WorkbenchError } from '../../shared/errors';
import type { HostMethods, HostReply, HostRequest } from './host-protocol';
import { MODULE_PATH_ARG_INDEX } from './host-protocol';
import { Pkcs11Module } from './pkcs11-module';

const modulePath = process.argv[MODULE_PATH_ARG_INDEX] ?? '';
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
