import type { SlotInfo } from '../../shared/contract/hsm';
import { KMSUSER_PIN_FLAGS, type DescribeKmsuserResponse, type KmsuserHsmResult, type KmsuserHsmStatus, type KmsuserPasswordResponse } from '../../shared/contract/kmsuser';
import { WorkbenchError } from '../../shared/errors';
import { isCrash, isUnreachable } from '../clusters/check-result';
import { clusterNotFound } from '../clusters/cluster-service';
import { locateMembers, type MemberSlot } from '../clusters/member-session';
import { describeMember, findMemberSlot } from '../clusters/member-tokens';
import type { AuditStep } from '../core/dispatcher';
import type { HsmHost, HsmHostPool } from '../hsm/hsm-host';
import type { ClusterRecord, HsmMemberRecord } from '../state/records';
import type { StateStore } from '../state/state-store';
import { refuseWhileKeyStoreConnected } from './key-store-state';
import { kmsuserPin } from './kmsuser-pin';
import { noteKmsuserLogin, noteKmsuserRotation } from './ledger';

export interface KmsuserCallContext {
  signal: AbortSignal;
  journal(step: AuditStep): Promise<void>;
}

export interface KmsuserService {
  /** Creates kmsuser on every member (none may have one yet). Secret: `soPin` and `password`. */
  create(request: { ClusterId: string; SoPin: string; KmsuserPassword: string }, context: KmsuserCallContext): Promise<KmsuserPasswordResponse>;
  /** Sets a new kmsuser password on every member as the SO, whatever the current one is. Secret: `soPin` and `password`. */
  changePassword(request: { ClusterId: string; SoPin: string; NewKmsuserPassword: string }, context: KmsuserCallContext): Promise<KmsuserPasswordResponse>;
  /** Reads every member's kmsuser state without logging in, with the ledger. */
  describe(clusterId: string): Promise<DescribeKmsuserResponse>;
  /** Writes kmsuser logins another flow made (the cluster check's login test) into the ledger, in one state change. */
  noteLogins(clusterId: string, logins: readonly KmsuserLogin[]): Promise<void>;
}

export interface KmsuserLogin {
  hsmId: string;
  accepted: boolean;
  at: Date;
}

/** The two flows differ only in what they expect of the members and how they say what they did. */
interface PasswordFlow {
  operation: 'CreateKmsuser' | 'ChangeKmsuserPassword';
  /** What the HSMs not changed still have. */
  unchanged: string;
  /** What to do after a failure part-way. */
  remedy: string;
}

const CREATE: PasswordFlow = {
  operation: 'CreateKmsuser',
  unchanged: 'still have no kmsuser',
  remedy:
    'PKCS#11 cannot remove a user PIN once set, so nothing was rolled back. Fix the cause, then run kmsuser change-password with the password you want: it sets one password on every HSM.',
};

const CHANGE: PasswordFlow = {
  operation: 'ChangeKmsuserPassword',
  unchanged: 'keep the previous password',
  remedy:
    'Nothing was rolled back: C_InitPIN cannot restore a password, and this command never reads the previous one (a key store using the cluster keeps its own copy sealed in the secret store). Fix the cause, then run kmsuser change-password again: it sets one password on every HSM.',
};

function memberResult(member: HsmMemberRecord, outcome: KmsuserHsmResult['Outcome']): KmsuserHsmResult {
  return { HsmId: member.HsmId, TokenSerial: member.TokenSerial, TokenLabel: member.TokenLabel, Outcome: outcome };
}

function named(member: HsmMemberRecord): string {
  return `HSM ${member.HsmId} (${describeMember(member)})`;
}

/** A failure on one member, named; the HSM's own error name and CKR code are kept, so the cause stays machine-readable. */
function memberFailure(member: HsmMemberRecord, error: unknown, what: string, extra: Record<string, unknown> = {}): WorkbenchError {
  if (!(error instanceof WorkbenchError)) throw error;
  return new WorkbenchError(error.name, `${named(member)}: ${what}: ${error.message}`, {
    code: error.code,
    details: { HsmId: member.HsmId, ...extra },
    cause: error,
  });
}

export function createKmsuserService(deps: { state: StateStore; hosts: HsmHostPool }): KmsuserService {
  const { state, hosts } = deps;

  async function clusterRecord(clusterId: string): Promise<{ cluster: ClusterRecord; keyStores: Awaited<ReturnType<StateStore['read']>>['customKeyStores'] }> {
    const { clusters, customKeyStores } = await state.read();
    const cluster = clusters.find((c) => c.ClusterId === clusterId);
    if (!cluster) throw clusterNotFound(clusterId);
    return { cluster, keyStores: customKeyStores };
  }

  /**
   * The SO PIN, tried on each member before any change: an SO login and logout spends none of kmsuser's tries.
   * Stops at the first refusal, so a wrong PIN spends one SO try, not one on every HSM.
   */
  async function checkSoPin(host: HsmHost, members: readonly MemberSlot[], soPin: string, signal: AbortSignal, operation: string): Promise<void> {
    for (const [index, { member, slotId }] of members.entries()) {
      let session: string | undefined;
      try {
        session = await host.openSession(slotId, { readWrite: true }, { signal });
        await host.login(session, 'SO', soPin, { signal });
        await host.logout(session, { signal });
      } catch (error) {
        const notAsked = members.slice(index + 1).map((m) => m.member.HsmId);
        const refused = error instanceof WorkbenchError && (error.code === 'CKR_PIN_INCORRECT' || error.code === 'CKR_PIN_LEN_RANGE');
        throw memberFailure(
          member,
          error,
          `${refused ? 'refused the SO PIN' : 'the SO PIN could not be checked'}. ${operation} was refused and nothing was changed on any HSM${notAsked.length ? ` (not asked: ${notAsked.join(', ')})` : ''}`,
          { NotAsked: notAsked },
        );
      } finally {
        if (session !== undefined) await host.closeSession(session).catch(() => undefined);
      }
    }
  }

  async function noteRotation(clusterId: string, hsmId: string): Promise<void> {
    await state.transact((draft) => {
      const member = draft.clusters.find((c) => c.ClusterId === clusterId)?.Hsms.find((h) => h.HsmId === hsmId);
      if (member) noteKmsuserRotation(member);
    });
  }

  /**
   * C_InitPIN as SO on every member, after every member was checked. Each HSM's step is journalled before it is
   * taken and after it is done, and its ledger entry written with it, so after a kill -9 the audit log says
   * which HSMs have the new password.
   */
  async function setPasswordEverywhere(flow: PasswordFlow, clusterId: string, soPin: string, password: string, context: KmsuserCallContext, expect?: (members: readonly MemberSlot[], cluster: ClusterRecord) => void): Promise<KmsuserPasswordResponse> {
    const { cluster, keyStores } = await clusterRecord(clusterId);
    refuseWhileKeyStoreConnected(keyStores, clusterId, flow.operation);
    const host = hosts.get({ ModulePath: cluster.ModulePath, ModuleEnvironment: cluster.ModuleEnvironment });
    const members = await locateMembers(host, cluster.Hsms, { operation: flow.operation, clusterId, signal: context.signal });
    expect?.(members, cluster);
    await checkSoPin(host, members, soPin, context.signal, flow.operation);

    const pin = kmsuserPin(cluster.LoginFormat, password);
    const results = members.map(({ member }) => memberResult(member, 'NOT_CHANGED'));
    for (const [index, { member, slotId }] of members.entries()) {
      const step = { hsmId: member.HsmId, details: { ClusterId: clusterId, TokenSerial: member.TokenSerial } };
      await context.journal({ name: 'SetKmsuserPassword', ...step });
      try {
        await host.initUserPin(slotId, soPin, pin, { signal: context.signal });
      } catch (error) {
        // A silent HSM or a host that died mid-call may or may not have applied its C_InitPIN: only a login can tell.
        results[index] = memberResult(member, isUnreachable(error) || isCrash(error) ? 'UNKNOWN' : 'NOT_CHANGED');
        throw partFailure(flow, member, error, results);
      }
      results[index] = memberResult(member, 'CHANGED');
      await noteRotation(clusterId, member.HsmId);
      await context.journal({ name: 'KmsuserPasswordSet', ...step });
    }
    return { ClusterId: clusterId, Hsms: results, CustomKeyStoreId: keyStores.find((k) => k.CloudHsmClusterId === clusterId)?.CustomKeyStoreId ?? null };
  }

  function partFailure(flow: PasswordFlow, member: HsmMemberRecord, error: unknown, results: readonly KmsuserHsmResult[]): WorkbenchError {
    const list = (outcome: KmsuserHsmResult['Outcome']): string => results.filter((r) => r.Outcome === outcome).map((r) => r.HsmId).join(', ');
    const changed = list('CHANGED');
    const unknown = list('UNKNOWN');
    const unchanged = list('NOT_CHANGED');
    const summary = [
      changed && `HSMs with the new password: ${changed}`,
      unknown && `not known (the HSM or its host stopped answering during the change): ${unknown}`,
      unchanged && `HSMs that ${flow.unchanged}: ${unchanged}`,
    ].filter(Boolean);
    const failure = memberFailure(member, error, `${flow.operation} failed part-way. ${summary.join('; ')}. ${flow.remedy} Cause`, { Hsms: results });
    return failure;
  }

  return {
    create: (request, context) =>
      setPasswordEverywhere(CREATE, request.ClusterId, request.SoPin, request.KmsuserPassword, context, (members, cluster) => {
        const existing = members.filter((m) => m.flags.has('CKF_USER_PIN_INITIALIZED')).map((m) => m.member.HsmId);
        if (existing.length === 0) return;
        throw new WorkbenchError(
          'KmsuserAlreadyExistsException',
          `kmsuser already exists on ${existing.join(', ')} of cluster ${cluster.ClusterId}. Nothing was changed. To set one password on every HSM, run hsm-workbench kmsuser change-password ${cluster.ClusterId}.`,
          { details: { ClusterId: cluster.ClusterId, HsmIds: existing } },
        );
      }),

    changePassword: (request, context) => setPasswordEverywhere(CHANGE, request.ClusterId, request.SoPin, request.NewKmsuserPassword, context),

    async noteLogins(clusterId, logins) {
      if (logins.length === 0) return;
      await state.transact((draft) => {
        // A cluster deleted meanwhile has no ledger to write to.
        const members = draft.clusters.find((c) => c.ClusterId === clusterId)?.Hsms ?? [];
        for (const login of logins) {
          const member = members.find((h) => h.HsmId === login.hsmId);
          if (member) noteKmsuserLogin(member, login.accepted, login.at);
        }
      });
    },

    async describe(clusterId) {
      const { cluster } = await clusterRecord(clusterId);
      const host = hosts.get({ ModulePath: cluster.ModulePath, ModuleEnvironment: cluster.ModuleEnvironment });
      let slots: SlotInfo[] | WorkbenchError;
      try {
        slots = await host.listSlots();
        if (slots.length === 0) host.retire();
      } catch (error) {
        if (!(error instanceof WorkbenchError)) throw error;
        slots = error;
      }
      const listed = slots;
      const Hsms = cluster.Hsms.map((member): KmsuserHsmStatus => {
        const ledger = member.Kmsuser ?? {};
        const base = {
          HsmId: member.HsmId,
          TokenSerial: member.TokenSerial,
          TokenLabel: member.TokenLabel,
          LastSuccessfulLogin: ledger.LastSuccessfulLogin ?? null,
          LastRotation: ledger.LastRotation ?? null,
          FailedLoginsCaused: ledger.FailedLoginsCaused ?? 0,
          LastFailedLogin: ledger.LastFailedLogin ?? null,
        };
        const unreachable = (problem: string): KmsuserHsmStatus => ({ ...base, Reachable: false, Problem: problem, KmsuserPresent: null, PinFlags: [] });
        if (listed instanceof WorkbenchError) return unreachable(`${listed.name}${listed.code ? ` (${listed.code})` : ''}: ${listed.message}`);
        const slot = findMemberSlot(listed, member);
        if (slot === 'ambiguous') return unreachable('More than one token matches this HSM.');
        if (slot === undefined || slot.Token === null) return unreachable(`Its token is not present in ${cluster.ModulePath}.`);
        const flags = slot.Token.Flags;
        return { ...base, Reachable: true, Problem: null, KmsuserPresent: flags.includes('CKF_USER_PIN_INITIALIZED'), PinFlags: KMSUSER_PIN_FLAGS.filter((f) => flags.includes(f)) };
      });
      return { ClusterId: cluster.ClusterId, ClusterName: cluster.ClusterName, Hsms };
    },
  };
}
