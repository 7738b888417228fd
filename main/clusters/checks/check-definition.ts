import type { CheckStatus, ConnectionErrorCode } from '../../../shared/contract/checks';
import type { ClusterInfo, HsmMember } from '../../../shared/contract/clusters';
import type { SlotInfo, TokenInfo } from '../../../shared/contract/hsm';
import type { CallTimeout, HsmHost } from '../../hsm/hsm-host';
import { NETWORK_REMEDY, errorEvidence } from '../check-result';

/**
 * What a check looks at: the cluster's module (once), each member HSM (once per member, in member order),
 * or the cluster as a whole. The runner runs the scopes in that order, each scope's checks in registry order.
 */
export type CheckScope = 'module' | 'member' | 'cluster';

/** What a check saw and what it means. The runner adds the check's id and title, and the HSM it was about. */
export interface CheckOutcome {
  status: CheckStatus;
  /** What the check saw, in plain words (values, flags, counts). Never a secret. */
  evidence: string[];
  /** What to do about a warn or fail. */
  remedy?: string;
  /** The ConnectionErrorCode a key store connection would report because of this. */
  predicted?: ConnectionErrorCode | null;
  /** The checks after this one in its scope cannot run: each is reported skipped, with this as its evidence. */
  skipRest?: string;
}

export interface ModuleOutcome extends CheckOutcome {
  /** The slots the module lists (module.slots): the member checks look for their tokens among them. */
  slots?: readonly SlotInfo[];
}

/** A member's token as hsm.token-present found it: present and initialised. */
export interface MemberToken {
  slot: SlotInfo;
  token: TokenInfo;
  flags: ReadonlySet<string>;
}

/**
 * An HSM is active when it is present, initialised, reachable and its kmsuser can (as far as the checks can
 * tell) log in. A failed check alone does not make it inactive (missing mechanisms do not stop a connection),
 * so a check says so with `inactive`; an HSM whose checks stop early (`skipRest`) is never active.
 */
export interface MemberOutcome extends CheckOutcome {
  /** hsm.token-present: the member's token, for the checks after it. */
  token?: MemberToken;
  inactive?: boolean;
  /** The module stopped answering: the later HSMs are skipped, and the module is restarted before the next run. */
  unreachable?: boolean;
  /** This HSM refused the kmsuser password: no other HSM spends a login try on it. */
  refusedPassword?: boolean;
  /** A kmsuser C_Login was made: whether the token accepted it, for the kmsuser ledger. */
  kmsuserLogin?: { accepted: boolean };
}

/** What every check may use. */
export interface CheckContext {
  readonly cluster: ClusterInfo;
  /** Every cluster in the state, so a token that is also another cluster's HSM is reported. */
  readonly clusters: readonly ClusterInfo[];
  /** The cluster's module, loaded in its own HSM host child. */
  readonly host: HsmHost;
  /** For every host call: a silent HSM is reported as NETWORK_ERRORS after this long. */
  readonly timeout: CallTimeout;
  /** Secret: used for one C_Login per member, then dropped. Never stored, logged or reported. */
  readonly kmsuserPassword?: string;
  /** The first HSM that refused the kmsuser password in this run, if any. */
  readonly passwordRefusedBy: string | null;
}

export interface MemberContext extends CheckContext {
  readonly member: HsmMember;
  /** The module's slots, as module.slots listed them. */
  readonly slots: readonly SlotInfo[];
  /** The member's token once hsm.token-present (the first member check) has found it; read it with memberToken(). */
  readonly token: MemberToken | undefined;
}

export interface ClusterContext extends CheckContext {
  /** How many member HSMs the member checks found active. */
  readonly activeHsmCount: number;
}

/** One check: registered once (checks/index.ts), run by the runner (cluster-checks.ts) for its scope. */
export interface ScopedCheck<Scope extends CheckScope, Context, Outcome extends CheckOutcome> {
  /** Stable id, e.g. `hsm.token-present`: reports, remedies and tests refer to a check by it. */
  readonly id: string;
  readonly title: string;
  readonly scope: Scope;
  run(ctx: Context): Outcome | Promise<Outcome>;
}

export type ModuleCheck = ScopedCheck<'module', CheckContext, ModuleOutcome>;
export type MemberCheck = ScopedCheck<'member', MemberContext, MemberOutcome>;
export type ClusterCheck = ScopedCheck<'cluster', ClusterContext, CheckOutcome>;
export type CheckDefinition = ModuleCheck | MemberCheck | ClusterCheck;

/** The evidence of a check that was not run. */
export function skippedBecause(reason: string): string {
  return `Skipped: ${reason}.`;
}

/**
 * The member's token, for the member checks after hsm.token-present: that check ends the member's checks
 * when there is no usable token, so the others only ever run with one.
 */
export function memberToken(ctx: MemberContext): MemberToken {
  if (ctx.token === undefined) throw new Error(`member check for ${ctx.member.HsmId} ran before hsm.token-present found its token: it must be the first member check`);
  return ctx.token;
}

/** A call found the HSM silent: this check fails as a network error, and the HSM's remaining checks are skipped. */
export function stoppedAnswering(error: unknown): MemberOutcome {
  return {
    status: 'fail',
    evidence: [errorEvidence(error)],
    predicted: 'NETWORK_ERRORS',
    remedy: NETWORK_REMEDY,
    skipRest: skippedBecause('the HSM stopped answering'),
    unreachable: true,
  };
}
