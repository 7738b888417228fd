import type { ConnectionErrorCode } from '../../shared/contract/checks';
import type { StateResource } from '../../shared/contract/events';
import type { z } from 'zod';
import type { AuditStep, ServiceEvent } from '../core/dispatcher';
import type { Logger } from '../core/logger';
import type { HsmHostPool } from '../hsm/hsm-host';
import { kmsuserPin } from '../kmsuser/kmsuser-pin';
import { noteKmsuserLogin, noteKmsuserRotation } from '../kmsuser/ledger';
import type { ClusterRecord, CustomKeyStoreRecord, RotationJournalRecord } from '../state/records';
import type { StateStore, WorkbenchState } from '../state/state-store';
import { asMemberFailure, failureDetail, MemberFailure, refusedPinChange, sessionLostFailure } from './connection-errors';
import { findKeyStore, kmsuserPasswordContext } from './key-store-records';
import { loginMember, newKmsuserPassword, releaseSession, type MemberSession } from './member-sessions';
import type { SecretVaultSource } from '../secrets/secret-vault';

export interface ConnectionManagerDeps {
  state: StateStore;
  hosts: HsmHostPool;
  vault: SecretVaultSource;
  logger: Logger;
  timeoutMs: number;
  /** GUI only: how often held sessions are asked whether their HSM still answers. */
  healthProbeMs?: number;
  changed(resource: z.infer<typeof StateResource>, id: string): void;
  recordServiceEvent(event: ServiceEvent): Promise<void>;
  /** Run once a connect reached CONNECTED and its sessions are held (the creation reconciler); dispose() waits for it. */
  afterConnected?(storeId: string): Promise<unknown>;
}

/**
 * The GUI's probe interval: a store whose HSM stops answering is FAILED/NETWORK_ERRORS within 10 s (the issue's
 * bound) — a probe every 2 s, each given PROBE_TIMEOUT_MS for an HSM that hangs rather than refuses.
 */
export const GUI_HEALTH_PROBE_MS = 2_000;

/** Held kmsuser sessions of this process, per key store: one per active member, while the store is CONNECTED. */
export interface ConnectionManager {
  /** Runs a connect whose CONNECTING is recorded, to CONNECTED or FAILED; tracked, so dispose() waits for it. */
  startConnect(storeId: string, journal: (step: AuditStep) => Promise<void>): void;
  /** Logs out and closes this process's sessions of the store (waiting for a connect of it in flight first). */
  release(storeId: string): Promise<void>;
  /**
   * For a CONNECTED store whose sessions this process does not hold (a later process): logs in with the current password.
   * `current`: the state the caller has just read, so a per-call path (crypto) reads the file once, not twice.
   */
  ensureSessions(storeId: string, current?: WorkbenchState): Promise<readonly MemberSession[]>;
  /** The members this process holds a session on. */
  held(storeId: string): ReadonlySet<string>;
  readonly inFlight: ReadonlySet<string>;
  dispose(): Promise<void>;
}

type Passwords = { current: string; pending?: string };

/** A probe's answer comes quickly from a live HSM; the 10 s the GUI promises include one of these. */
const PROBE_TIMEOUT_MS = 4_000;

/** Every how many probes the GUI tries to log in again to a lost member of a CONNECTED store (10 s at GUI_HEALTH_PROBE_MS). */
const READMIT_EVERY_PROBES = 5;

/**
 * Login answers that need the admin (a wrong password, a locked, missing or elsewhere-logged-in kmsuser): they fail the
 * login as a connect would, and are never retried on their own. Any other failure is the member being unavailable.
 */
const REFUSALS: ReadonlySet<ConnectionErrorCode> = new Set(['INVALID_CREDENTIALS', 'USER_LOCKED_OUT', 'USER_NOT_FOUND', 'USER_LOGGED_IN']);

/**
 * A failed login's entry in the kmsuser ledger: a refused PIN is a failed login (the token counted it); a missing or
 * elsewhere-logged-in kmsuser, or an HSM that did not answer, is no login at all and records nothing.
 */
function noteFailedLogin(logins: Map<string, boolean>, failure: MemberFailure): void {
  if (failure.code === 'INVALID_CREDENTIALS' || failure.code === 'USER_LOCKED_OUT') logins.set(failure.hsmId, false);
}

/** The store's MemberFailures without those of `hsmIds`: members that answer this process. */
function withoutFailures(store: CustomKeyStoreRecord, hsmIds: readonly string[]): void {
  const failures = { ...(store.MemberFailures ?? {}) };
  for (const hsmId of hsmIds) delete failures[hsmId];
  if (Object.keys(failures).length === 0) delete store.MemberFailures;
  else store.MemberFailures = failures;
}

export function createConnectionManager(deps: ConnectionManagerDeps): ConnectionManager {
  const { state, hosts, logger, timeoutMs } = deps;
  const sessions = new Map<string, MemberSession[]>();
  const running = new Map<string, Promise<unknown>>();
  const inFlight = new Set<string>();
  /** Per held session: stops following its loss. */
  const following = new Map<MemberSession, () => void>();
  /** Per member (its host lane, by HsmId): the release of its session under way, which a login of it waits for (loginOf). */
  const releasing = new Map<string, Promise<void>>();
  /** When each lost member (`storeId/hsmId`) is next tried: a dead HSM costs one login attempt (a host child) per interval, not per probe. */
  const nextReadmit = new Map<string, number>();
  const readmitIntervalMs = (deps.healthProbeMs ?? 0) * READMIT_EVERY_PROBES;
  let disposed = false;

  const storeAndCluster = (s: WorkbenchState, storeId: string): { store: CustomKeyStoreRecord; cluster: ClusterRecord | undefined } => {
    const store = findKeyStore(s, storeId);
    return { store, cluster: s.clusters.find((c) => c.ClusterId === store.CloudHsmClusterId) };
  };

  async function passwords(store: CustomKeyStoreRecord): Promise<Passwords> {
    const context = kmsuserPasswordContext(store.CustomKeyStoreId);
    if (store.KmsuserPassword === undefined) throw new MemberFailure('-', 'INVALID_CREDENTIALS', 'the key store holds no kmsuser password');
    const current = await (await deps.vault()).open(store.KmsuserPassword, context);
    return store.Rotation === undefined ? { current } : { current, pending: await (await deps.vault()).open(store.Rotation.PendingPassword, context) };
  }

  /** Writes the outcome of a login per member into the kmsuser ledger, with `then` in the same transaction. */
  async function record<T>(storeId: string, logins: ReadonlyMap<string, boolean>, then: (store: CustomKeyStoreRecord, s: WorkbenchState) => T): Promise<T> {
    const result = await state.transact((s) => {
      const { store, cluster } = storeAndCluster(s, storeId);
      for (const member of cluster?.Hsms ?? []) {
        const accepted = logins.get(member.HsmId);
        if (accepted !== undefined) noteKmsuserLogin(member, accepted);
      }
      return then(store, s);
    });
    deps.changed('customKeyStores', storeId);
    return result;
  }

  /**
   * Lets a session go (releaseSession), no longer followed, tracked for dispose(). The release ends by stopping the
   * member's child: a login of the member meanwhile waits for it (loginOf), or the late stop would take the new session along.
   */
  function letGo(session: MemberSession, sessionGone = false): Promise<void> {
    following.get(session)?.();
    following.delete(session);
    const before = releasing.get(session.hsmId);
    const run = tracked(releaseSession(session, timeoutMs, sessionGone).then(() => before));
    releasing.set(session.hsmId, run);
    void run.finally(() => {
      if (releasing.get(session.hsmId) === run) releasing.delete(session.hsmId);
    });
    return run;
  }

  /** loginMember, once a release of the member under way has stopped its child. */
  async function loginOf(cluster: ClusterRecord, member: ClusterRecord['Hsms'][number], password: string, loginTimeoutMs = timeoutMs): Promise<MemberSession> {
    await releasing.get(member.HsmId);
    return loginMember(hosts, cluster, member, password, loginTimeoutMs);
  }

  /** `onlyIfConnected`: a login of a CONNECTED store failed; one another process disconnected meanwhile stays as it is. */
  async function fail(storeId: string, failure: MemberFailure, logins: ReadonlyMap<string, boolean>, options: { onlyIfConnected?: boolean } = {}): Promise<void> {
    await record(storeId, logins, (store) => {
      if (options.onlyIfConnected === true && store.ConnectionState !== 'CONNECTED') return;
      store.ConnectionState = 'FAILED';
      store.ConnectionErrorCode = failure.code;
      store.MemberFailures = { ...(store.MemberFailures ?? {}), [failure.hsmId]: { ConnectionErrorCode: failure.code, Detail: failure.detail } };
      delete store.Owner;
      // Rolled back everywhere: no HSM has the pending password, so the journal has nothing left to say.
      if (store.Rotation !== undefined && Object.values(store.Rotation.Hsms).every((v) => v === 'CURRENT')) delete store.Rotation;
    });
    logger.warn('custom key store connection failed', { customKeyStoreId: storeId, connectionErrorCode: failure.code, hsmId: failure.hsmId, detail: failure.detail });
  }

  /**
   * Logs in to every member, each with the password it is known (or, mid-rotation, likely) to have; on a failure releases
   * those held. `spare` (a CONNECTED store, logged in again): a member that is unavailable is left out and returned in
   * `unavailable`, as long as one member is held; a refusal still fails the whole login.
   */
  async function loginAll(
    cluster: ClusterRecord,
    candidates: (hsmId: string) => readonly string[],
    logins: Map<string, boolean>,
    spare = false,
  ): Promise<{ sessions: MemberSession[]; has: Map<string, string>; unavailable: MemberFailure[] }> {
    const held: MemberSession[] = [];
    const has = new Map<string, string>();
    const unavailable: MemberFailure[] = [];
    try {
      if (cluster.Hsms.length === 0) throw new MemberFailure('-', 'INSUFFICIENT_CLOUDHSM_HSMS', 'the cluster has no HSMs');
      for (const member of cluster.Hsms) {
        const tries = candidates(member.HsmId);
        for (const [i, password] of tries.entries()) {
          try {
            held.push(await loginOf(cluster, member, password));
            logins.set(member.HsmId, true);
            has.set(member.HsmId, password);
            break;
          } catch (error) {
            const failure = asMemberFailure(member.HsmId, error);
            noteFailedLogin(logins, failure);
            // Mid-rotation a member may have either password: a refused one means the other.
            if (failure.code === 'INVALID_CREDENTIALS' && i < tries.length - 1) continue;
            if (!spare || REFUSALS.has(failure.code)) throw failure;
            unavailable.push(failure);
            break;
          }
        }
      }
      if (held.length === 0 && unavailable[0] !== undefined) throw unavailable[0];
      return { sessions: held, has, unavailable };
    } catch (error) {
      await Promise.all(held.map((s) => letGo(s)));
      throw error;
    }
  }

  /**
   * The store's state follows reality without waiting for a probe: the host reports each session it lost (a device
   * error on a call naming it, or the exit of the member's child holding it: a crash, or a retirement after a device error).
   */
  function follow(storeId: string, session: MemberSession): void {
    const stop = session.host.onSessionLost((event) => {
      if (event.session !== session.ref || !(sessions.get(storeId) ?? []).includes(session)) return;
      lost(storeId, sessionLostFailure(session.hsmId, event), true).catch((error: unknown) => logger.error('a lost key store session could not be recorded', { customKeyStoreId: storeId, error: String(error) }));
    });
    following.set(session, stop);
  }

  function hold(storeId: string, held: MemberSession[]): void {
    sessions.set(storeId, held);
    for (const session of held) follow(storeId, session);
  }

  async function drop(storeId: string): Promise<void> {
    const held = sessions.get(storeId) ?? [];
    sessions.delete(storeId);
    await Promise.all(held.map((s) => letGo(s)));
  }

  /**
   * A held session stopped answering. While another member is held the store stays CONNECTED (AWS: while its cluster
   * has an active HSM): only that member is dropped, and the state names it. The last one is FAILED without any user
   * action; reconnecting is then the admin's decision.
   */
  async function lost(storeId: string, failure: MemberFailure, sessionGone: boolean): Promise<void> {
    const held = sessions.get(storeId);
    const gone = held?.find((s) => s.hsmId === failure.hsmId);
    if (held === undefined || gone === undefined) return;
    // Synchronously, before any await: two members lost at once leave exactly one of them the last.
    if (held.length > 1) {
      sessions.set(storeId, held.filter((s) => s !== gone));
      await memberLost(storeId, gone, failure, sessionGone);
      return;
    }
    sessions.delete(storeId);
    // Not awaited: a silent HSM's logout takes its timeout, and the store must turn FAILED within the GUI's 10 s (a login meanwhile waits for it).
    void letGo(gone, sessionGone);
    const s = await state.read();
    const store = s.customKeyStores.find((k) => k.CustomKeyStoreId === storeId);
    if (store?.ConnectionState !== 'CONNECTED') return;
    await fail(storeId, failure, new Map());
    await deps
      .recordServiceEvent({
        eventName: 'CustomKeyStoreConnectionLost',
        additionalEventData: { customKeyStoreId: storeId, customKeyStoreName: store.CustomKeyStoreName, clusterId: store.CloudHsmClusterId, hsmId: failure.hsmId, connectionErrorCode: failure.code },
        errorCode: failure.code,
        errorMessage: failure.detail,
      })
      .catch((error: unknown) => logger.error('the connection loss could not be audited', { customKeyStoreId: storeId, error: String(error) }));
  }

  /**
   * One member of a store that stays CONNECTED was lost: recorded (MemberFailures) and audited. Its session is let go
   * without waiting (a silent HSM takes the logout's timeout); one its host reported gone only has its child stopped.
   */
  async function memberLost(storeId: string, gone: MemberSession, failure: MemberFailure, sessionGone: boolean): Promise<void> {
    void letGo(gone, sessionGone);
    nextReadmit.set(`${storeId}/${gone.hsmId}`, Date.now() + readmitIntervalMs);
    const store = await state.transact((s) => {
      const found = s.customKeyStores.find((k) => k.CustomKeyStoreId === storeId);
      if (found?.ConnectionState !== 'CONNECTED') return undefined;
      found.MemberFailures = { ...(found.MemberFailures ?? {}), [failure.hsmId]: { ConnectionErrorCode: failure.code, Detail: failure.detail } };
      return { CustomKeyStoreName: found.CustomKeyStoreName, CloudHsmClusterId: found.CloudHsmClusterId };
    });
    if (store === undefined) return;
    deps.changed('customKeyStores', storeId);
    await auditMember(storeId, store, failure.hsmId, failure);
  }

  /**
   * A service event for one member of a store that stays CONNECTED: lost (with its failure) or back (logged in again,
   * no failure). `heldHsms`: the members this process holds now.
   */
  async function auditMember(storeId: string, store: Pick<CustomKeyStoreRecord, 'CustomKeyStoreName' | 'CloudHsmClusterId'>, hsmId: string, failure?: MemberFailure): Promise<void> {
    const heldHsms = (sessions.get(storeId) ?? []).map((s) => s.hsmId);
    const eventName = failure === undefined ? 'CustomKeyStoreHsmRestored' : 'CustomKeyStoreHsmLost';
    if (failure === undefined) logger.info('a lost custom key store member is logged in again', { customKeyStoreId: storeId, hsmId, heldHsms });
    else logger.warn('a custom key store member was lost; the store stays CONNECTED on the others', { customKeyStoreId: storeId, hsmId, connectionErrorCode: failure.code, detail: failure.detail, heldHsms });
    await deps
      .recordServiceEvent({
        eventName,
        additionalEventData: { customKeyStoreId: storeId, customKeyStoreName: store.CustomKeyStoreName, clusterId: store.CloudHsmClusterId, hsmId, ...(failure === undefined ? {} : { connectionErrorCode: failure.code }), heldHsms },
        ...(failure === undefined ? {} : { errorCode: failure.code, errorMessage: failure.detail }),
      })
      .catch((error: unknown) => logger.error('a member event could not be audited', { customKeyStoreId: storeId, hsmId, error: String(error) }));
  }

  /** Records in the rotation journal which password a member has (SETTING: either), with the ledger's rotation when it moved. */
  async function setMember(storeId: string, hsmId: string, value: RotationJournalRecord['Hsms'][string], step: RotationJournalRecord['Step'], rotated = false): Promise<void> {
    await state.transact((s) => {
      const { store, cluster } = storeAndCluster(s, storeId);
      if (store.Rotation === undefined) return;
      store.Rotation.Hsms[hsmId] = value;
      store.Rotation.Step = step;
      const member = cluster?.Hsms.find((m) => m.HsmId === hsmId);
      if (rotated && member !== undefined) noteKmsuserRotation(member);
    });
  }

  /**
   * Rotates every member from its password to `next`, journalled so that after a kill -9 at any point the
   * state names a password each member accepts: SETTING is recorded before each C_SetPIN, PENDING after it.
   */
  async function rotate(storeId: string, cluster: ClusterRecord, held: readonly MemberSession[], has: Map<string, string>, next: string, journal: (step: AuditStep) => Promise<void>): Promise<void> {
    const done: MemberSession[] = [];
    for (const session of held) {
      const from = has.get(session.hsmId) ?? '';
      if (from === next) continue;
      await journal({ name: 'RotateKmsuserPassword', hsmId: session.hsmId });
      await setMember(storeId, session.hsmId, 'SETTING', 'ROTATING');
      try {
        // Secret: both PINs go straight to the host; neither is kept beyond this call.
        await session.host.setPin(session.ref, kmsuserPin(cluster.LoginFormat, from), kmsuserPin(cluster.LoginFormat, next), { timeoutMs });
      } catch (error) {
        const failure = asMemberFailure(session.hsmId, error);
        // Only a refusal says the member kept its password; after any other failure it may have either (SETTING stays).
        if (refusedPinChange(error)) await setMember(storeId, session.hsmId, 'CURRENT', 'ROLLING_BACK');
        await rollBack(storeId, cluster, done, has, next, journal);
        throw failure;
      }
      await setMember(storeId, session.hsmId, 'PENDING', 'ROTATING', true);
      done.push(session);
    }
  }

  /**
   * Puts the members already rotated back on their old password, so a failed connect leaves one password per member, recorded.
   * Journalled like a rotation: SETTING before each C_SetPIN, so a kill -9 after it, or an answer lost after the HSM acted,
   * leaves both passwords candidates for the next connect rather than only the one the member no longer has.
   */
  async function rollBack(storeId: string, cluster: ClusterRecord, done: readonly MemberSession[], has: Map<string, string>, next: string, journal: (step: AuditStep) => Promise<void>): Promise<void> {
    for (const session of done) {
      await journal({ name: 'RollBackKmsuserPassword', hsmId: session.hsmId });
      await setMember(storeId, session.hsmId, 'SETTING', 'ROLLING_BACK');
      try {
        await session.host.setPin(session.ref, kmsuserPin(cluster.LoginFormat, next), kmsuserPin(cluster.LoginFormat, has.get(session.hsmId) ?? ''), { timeoutMs });
        await setMember(storeId, session.hsmId, 'CURRENT', 'ROLLING_BACK');
      } catch (error) {
        // A refusal: it keeps the new password (PENDING). Otherwise it may have either, and SETTING says so.
        if (refusedPinChange(error)) await setMember(storeId, session.hsmId, 'PENDING', 'ROLLING_BACK');
        logger.warn('a rotated member could not be rolled back; the journal names the passwords it may have', { customKeyStoreId: storeId, hsmId: session.hsmId, detail: failureDetail(error) });
      }
    }
  }

  /** Whether the store ended CONNECTED. */
  async function connect(storeId: string, journal: (step: AuditStep) => Promise<void>): Promise<boolean> {
    // A store another process disconnected may still have this process's re-login of a lost member under way, and this
    // process's sessions of it (not yet dropped by the watcher or the probe): logging in beside them would meet
    // CKR_USER_ALREADY_LOGGED_IN in the same member children.
    await readmitted(storeId);
    await drop(storeId);
    const logins = new Map<string, boolean>();
    const s = await state.read();
    const { store, cluster } = storeAndCluster(s, storeId);
    if (cluster === undefined) {
      await fail(storeId, new MemberFailure('-', 'CLUSTER_NOT_FOUND', `cluster ${store.CloudHsmClusterId} is not in the workbench`), logins);
      await journal({ name: 'ConnectionSettled', details: { connectionState: 'FAILED', connectionErrorCode: 'CLUSTER_NOT_FOUND' } });
      return false;
    }
    let held: MemberSession[] = [];
    let settled: Record<string, unknown> = { connectionState: 'CONNECTED' };
    try {
      const known = await passwords(store);
      const interrupted = store.Rotation;
      // Mid-rotation (a crash): each member has the password its journal entry says; SETTING may be either, the new one first.
      const candidates = (hsmId: string): readonly string[] => {
        if (interrupted === undefined || known.pending === undefined) return [known.current];
        const where = interrupted.Hsms[hsmId] ?? 'CURRENT';
        return where === 'PENDING' ? [known.pending] : where === 'SETTING' ? [known.pending, known.current] : [known.current];
      };
      await journal({ name: 'LoginKmsuser', details: { members: cluster.Hsms.length } });
      const login = await loginAll(cluster, candidates, logins);
      held = login.sessions;

      let next: string;
      if (interrupted !== undefined && known.pending !== undefined) {
        // Roll forward to the journal's pending password: it is already sealed and on some members.
        // Audited, so the log shows the recovery next to the interrupted connect (the state's LastRecovery keeps the message).
        await journal({ name: 'RecoverKmsuserPasswordRotation', details: { interruptedStep: interrupted.Step, startedAt: interrupted.StartedAt, hsms: interrupted.Hsms } });
        next = known.pending;
      } else {
        next = newKmsuserPassword(cluster, held);
        const sealed = await (await deps.vault()).seal(next, kmsuserPasswordContext(storeId));
        await journal({ name: 'SavePendingPassword' });
        // Before any HSM changes: the pending password is sealed in the state, so a crash from here on loses nothing.
        await record(storeId, logins, (st) => {
          st.Rotation = { StartedAt: new Date().toISOString(), Step: 'PENDING_SAVED', PendingPassword: sealed, Hsms: Object.fromEntries(cluster.Hsms.map((m) => [m.HsmId, 'CURRENT'])) };
        });
        logins.clear();
      }
      await rotate(storeId, cluster, held, login.has, next, journal);
      await journal({ name: 'CommitPassword' });
      await record(storeId, logins, (st) => {
        if (interrupted !== undefined && st.Rotation !== undefined) {
          const moved = Object.values(interrupted.Hsms).filter((v) => v !== 'CURRENT').length;
          st.LastRecovery = {
            RecoveredAt: new Date().toISOString(),
            Step: interrupted.Step,
            Message: `A kmsuser password rotation interrupted at step ${interrupted.Step} (started ${interrupted.StartedAt}) was finished: ${moved} of ${cluster.Hsms.length} HSMs had or may have had the new password; every HSM has it now.`,
          };
          logger.warn('recovered an interrupted kmsuser password rotation', { customKeyStoreId: storeId, step: interrupted.Step, message: st.LastRecovery.Message });
        }
        if (st.Rotation !== undefined) st.KmsuserPassword = st.Rotation.PendingPassword;
        delete st.Rotation;
        st.ConnectionState = 'CONNECTED';
        delete st.ConnectionErrorCode;
        delete st.MemberFailures;
        delete st.Owner;
      });
      hold(storeId, held);
    } catch (error) {
      await Promise.all(held.map((h) => letGo(h)));
      const failure = asMemberFailure('-', error);
      if (!(error instanceof MemberFailure)) logger.error('custom key store connect failed unexpectedly', { customKeyStoreId: storeId, detail: failure.detail });
      await fail(storeId, failure, logins);
      settled = { connectionState: 'FAILED', connectionErrorCode: failure.code, hsmId: failure.hsmId };
    }
    // The call's Completed record came when connect answered: this step closes the connection's journal, so a
    // journal without it in the audit log is a connect a kill -9 interrupted. Outside the try: the state is recorded either way.
    await journal({ name: 'ConnectionSettled', details: settled });
    return settled.connectionState === 'CONNECTED';
  }

  const ensuring = new Set<Promise<unknown>>();
  /** Tracked like a connect, so dispose() does not stop the hosts under a login (or an afterConnected run) in flight. */
  function tracked<T>(run: Promise<T>): Promise<T> {
    ensuring.add(run);
    void run.finally(() => ensuring.delete(run)).catch(() => undefined);
    return run;
  }

  /**
   * One ensureSessions per store at a time; callers meanwhile share it. Two logins side by side (the GUI's start-up
   * login and a due deletion, or a crypto call) meet CKR_USER_ALREADY_LOGGED_IN in the one host child, and the
   * loser would record the store FAILED (USER_LOGGED_IN) while the winner holds good sessions.
   */
  const ensuringFor = new Map<string, Promise<readonly MemberSession[]>>();
  /**
   * Per store: the probe's re-login of its lost members (readmit), beside ensuringFor rather than in it: a hung member's
   * login (up to PROBE_TIMEOUT_MS) must not hold up the calls the held members serve. A login of the whole store
   * (ensureSessions with none held, a connect) and release() wait for it, so none logs in beside it (CKR_USER_ALREADY_LOGGED_IN).
   */
  const readmitting = new Map<string, Promise<void>>();
  /** Waits for a re-login of the store's lost members under way; its failure is the probe's to log, not the waiter's. */
  const readmitted = async (storeId: string): Promise<void> => {
    await readmitting.get(storeId)?.catch(() => undefined);
  };

  function ensureSessions(storeId: string, current?: WorkbenchState): Promise<readonly MemberSession[]> {
    // Held sessions need no login: they answer at once, whatever login of the store runs beside them.
    if (sessions.has(storeId) && !running.has(storeId)) return heldSessions(storeId, current);
    const pending = ensuringFor.get(storeId);
    if (pending !== undefined) return pending;
    const run = tracked(ensureSessionsNow(storeId, current)).finally(() => ensuringFor.delete(storeId));
    ensuringFor.set(storeId, run);
    return run;
  }

  async function heldSessions(storeId: string, current: WorkbenchState | undefined): Promise<readonly MemberSession[]> {
    await dropStale(current);
    return sessions.get(storeId) ?? [];
  }

  async function ensureSessionsNow(storeId: string, current: WorkbenchState | undefined): Promise<readonly MemberSession[]> {
    const connecting = running.get(storeId);
    await connecting;
    // A connect that ran meanwhile changed the state: then the caller's copy is stale.
    await dropStale(connecting === undefined ? current : undefined);
    const existing = sessions.get(storeId);
    if (existing !== undefined) return existing;
    await readmitted(storeId);
    const s = await state.read();
    const { store, cluster } = storeAndCluster(s, storeId);
    if (store.ConnectionState !== 'CONNECTED') return [];
    const logins = new Map<string, boolean>();
    let held: MemberSession[] = [];
    try {
      if (cluster === undefined) throw new MemberFailure('-', 'CLUSTER_NOT_FOUND', `cluster ${store.CloudHsmClusterId} is not in the workbench`);
      const { current } = await passwords(store);
      // Any one member answering keeps the store working; the others are named, as a lost member is.
      const login = await loginAll(cluster, () => [current], logins, true);
      held = login.sessions;
      let fresh: MemberFailure[] = [];
      // CONNECTED is checked again where the sessions are recorded: another process may have disconnected the store during the login.
      const stillConnected = await record(storeId, logins, (st) => {
        if (st.ConnectionState !== 'CONNECTED') return false;
        fresh = login.unavailable.filter((f) => st.MemberFailures?.[f.hsmId] === undefined);
        withoutFailures(st, held.map((h) => h.hsmId));
        if (login.unavailable.length > 0) st.MemberFailures = { ...st.MemberFailures, ...Object.fromEntries(login.unavailable.map((f) => [f.hsmId, { ConnectionErrorCode: f.code, Detail: f.detail }])) };
        return true;
      });
      if (!stillConnected) {
        await Promise.all(held.map((h) => letGo(h)));
        return [];
      }
      hold(storeId, held);
      for (const failure of fresh) await auditMember(storeId, store, failure.hsmId, failure);
      return held;
    } catch (error) {
      // Sessions logged in before a failure (the state write) are let go: kmsuser must not stay logged in unrecorded.
      await Promise.all(held.map((h) => letGo(h)));
      await fail(storeId, asMemberFailure('-', error), logins, { onlyIfConnected: true });
      return [];
    }
  }

  /**
   * Asks each held session whether its HSM still answers (C_GetSessionInfo); one that does not is lost (the last one
   * fails the store). Then a lost member that answers again is logged in again.
   */
  async function probeStore(storeId: string): Promise<void> {
    for (const session of sessions.get(storeId) ?? []) {
      try {
        await session.host.getSessionInfo(session.ref, { timeoutMs: Math.min(timeoutMs, PROBE_TIMEOUT_MS) });
      } catch (error) {
        await lost(storeId, asMemberFailure(session.hsmId, error), false);
      }
    }
    // A login of the store already under way makes it wait for the next probe; a disposed manager logs in nowhere.
    if (disposed || ensuringFor.has(storeId) || readmitting.has(storeId)) return;
    const run = tracked(readmit(storeId)).finally(() => readmitting.delete(storeId));
    readmitting.set(storeId, run);
    await run;
  }

  /**
   * The GUI takes a lost member back without a reconnect: its kmsuser still has the store's current password (passwords
   * change only at connect, which needs every member), so a login that succeeds puts it back in turn. A member whose
   * login was refused (a wrong password, a locked or missing kmsuser) is not retried: every try would spend one of its
   * PIN attempts; that needs the admin, and a disconnect + connect.
   * MemberFailures is shared with later processes: one (a CLI run) may have named a member lost that this process holds,
   * and its probe has just heard it answer. Such a failure is cleared.
   */
  async function readmit(storeId: string): Promise<void> {
    if (!sessions.has(storeId)) return;
    const s = await state.read();
    const store = s.customKeyStores.find((k) => k.CustomKeyStoreId === storeId);
    const cluster = s.clusters.find((c) => c.ClusterId === store?.CloudHsmClusterId);
    if (store?.ConnectionState !== 'CONNECTED' || cluster === undefined) return;
    const held = new Set((sessions.get(storeId) ?? []).map((h) => h.hsmId));
    if ([...held].some((hsmId) => store.MemberFailures?.[hsmId] !== undefined)) {
      // The members held when the transaction runs: one lost meanwhile has just had its own failure recorded.
      await record(storeId, new Map(), (st) => {
        if (st.ConnectionState === 'CONNECTED') withoutFailures(st, (sessions.get(storeId) ?? []).map((h) => h.hsmId));
      });
    }
    const due = cluster.Hsms.filter((m) => {
      const failed = store.MemberFailures?.[m.HsmId];
      return !held.has(m.HsmId) && !(failed !== undefined && REFUSALS.has(failed.ConnectionErrorCode)) && (nextReadmit.get(`${storeId}/${m.HsmId}`) ?? 0) <= Date.now();
    });
    if (due.length === 0) return;
    const { current } = await passwords(store);
    for (const member of due) {
      nextReadmit.set(`${storeId}/${member.HsmId}`, Date.now() + readmitIntervalMs);
      let session: MemberSession;
      try {
        session = await loginOf(cluster, member, current, Math.min(timeoutMs, PROBE_TIMEOUT_MS));
      } catch (error) {
        const failure = asMemberFailure(member.HsmId, error);
        // Recorded, so it is not tried again; an unavailable member keeps the reason it was lost for.
        if (REFUSALS.has(failure.code)) await memberRefused(storeId, failure);
        continue;
      }
      // CONNECTED is checked again where the member is recorded back: another process may have disconnected the store during the login.
      let back: boolean;
      try {
        back = await record(storeId, new Map([[member.HsmId, true]]), (st) => {
          if (st.ConnectionState !== 'CONNECTED') return false;
          withoutFailures(st, [member.HsmId]);
          return true;
        });
      } catch (error) {
        // Not recorded, so not held: its kmsuser must not stay logged in (the next re-login would meet USER_LOGGED_IN).
        await letGo(session);
        throw error;
      }
      const now = sessions.get(storeId);
      if (!back || now === undefined || disposed) {
        await letGo(session);
        return;
      }
      sessions.set(storeId, [...now, session]);
      follow(storeId, session);
      nextReadmit.delete(`${storeId}/${member.HsmId}`);
      await auditMember(storeId, store, member.HsmId);
    }
  }

  async function memberRefused(storeId: string, failure: MemberFailure): Promise<void> {
    const logins = new Map<string, boolean>();
    noteFailedLogin(logins, failure);
    await record(storeId, logins, (st) => {
      if (st.ConnectionState === 'CONNECTED') st.MemberFailures = { ...(st.MemberFailures ?? {}), [failure.hsmId]: { ConnectionErrorCode: failure.code, Detail: failure.detail } };
    });
  }

  /**
   * Logs out of the stores another process disconnected (or failed) since this one connected them: sessions held
   * for a store the state no longer calls CONNECTED would keep kmsuser logged in for nothing.
   */
  async function dropStale(current?: WorkbenchState): Promise<void> {
    if (sessions.size === 0) return;
    const s = current ?? (await state.read());
    for (const storeId of [...sessions.keys()]) {
      const store = s.customKeyStores.find((k) => k.CustomKeyStoreId === storeId);
      // A connect under way drops this process's old sessions itself, before it logs in; a drop now could take its new ones.
      if (store?.ConnectionState !== 'CONNECTED' && !running.has(storeId)) await drop(storeId);
    }
  }

  async function probe(): Promise<void> {
    await dropStale();
    for (const storeId of [...sessions.keys()]) {
      // One store's failure (its vault locked for a re-login) must not stop the health check of the others.
      await probeStore(storeId).catch((error: unknown) => logger.error('the health probe of a key store failed', { customKeyStoreId: storeId, error: String(error) }));
    }
  }

  let probing = false;
  const timer =
    deps.healthProbeMs === undefined
      ? undefined
      : setInterval(() => {
          if (probing) return;
          probing = true;
          probe()
            .catch((error: unknown) => logger.error('health probe failed', { error: String(error) }))
            .finally(() => {
              probing = false;
            });
        }, deps.healthProbeMs);
  timer?.unref();
  // The GUI hears of another process's disconnect when the state file changes, not only at the next probe.
  const stopWatching =
    deps.healthProbeMs === undefined
      ? undefined
      : state.onExternalChange(() => void dropStale().catch((error: unknown) => logger.error('could not release the sessions of a store disconnected elsewhere', { error: String(error) })));

  return {
    startConnect(storeId, journal) {
      inFlight.add(storeId);
      const run = connect(storeId, journal)
        .catch((error: unknown) => {
          logger.error('custom key store connect could not record its outcome', { customKeyStoreId: storeId, error: String(error) });
          return false;
        })
        .finally(() => {
          inFlight.delete(storeId);
          running.delete(storeId);
        });
      running.set(storeId, run);
      const after = deps.afterConnected;
      // Run once the connect is no longer running (the hook's own ensureSessions waits for a running connect of the
      // store), but tracked from now: a dispose() between the connect settling and the hook starting waits for it too.
      if (after !== undefined) {
        void tracked(run.then(async (connected) => (connected ? after(storeId) : undefined))).catch((error: unknown) => logger.error('the work after a connect failed', { customKeyStoreId: storeId, error: String(error) }));
      }
    },
    async release(storeId) {
      await running.get(storeId);
      // A login in flight (the GUI's start-up login, a crypto call's, a lost member's) would otherwise hold sessions after
      // the drop, and the next connect would meet its kmsuser login (CKR_USER_ALREADY_LOGGED_IN). Its failure (the state
      // lock, the vault) is its own to report: the disconnect goes on.
      await ensuringFor.get(storeId)?.catch(() => undefined);
      await readmitted(storeId);
      await drop(storeId);
    },
    ensureSessions,
    held: (storeId) => new Set((sessions.get(storeId) ?? []).map((s) => s.hsmId)),
    inFlight,
    async dispose() {
      if (disposed) return;
      disposed = true;
      if (timer !== undefined) clearInterval(timer);
      stopWatching?.();
      await Promise.all(running.values());
      await Promise.allSettled(ensuring);
      await Promise.all([...sessions.keys()].map((id) => drop(id)));
    },
  };
}
