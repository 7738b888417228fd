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
import { WorkbenchError, type ErrorInfo } from '../../shared/errors';
import { HOST_VERBS, isHostVerb, MODULE_PATH_ARG_INDEX, type HostReply, type HostRequest, type HostVerb, type VerbTraits } from './host-protocol';
import type { ObjectInfo } from './hsm-host';
import { Pkcs11Module } from './pkcs11-module';
import { TokenFlows } from './token-flows';

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

/** Ids of calls the supervisor cancelled; a call checks between its steps (pages, flow steps). */
const cancelled = new Set<number>();

function throwIfCancelled(id: number, verb: HostVerb): void {
  if (cancelled.has(id)) throw new WorkbenchError('OperationCancelledException', `The HSM host stopped ${verb} because it was cancelled. Nothing after the last completed step was done.`);
}

/**
 * Runs one verb, derived from its declaration (host-protocol.ts): a flow, or the Pkcs11Module method of that
 * name; a paged verb's pages are streamed. Secret: the args of PIN verbs go straight into the PKCS#11 call.
 */
async function run(id: number, verb: HostVerb, args: unknown[]): Promise<unknown> {
  const traits: VerbTraits = HOST_VERBS[verb];
  const checkpoint = async (): Promise<void> => {
    await new Promise((resolve) => setImmediate(resolve));
    throwIfCancelled(id, verb);
  };
  // A call that waited behind a blocking one starts only after the loop has read what arrived meanwhile: a
  // cancel for it may be in the pipe, read in the same poll as the call itself or just after.
  await checkpoint();
  const target = (traits.flow ? new TokenFlows(module(), checkpoint) : module()) as unknown as Record<HostVerb, (...a: unknown[]) => unknown>;
  const value = await target[verb](...args);
  if (!traits.paged) return value ?? null;
  let count = 0;
  for (const objects of value as Iterable<ObjectInfo[]>) {
    count += objects.length;
    // One message per page; waiting for it to be flushed streams pages to the supervisor (whose
    // timeout restarts with each page) instead of queueing a 100k-object scan in this process.
    // Leaving the loop by a throw ends the search (the generator's finally calls C_FindObjectsFinal).
    await send({ id, kind: 'page', objects });
    throwIfCancelled(id, verb);
  }
  return count;
}

function shutdown(): null {
  try {
    loaded?.finalize();
  } finally {
    loaded = undefined;
    setImmediate(() => process.exit(0));
  }
  return null;
}

function unexpected(request: Exclude<HostRequest, { kind: 'cancel' }>, error: unknown): ErrorInfo {
  const what = request.kind === 'call' ? String(request.verb) : request.kind;
  const type = error instanceof Error ? error.name : typeof error;
  return new WorkbenchError('KMSInternalException', `The HSM host failed in ${what} with an unexpected ${type}, not a PKCS#11 error. This is a workbench defect: please report it with the operation you ran.`, {
    details: { verb: what, errorType: type },
  }).toInfo();
}

async function serve(request: Exclude<HostRequest, { kind: 'cancel' }>): Promise<void> {
  let reply: HostReply;
  try {
    if (request.kind === 'shutdown') reply = { id: request.id, kind: 'result', value: shutdown() };
    else if (!isHostVerb(request.verb) || !Array.isArray(request.args)) throw new WorkbenchError('UnknownOperationException', `The HSM host has no operation ${String(request.verb)}.`);
    else reply = { id: request.id, kind: 'result', value: await run(request.id, request.verb, request.args) };
  } catch (error) {
    // Only WorkbenchErrors (built from CKR codes, never from argument values) cross. Anything else is named by its
    // type only: its message may quote an argument (a PIN), and this process logs nowhere that could keep it.
    reply = { id: request.id, kind: 'error', error: error instanceof WorkbenchError ? error.toInfo() : unexpected(request, error) };
  } finally {
    cancelled.delete(request.id);
  }
  await send(reply);
}

// PKCS#11 sessions are not safe to interleave (a search in progress owns its session), so calls run one at a
// time. A cancel is not queued: it must reach the call it names while that call runs (or waits).
let queue: Promise<void> = Promise.resolve();
process.on('message', (message: HostRequest) => {
  if (message.kind === 'cancel') {
    cancelled.add(message.id);
    return;
  }
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
