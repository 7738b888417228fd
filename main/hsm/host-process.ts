import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { WorkbenchError, type ErrorName } from '../../shared/errors';
import type { HostExit, ObjectInfo } from './hsm-host';
import type { HostReply, HostRequest, HostVerb } from './host-protocol';

export interface HostProcessOptions {
  childEntry: string;
  modulePath: string;
  /** Merged over process.env at spawn: modules read their environment once, at C_Initialize. */
  moduleEnvironment: Readonly<Record<string, string>>;
}

interface Pending {
  child: ChildProcess;
  method: HostVerb;
  resolve: (value: unknown) => void;
  reject: (error: WorkbenchError) => void;
  onPage: ((objects: ObjectInfo[]) => void) | undefined;
  timeoutMs: number;
  /** Runs only while the child is serving this call (it is at the head of the child's queue). */
  timer: NodeJS.Timeout | undefined;
  /** Removes the call's abort listener once it settles. */
  forgetSignal: (() => void) | undefined;
}

/** Returns after which the module instance is useless: the next call needs a fresh C_Initialize. */
const DEVICE_GONE = new Set(['CKR_DEVICE_ERROR', 'CKR_DEVICE_REMOVED']);

interface KillReason {
  name: Extract<ErrorName, 'HsmHostTimeoutException' | 'HsmHostCrashedException'>;
  message: string;
  exit: Extract<HostExit['reason'], 'timeout' | 'stopped'>;
}

const SHUTDOWN: HostRequest = { kind: 'shutdown', id: 0 };

/** JSON turns an undefined array element into null, which defeats a default parameter: an omitted optional argument is left off. */
function withoutTrailingUndefined(args: unknown[]): unknown[] {
  let end = args.length;
  while (end > 0 && args[end - 1] === undefined) end -= 1;
  return end === args.length ? args : args.slice(0, end);
}

/**
 * Supervises one HSM host child: forks it on demand, matches replies to requests by id, kills it
 * (SIGKILL) when a call outlives its timeout, and fails every call pending on it when it dies. A killed
 * child is detached at once, so the next call forks a fresh one. Idle children do not keep the parent alive.
 *
 * The child serves its requests one at a time, in order, so a call's clock runs only while it is at the
 * head of its child's queue: a short call waiting behind a legitimately long one is not timed out (which
 * would kill the child, and the long call with it).
 */
export class HostProcess {
  private child: ChildProcess | undefined;
  private readonly exits = new WeakMap<ChildProcess, Promise<void>>();
  /** Why this process killed a child, so its exit is reported as what it was. */
  private readonly killReasons = new WeakMap<ChildProcess, KillReason>();
  private readonly pending = new Map<number, Pending>();
  /** Children retired after their device went away: they finish their pending calls, then exit. */
  private readonly retiring = new WeakSet<ChildProcess>();
  /** Children retired at any time, for the exit report (the set above empties as they shut down). */
  private readonly retired = new WeakSet<ChildProcess>();
  private readonly exitListeners = new Set<(exit: HostExit, pid: number | undefined) => void>();
  private nextId = 1;

  constructor(private readonly options: HostProcessOptions) {}

  /** True while a call is pending on the current child. */
  get busy(): boolean {
    return [...this.pending.values()].some((p) => p.child === this.child);
  }

  /** The current child's process id; undefined while none runs. A call made now is served by this child. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Tells `listener` whenever a child exits (and which), so the owner of its sessions (a connected key store) can follow. */
  onExit(listener: (exit: HostExit, pid: number | undefined) => void): () => void {
    this.exitListeners.add(listener);
    return () => this.exitListeners.delete(listener);
  }

  call(method: HostVerb, args: unknown[], options: { timeoutMs: number; onPage?: (objects: ObjectInfo[]) => void; signal?: AbortSignal }): Promise<unknown> {
    if (options.signal?.aborted) {
      return Promise.reject(new WorkbenchError('OperationCancelledException', `${method} was cancelled before the HSM host started it. Nothing was done.`));
    }
    let child: ChildProcess;
    try {
      child = this.ensureChild();
    } catch (error) {
      return Promise.reject(error instanceof WorkbenchError ? error : new WorkbenchError('HsmHostCrashedException', 'The HSM host could not be started.'));
    }
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, {
        child,
        method,
        resolve: resolve as (value: unknown) => void,
        reject,
        onPage: options.onPage,
        timeoutMs: options.timeoutMs,
        timer: undefined,
        forgetSignal: this.forwardCancel(child, id, options.signal),
      });
      this.startHeadTimer(child);
      this.updateRef(child);
      // Secret: PIN verbs' args carry PINs, key verbs' may carry key material or plaintext (host-protocol.ts); they go only down the IPC channel, never to a log.
      const request: HostRequest = { kind: 'call', id, verb: method, args: withoutTrailingUndefined(args) };
      child.send(request, (error) => {
        if (error) this.settle(id, new WorkbenchError('HsmHostCrashedException', `The HSM host for ${this.options.modulePath} could not be reached (${error.message}). Try again.`));
      });
    });
  }

  /** On abort, asks the child to stop call `id` at its next step; the call then settles with the child's answer. */
  private forwardCancel(child: ChildProcess, id: number, signal: AbortSignal | undefined): (() => void) | undefined {
    if (!signal) return undefined;
    const cancel = (): void => {
      if (this.pending.has(id) && child.connected) child.send({ kind: 'cancel', id } satisfies HostRequest, () => undefined);
    };
    signal.addEventListener('abort', cancel, { once: true });
    return () => signal.removeEventListener('abort', cancel);
  }

  /**
   * Sends new calls to a fresh child from now on; the current one finishes the calls it already has,
   * then shuts down. For a module whose device is gone: p11-kit's client, for one, never reconnects a
   * dead connection, so only a new C_Initialize (a new child) can see the HSM again.
   */
  retire(): void {
    const child = this.child;
    if (!child) return;
    this.child = undefined;
    this.retiring.add(child);
    this.retired.add(child);
    this.shutdownIfIdle(child);
  }

  private shutdownIfIdle(child: ChildProcess): void {
    if ([...this.pending.values()].some((p) => p.child === child)) return;
    this.retiring.delete(child);
    const kill = setTimeout(() => child.kill('SIGKILL'), 2_000);
    kill.unref();
    if (child.connected) child.send(SHUTDOWN, (error) => error && child.kill('SIGKILL'));
    else child.kill('SIGKILL');
  }

  /** Asks the child to C_Finalize and exit; kills it if it has not within `graceMs`. Calls pending on it fail. */
  async stop(graceMs = 2_000): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.detach(child, { name: 'HsmHostCrashedException', message: 'The HSM host was stopped while this call was running.', exit: 'stopped' });
    const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
    if (child.connected) child.send(SHUTDOWN, (error) => error && child.kill('SIGKILL'));
    else child.kill('SIGKILL');
    await this.exits.get(child);
    clearTimeout(kill);
  }

  private ensureChild(): ChildProcess {
    if (this.child) return this.child;
    if (!existsSync(this.options.childEntry)) {
      // Without this, a missing build shows up as "the module crashed", which sends the admin after the wrong thing.
      throw new WorkbenchError('HsmHostCrashedException', `The HSM host program ${this.options.childEntry} is missing. Rebuild the workbench (npm run build:node) or reinstall it.`, {
        details: { childEntry: this.options.childEntry },
      });
    }
    const child = fork(this.options.childEntry, [this.options.modulePath], {
      execPath: process.execPath,
      execArgv: [],
      env: { ...process.env, ...this.options.moduleEnvironment },
      // JSON, not 'advanced': the protocol is plain data (host-protocol.ts), and the structured clone costs more per
      // message than the PKCS#11 call it carries (a 4 KiB Encrypt: ~260 µs a round trip against ~105 µs).
      serialization: 'json',
      // The child never writes to stdout/stderr, but the vendor library inside it may, and it has seen
      // PINs: its output is not forwarded anywhere it could be logged.
      stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
    });
    this.child = child;
    this.exits.set(
      child,
      new Promise((resolve) => {
        child.once('exit', (code, signal) => {
          this.childExited(child, code, signal);
          resolve();
        });
      }),
    );
    child.on('message', (reply: HostReply) => this.received(reply));
    // A spawn 'error' is followed by 'exit' (which fails the pending calls); listening keeps it from being thrown.
    child.on('error', () => undefined);
    this.updateRef(child);
    return child;
  }

  private received(reply: HostReply): void {
    const pending = this.pending.get(reply.id);
    if (!pending) return;
    if (reply.kind === 'page') {
      // Progress proves the child is alive: a long scan's clock restarts with each page.
      clearTimeout(pending.timer);
      pending.timer = setTimeout(() => this.timedOut(reply.id), pending.timeoutMs);
      pending.onPage?.(reply.objects);
      return;
    }
    if (reply.kind === 'error') {
      if (reply.error.code !== undefined && DEVICE_GONE.has(reply.error.code) && this.child === pending.child) this.retire();
      this.settle(reply.id, WorkbenchError.fromInfo(reply.error));
    }
    else this.settle(reply.id, undefined, reply.value);
  }

  private timedOut(id: number): void {
    const pending = this.pending.get(id);
    if (!pending) return;
    const seconds = (pending.timeoutMs / 1000).toLocaleString('en', { maximumFractionDigits: 1 });
    // A hung PKCS#11 call cannot be interrupted in-process; only SIGKILL frees it. Calls queued behind it fail the same way
    // (detached first, so none of their clocks starts on a child that is about to die).
    this.detach(pending.child, { name: 'HsmHostTimeoutException', message: `The HSM host was stopped because ${pending.method} did not answer within ${seconds} s.`, exit: 'timeout' });
    this.settle(
      id,
      new WorkbenchError(
        'HsmHostTimeoutException',
        `The PKCS#11 module ${this.options.modulePath} did not answer ${pending.method} within ${seconds} s, so its host process was stopped. Check that the HSM is connected and responding (for a network HSM, that its server is reachable); the next request starts a fresh host.`,
        { details: { modulePath: this.options.modulePath, method: pending.method, timeoutMs: pending.timeoutMs } },
      ),
    );
    pending.child.kill('SIGKILL');
  }

  /** From now on the child is on its way out: new calls go to a fresh one. */
  private detach(child: ChildProcess, reason: KillReason): void {
    if (!this.killReasons.has(child)) this.killReasons.set(child, reason);
    if (this.child === child) this.child = undefined;
  }

  private childExited(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.child === child) this.child = undefined;
    const reason = this.killReasons.get(child);
    const how = signal ? `was killed by ${signal}` : `exited with code ${code ?? 'unknown'}`;
    for (const [id, pending] of [...this.pending]) {
      if (pending.child !== child) continue;
      const details = { modulePath: this.options.modulePath, method: pending.method };
      this.settle(
        id,
        reason
          ? new WorkbenchError(reason.name, `${reason.message} Try again; the next request starts a fresh host.`, { details })
          : new WorkbenchError(
              'HsmHostCrashedException',
              `The host process for the PKCS#11 module ${this.options.modulePath} ${how} during ${pending.method}. The module crashed; check the HSM and its client software. The next request starts a fresh host.`,
              { details: { ...details, exitCode: code, signal } },
            ),
      );
    }
    const exitReason: HostExit['reason'] = reason?.exit ?? (this.retired.has(child) ? 'retired' : 'crashed');
    const exit: HostExit = { reason: exitReason, expected: exitReason === 'stopped', exitCode: code, signal };
    for (const listener of [...this.exitListeners]) listener(exit, child.pid);
  }

  private settle(id: number, error: WorkbenchError | undefined, value?: unknown): void {
    const pending = this.pending.get(id);
    if (!pending) return;
    this.pending.delete(id);
    clearTimeout(pending.timer);
    pending.forgetSignal?.();
    // The child moves on to its next request: that one's clock starts now.
    if (this.child === pending.child || this.retiring.has(pending.child)) this.startHeadTimer(pending.child);
    if (this.retiring.has(pending.child)) this.shutdownIfIdle(pending.child);
    this.updateRef(pending.child);
    if (error) pending.reject(error);
    else pending.resolve(value);
  }

  /** Starts the clock of the oldest call pending on `child` (the one it is serving), if not yet running. */
  private startHeadTimer(child: ChildProcess): void {
    // Map iteration follows insertion, i.e. send order, which is the order the child serves requests in.
    for (const [id, pending] of this.pending) {
      if (pending.child !== child) continue;
      pending.timer ??= setTimeout(() => this.timedOut(id), pending.timeoutMs);
      return;
    }
  }

  /** A child keeps the parent's event loop alive only while a call is pending on it. */
  private updateRef(child: ChildProcess): void {
    const busy = [...this.pending.values()].some((p) => p.child === child);
    if (busy) {
      child.ref();
      child.channel?.ref();
    } else {
      child.unref();
      child.channel?.unref();
    }
  }
}
