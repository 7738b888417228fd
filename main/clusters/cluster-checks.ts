import type { CheckClusterProgress, CheckResult, ClusterCheckReport, ConnectionErrorCode } from '../../shared/contract/checks';
import { tokenSerialKey, type ClusterInfo, type HsmMember } from '../../shared/contract/clusters';
import type { MechanismInfo, SlotInfo, TokenInfo } from '../../shared/contract/hsm';
import { WorkbenchError } from '../../shared/errors';
import { throwIfCancelled } from '../core/dispatcher';
import { DEFAULT_HSM_TIMEOUT_MS, type HsmHost, type HsmHostPool } from '../hsm/hsm-host';
import { NETWORK_REMEDY, NO_SLOTS, errorEvidence, failureVerdict, isUnreachable, result } from './check-result';
import { findMemberSlot, membersInOtherClusters } from './member-tokens';

export interface ClusterCheckOptions {
  /** Secret: used for one C_Login per member, then dropped. Never stored, logged or reported. */
  kmsuserPassword?: string;
  signal: AbortSignal;
  onProgress(progress: CheckClusterProgress): void;
  /** Per-call limit before a silent HSM is reported as NETWORK_ERRORS. */
  timeoutMs?: number;
  /** Every cluster in the state, so a token that is also another cluster's HSM is reported. */
  clusters: readonly ClusterInfo[];
}

const CLUSTER_WIDE_CHECKS = 4;

/** An HSM is active when it is present, initialised, reachable and its kmsuser can (as far as we can tell) log in. */
interface MemberOutcome {
  active: boolean;
}

/**
 * Runs the pre-flight checks of a cluster in a fixed order: the module, then each member HSM,
 * then the cluster as a whole. Each check says what it saw, and for a warning or failure what to do
 * and which ConnectionErrorCode a key store connection would report.
 */
export async function runClusterChecks(cluster: ClusterInfo, hosts: HsmHostPool, options: ClusterCheckOptions): Promise<ClusterCheckReport> {
  const startedAt = new Date().toISOString();
  const checks: CheckResult[] = [];
  const timeout = { timeoutMs: options.timeoutMs ?? DEFAULT_HSM_TIMEOUT_MS };
  let total = 2 + cluster.Hsms.length * MEMBER_CHECK_TITLES.length + CLUSTER_WIDE_CHECKS;

  const report = (check: CheckResult): void => {
    checks.push(check);
    total = Math.max(total, checks.length);
    options.onProgress({ Completed: checks.length, Total: total, Check: check });
  };
  const step = (): void => throwIfCancelled(options.signal, 'The cluster checks');

  const host = hosts.get({ ModulePath: cluster.ModulePath, ModuleEnvironment: cluster.ModuleEnvironment });
  const slots = await checkModule(cluster, host, timeout, report);
  step();

  const outcomes: MemberOutcome[] = [];
  const logins = { refusedBy: null as string | null };
  let unreachable = slots === undefined;
  for (const member of cluster.Hsms) {
    if (unreachable) {
      skipMember(member, 'the module checks (module.*) failed, or the module stopped answering', report);
      outcomes.push({ active: false });
      continue;
    }
    const outcome = await checkMember(cluster, member, slots ?? [], host, { ...options, timeout, report, step, logins });
    unreachable = outcome.unreachable;
    outcomes.push(outcome);
    step();
  }

  // The host retires a child after CKR_DEVICE_ERROR by itself, but a module that answers with no slots
  // (p11-kit's client loaded while its server was down) or timed out must also be re-initialised next run.
  if (unreachable) await host.dispose();

  checkMemberDistinctness(cluster, report);
  checkMembersExclusive(cluster, options.clusters, report);
  checkActiveHsms(outcomes.filter((o) => o.active).length, cluster.Hsms.length, logins.refusedBy !== null, report);
  checkKeyStoreAssociation(cluster, report);

  const summary = { Pass: 0, Warn: 0, Fail: 0, Skipped: 0 };
  for (const c of checks) {
    if (c.Status === 'pass') summary.Pass += 1;
    else if (c.Status === 'warn') summary.Warn += 1;
    else if (c.Status === 'fail') summary.Fail += 1;
    else summary.Skipped += 1;
  }
  return {
    ClusterId: cluster.ClusterId,
    ClusterName: cluster.ClusterName,
    StartedAt: startedAt,
    CompletedAt: new Date().toISOString(),
    Checks: checks,
    Summary: summary,
    ActiveHsmCount: outcomes.filter((o) => o.active).length,
    Passed: summary.Fail === 0,
  };
}

type Report = (check: CheckResult) => void;

async function checkModule(cluster: ClusterInfo, host: HsmHost, timeout: { timeoutMs: number }, report: Report): Promise<SlotInfo[] | undefined> {
  try {
    const info = await host.getModuleInfo(timeout);
    report(
      result('module.loads', 'PKCS#11 module loads', 'pass', {
        evidence: [`${cluster.ModulePath}`, `Library: ${info.LibraryDescription} ${info.LibraryVersion} by ${info.ManufacturerId}`, `Cryptoki ${info.CryptokiVersion}`],
      }),
    );
  } catch (error) {
    report(
      result('module.loads', 'PKCS#11 module loads', 'fail', {
        evidence: [cluster.ModulePath, errorEvidence(error)],
        ...failureVerdict(error, {
          predicted: 'CLUSTER_NOT_FOUND',
          remedy:
            'The workbench cannot use this PKCS#11 library, so it cannot find the cluster. Check the module path (it must be the vendor\'s PKCS#11 shared library, e.g. /usr/lib/softhsm/libsofthsm2.so) and the module environment (e.g. SOFTHSM2_CONF), then re-run the checks.',
        }),
      }),
    );
    report(result('module.slots', 'Slots and tokens can be listed', 'skipped', { evidence: ['The module did not load.'] }));
    return undefined;
  }
  try {
    const slots = await host.listSlots(timeout);
    if (slots.length === 0) {
      report(
        result('module.slots', 'Slots and tokens can be listed', 'fail', {
          evidence: [NO_SLOTS.evidence],
          predicted: 'NETWORK_ERRORS',
          remedy: `${NETWORK_REMEDY} ${NO_SLOTS.cause}`,
        }),
      );
      return undefined;
    }
    const tokens = slots.filter((s) => s.Token !== null);
    // SoftHSM always offers one empty slot for the next token: list only what can be a member.
    const initialised = tokens.filter((s) => s.Token?.Flags.includes('CKF_TOKEN_INITIALIZED'));
    report(
      result('module.slots', 'Slots and tokens can be listed', 'pass', {
        evidence: [
          `${slots.length} slot(s), ${tokens.length} with a token present, ${initialised.length} of them initialised`,
          ...initialised.map((s) => `Slot ${s.SlotId}: "${s.Token?.Label ?? ''}" serial ${s.Token?.SerialNumber ?? ''}`),
        ],
      }),
    );
    return slots;
  } catch (error) {
    report(
      result('module.slots', 'Slots and tokens can be listed', 'fail', {
        evidence: [errorEvidence(error)],
        ...failureVerdict(error, { predicted: 'CLUSTER_NOT_FOUND', remedy: 'The module loaded but could not list its slots. Check the module environment and the vendor\'s client configuration.' }),
      }),
    );
    return undefined;
  }
}

const MEMBER_CHECK_TITLES: ReadonlyArray<[string, string]> = [
  ['hsm.token-present', 'HSM token is present and initialised'],
  ['hsm.kmsuser-initialized', 'kmsuser (user PIN) is initialised'],
  ['hsm.pin-flags', 'PIN state allows kmsuser to log in'],
  ['hsm.mechanisms', 'Mechanisms for CMK key material are supported'],
  ['hsm.rw-session', 'A read-write session can be opened'],
  ['hsm.kmsuser-login', 'kmsuser can log in'],
];

function skipMember(member: HsmMember, reason: string, report: Report, from = 0): void {
  for (const [id, title] of MEMBER_CHECK_TITLES.slice(from)) report(result(id, title, 'skipped', { hsmId: member.HsmId, evidence: [`Skipped: ${reason}.`] }));
}

function describeMember(member: HsmMember): string {
  return member.TokenSerial !== null ? `serial ${member.TokenSerial}${member.TokenLabel ? ` ("${member.TokenLabel}")` : ''}` : `label "${member.TokenLabel ?? ''}"`;
}

interface MemberContext extends ClusterCheckOptions {
  timeout: { timeoutMs: number };
  /** Shared across members: the first HSM that refused the password, if any. */
  logins: { refusedBy: string | null };
  report: Report;
  step: () => void;
}

async function checkMember(
  cluster: ClusterInfo,
  member: HsmMember,
  slots: SlotInfo[],
  host: HsmHost,
  ctx: MemberContext,
): Promise<MemberOutcome & { unreachable: boolean }> {
  const { report, timeout } = ctx;
  const hsmId = member.HsmId;
  const found = findMemberSlot(slots, member);
  const slot = found === 'ambiguous' ? undefined : found;
  const token = slot?.Token ?? null;

  // 1. present and initialised
  if (!slot || !token) {
    report(
      result('hsm.token-present', 'HSM token is present and initialised', 'fail', {
        hsmId,
        evidence: [
          found === 'ambiguous' ? `More than one token has ${describeMember(member)}.` : `No token with ${describeMember(member)} among the ${slots.length} slot(s) of the module.`,
        ],
        remedy:
          'This HSM is not active. Reconnect or restore the token (for SoftHSM: its directory under the configured tokendir), check the module environment points at the right configuration, or remove the HSM from the cluster.',
      }),
    );
    skipMember(member, 'the token is not present', report, 1);
    return { active: false, unreachable: false };
  }
  const flags = new Set(token.Flags);
  if (!flags.has('CKF_TOKEN_INITIALIZED')) {
    report(
      result('hsm.token-present', 'HSM token is present and initialised', 'fail', {
        hsmId,
        evidence: [`Slot ${slot.SlotId} holds a token without CKF_TOKEN_INITIALIZED.`],
        remedy: 'Initialise the token (C_InitToken, e.g. `softhsm2-util --init-token` or the vendor\'s tool), then set up kmsuser on it.',
      }),
    );
    skipMember(member, 'the token is not initialised', report, 1);
    return { active: false, unreachable: false };
  }
  report(
    result('hsm.token-present', 'HSM token is present and initialised', 'pass', {
      hsmId,
      evidence: [`Slot ${slot.SlotId}: "${token.Label}" serial ${token.SerialNumber}, ${token.ManufacturerId} ${token.Model}, firmware ${token.FirmwareVersion}`],
    }),
  );

  // 2. kmsuser exists
  let usable = flags.has('CKF_USER_PIN_INITIALIZED');
  report(
    usable
      ? result('hsm.kmsuser-initialized', 'kmsuser (user PIN) is initialised', 'pass', { hsmId, evidence: ['CKF_USER_PIN_INITIALIZED is set.'] })
      : result('hsm.kmsuser-initialized', 'kmsuser (user PIN) is initialised', 'fail', {
          hsmId,
          evidence: ['CKF_USER_PIN_INITIALIZED is not set: the token has no user (kmsuser) PIN.'],
          predicted: 'USER_NOT_FOUND',
          remedy: 'Create the kmsuser crypto user: the token\'s security officer sets the user PIN (C_InitPIN, e.g. `pkcs11-tool --init-pin --login --login-type so`, or the kmsuser setup wizard).',
        }),
  );

  // 3. PIN flags
  const pinCheck = checkPinFlags(hsmId, flags);
  usable &&= pinCheck.Status !== 'fail';
  report(pinCheck);
  ctx.step();

  // 4. mechanisms
  try {
    report(checkMechanisms(hsmId, await host.getMechanisms(slot.SlotId, timeout)));
  } catch (error) {
    return failUnreachableOrContinue(member, error, 3, report);
  }
  ctx.step();

  // 5. RW session
  try {
    const session = await host.openSession(slot.SlotId, { readWrite: true }, timeout);
    await host.closeSession(session, timeout);
    report(result('hsm.rw-session', 'A read-write session can be opened', 'pass', { hsmId, evidence: [sessionEvidence(token)] }));
  } catch (error) {
    if (isUnreachable(error)) return failUnreachable(member, error, 4, report);
    usable = false;
    report(
      result('hsm.rw-session', 'A read-write session can be opened', 'fail', {
        hsmId,
        evidence: [sessionEvidence(token), errorEvidence(error)],
        ...failureVerdict(error, {
          predicted: 'INTERNAL_ERROR',
          remedy: 'Key material is created in read-write sessions. Close other applications holding sessions on this token, or check that the token is not write-protected.',
        }),
      }),
    );
  }
  ctx.step();

  // 6. optional login test
  const password = ctx.kmsuserPassword;
  const blocker = password === undefined ? 'No kmsuser password was given, so no login was attempted.' : loginAttemptBlocker(flags, ctx.logins.refusedBy);
  if (blocker !== undefined) {
    // Not asked because another HSM refused the password: the password is wrong, so this HSM cannot count as active.
    if (ctx.logins.refusedBy !== null) usable = false;
    report(result('hsm.kmsuser-login', 'kmsuser can log in', 'skipped', { hsmId, evidence: [blocker] }));
  } else if (password !== undefined) {
    const login = await checkLogin(cluster, hsmId, slot.SlotId, host, password, timeout);
    if (login.unreachable) return failUnreachable(member, login.error, 5, report);
    if (login.check.PredictedConnectionErrorCode === 'INVALID_CREDENTIALS') ctx.logins.refusedBy = hsmId;
    usable &&= login.check.Status !== 'fail';
    report(login.check);
  }
  return { active: usable, unreachable: false };
}

/**
 * Why a login test must not be attempted on this HSM, if it must not. A test login is not free: each
 * wrong password spends one of kmsuser's tries, so the checks never spend the last one, and once one
 * HSM has refused the password they do not spend a try on every other HSM with the same password.
 */
export function loginAttemptBlocker(tokenFlags: ReadonlySet<string>, refusedBy: string | null): string | undefined {
  if (!tokenFlags.has('CKF_USER_PIN_INITIALIZED')) return 'The token has no kmsuser PIN to log in with.';
  if (tokenFlags.has('CKF_USER_PIN_LOCKED')) return 'Not attempted: kmsuser is locked out on this HSM (CKF_USER_PIN_LOCKED).';
  if (tokenFlags.has('CKF_USER_PIN_FINAL_TRY')) return 'Not attempted: one more wrong password would lock kmsuser out of this HSM (CKF_USER_PIN_FINAL_TRY).';
  if (refusedBy !== null) return `Not attempted: ${refusedBy} refused this password, so trying it here would only spend one of this HSM's login tries.`;
  return undefined;
}

function failUnreachable(member: HsmMember, error: unknown, fromIndex: number, report: Report): MemberOutcome & { unreachable: boolean } {
  const [id, title] = MEMBER_CHECK_TITLES[fromIndex] ?? ['hsm.reachable', 'HSM answers'];
  report(result(id, title, 'fail', { hsmId: member.HsmId, evidence: [errorEvidence(error)], predicted: 'NETWORK_ERRORS', remedy: NETWORK_REMEDY }));
  skipMember(member, 'the HSM stopped answering', report, fromIndex + 1);
  return { active: false, unreachable: true };
}

function failUnreachableOrContinue(member: HsmMember, error: unknown, fromIndex: number, report: Report): MemberOutcome & { unreachable: boolean } {
  if (isUnreachable(error)) return failUnreachable(member, error, fromIndex, report);
  const [id, title] = MEMBER_CHECK_TITLES[fromIndex] ?? ['hsm.unknown', 'HSM check'];
  report(result(id, title, 'fail', { hsmId: member.HsmId, evidence: [errorEvidence(error)], ...failureVerdict(error, { predicted: 'INTERNAL_ERROR', remedy: 'The HSM refused a basic query. Check the vendor\'s logs.' }) }));
  skipMember(member, 'an earlier check of this HSM failed', report, fromIndex + 1);
  return { active: false, unreachable: false };
}

/** What each PIN flag means for kmsuser, most serious first: the first flag set decides the verdict. */
const PIN_FLAG_VERDICTS: ReadonlyArray<{ flag: string; status: 'fail' | 'warn'; predicted: ConnectionErrorCode | null; remedy: string }> = [
  {
    flag: 'CKF_USER_PIN_LOCKED',
    status: 'fail',
    predicted: 'USER_LOCKED_OUT',
    remedy: "kmsuser is locked out after too many failed logins. The token's security officer must reset the user PIN (C_InitPIN), then tell the key store the new password.",
  },
  {
    flag: 'CKF_USER_PIN_FINAL_TRY',
    status: 'warn',
    predicted: 'USER_LOCKED_OUT',
    remedy: 'One more wrong kmsuser password locks kmsuser out. Make sure the password is right before the next login.',
  },
  {
    flag: 'CKF_USER_PIN_TO_BE_CHANGED',
    status: 'warn',
    predicted: 'INVALID_CREDENTIALS',
    remedy: 'The token requires the kmsuser PIN to be changed before use. Log in as kmsuser once and change the PIN (C_SetPIN), then tell the key store the new password.',
  },
  {
    flag: 'CKF_USER_PIN_COUNT_LOW',
    status: 'warn',
    predicted: null,
    remedy: 'A wrong kmsuser password was entered since the last successful login. Check the password before connecting: kmsuser locks after repeated failures.',
  },
  ...['CKF_SO_PIN_LOCKED', 'CKF_SO_PIN_FINAL_TRY'].map((flag) => ({
    flag,
    status: 'warn' as const,
    predicted: null,
    remedy: "The security officer PIN is locked or nearly so: kmsuser setup and adding HSMs need the SO. Recover SO access with the vendor's procedure.",
  })),
];

export function checkPinFlags(hsmId: string, flags: ReadonlySet<string>): CheckResult {
  const title = 'PIN state allows kmsuser to log in';
  const seen = PIN_FLAG_VERDICTS.map((v) => v.flag).filter((f) => flags.has(f));
  const evidence = [seen.length ? `Flags set: ${seen.join(', ')}` : 'No PIN warning flags are set (not locked, count not low, no final try, no change required).'];
  const verdict = PIN_FLAG_VERDICTS.find((v) => flags.has(v.flag));
  if (!verdict) return result('hsm.pin-flags', title, 'pass', { hsmId, evidence });
  return result('hsm.pin-flags', title, verdict.status, { hsmId, evidence, predicted: verdict.predicted, remedy: verdict.remedy });
}

/** The model needs: AES-256 generation, AES-GCM, RSA-OAEP wrap/unwrap (cluster sync), RSA key pairs (member keys). */
const REQUIRED_MECHANISMS: ReadonlyArray<{ mechanism: string; flags: string[]; keySize?: { value: number; unit: string; alt?: number }; why: string }> = [
  { mechanism: 'CKM_AES_KEY_GEN', flags: ['CKF_GENERATE'], keySize: { value: 32, unit: 'bytes', alt: 256 }, why: 'AES-256 CMK key material' },
  { mechanism: 'CKM_AES_GCM', flags: ['CKF_ENCRYPT', 'CKF_DECRYPT'], why: 'encrypt/decrypt with CMKs and check values' },
  { mechanism: 'CKM_RSA_PKCS_OAEP', flags: ['CKF_WRAP', 'CKF_UNWRAP'], why: 'copying key material between HSMs' },
  { mechanism: 'CKM_RSA_PKCS_KEY_PAIR_GEN', flags: ['CKF_GENERATE_KEY_PAIR'], keySize: { value: 3072, unit: 'bits' }, why: 'RSA-3072 member key pairs' },
];

function checkMechanisms(hsmId: string, mechanisms: readonly MechanismInfo[]): CheckResult {
  const byName = new Map(mechanisms.map((m) => [m.Mechanism, m]));
  const evidence: string[] = [];
  const missing: string[] = [];
  for (const need of REQUIRED_MECHANISMS) {
    const m = byName.get(need.mechanism);
    if (!m) {
      missing.push(`${need.mechanism} (${need.why})`);
      evidence.push(`${need.mechanism}: not supported`);
      continue;
    }
    const range = `key size ${m.MinKeySize}–${m.MaxKeySize}`;
    const lacking = need.flags.filter((f) => !m.Flags.includes(f));
    const sizeOk = !need.keySize || [need.keySize.value, need.keySize.alt].some((v) => v !== undefined && v >= m.MinKeySize && v <= m.MaxKeySize);
    evidence.push(`${need.mechanism}: ${range}; ${need.flags.join(', ')}${lacking.length ? ` (missing ${lacking.join(', ')})` : ''}`);
    if (lacking.length) missing.push(`${need.mechanism} without ${lacking.join(', ')}`);
    if (!sizeOk && need.keySize) missing.push(`${need.mechanism} at ${need.keySize.value} ${need.keySize.unit} (supports ${range})`);
  }
  if (missing.length === 0) return result('hsm.mechanisms', 'Mechanisms for CMK key material are supported', 'pass', { hsmId, evidence });
  return result('hsm.mechanisms', 'Mechanisms for CMK key material are supported', 'fail', {
    hsmId,
    evidence: [...evidence, `Missing: ${missing.join('; ')}`],
    remedy: 'This HSM cannot hold CMK key material as the model requires. Use an HSM (or firmware, or module) that supports the listed mechanisms, or remove it from the cluster.',
  });
}

/** PKCS#11 counts: null = CK_UNAVAILABLE_INFORMATION (not reported); a maximum of 0 = CK_EFFECTIVELY_INFINITE. */
function sessionEvidence(token: TokenInfo): string {
  const open = (n: number | null): string => (n === null ? 'not reported' : String(n));
  const limit = (n: number | null): string => (n === null ? 'not reported' : n === 0 ? 'no limit' : String(n));
  return `Read-write sessions open: ${open(token.RwSessionCount)} (limit: ${limit(token.MaxRwSessionCount)}); all sessions open: ${open(token.SessionCount)} (limit: ${limit(token.MaxSessionCount)})`;
}

async function checkLogin(
  cluster: ClusterInfo,
  hsmId: string,
  slotId: string,
  host: HsmHost,
  password: string,
  timeout: { timeoutMs: number },
): Promise<{ check: CheckResult; unreachable: false } | { unreachable: true; error: unknown }> {
  const title = 'kmsuser can log in';
  // Secret: the PIN is built here and handed straight to the HSM host; it is never kept or echoed.
  const pin = cluster.LoginFormat === 'user:password' ? `kmsuser:${password}` : password;
  let session: string | undefined;
  try {
    session = await host.openSession(slotId, {}, timeout);
    await host.login(session, 'USER', pin, timeout);
    await host.logout(session, timeout);
    return { unreachable: false, check: result('hsm.kmsuser-login', title, 'pass', { hsmId, evidence: ['kmsuser logged in with the given password and logged out again.'] }) };
  } catch (error) {
    if (isUnreachable(error)) return { unreachable: true, error };
    return { unreachable: false, check: loginFailure(hsmId, title, error) };
  } finally {
    if (session !== undefined) await host.closeSession(session, timeout).catch(() => undefined);
  }
}

function loginFailure(hsmId: string, title: string, error: unknown): CheckResult {
  const code = error instanceof WorkbenchError ? error.code : undefined;
  const evidence = [errorEvidence(error)];
  switch (code) {
    case 'CKR_PIN_INCORRECT':
    case 'CKR_PIN_LEN_RANGE': {
      const tokenFlags = error instanceof WorkbenchError && Array.isArray(error.details?.tokenFlags) ? (error.details.tokenFlags as string[]) : [];
      evidence.push(triesRemaining(tokenFlags));
      return result('hsm.kmsuser-login', title, 'fail', {
        hsmId,
        evidence,
        predicted: 'INVALID_CREDENTIALS',
        remedy: 'The kmsuser password is wrong for this HSM. Use the password set for kmsuser on every HSM of the cluster. Each wrong attempt spends one login try.',
      });
    }
    case 'CKR_PIN_LOCKED':
      return result('hsm.kmsuser-login', title, 'fail', { hsmId, evidence, predicted: 'USER_LOCKED_OUT', remedy: 'kmsuser is locked out. The token\'s security officer must reset the user PIN (C_InitPIN).' });
    case 'CKR_USER_PIN_NOT_INITIALIZED':
      return result('hsm.kmsuser-login', title, 'fail', { hsmId, evidence, predicted: 'USER_NOT_FOUND', remedy: 'The token has no kmsuser PIN. Create kmsuser with the SO (C_InitPIN).' });
    case 'CKR_USER_ALREADY_LOGGED_IN':
      return result('hsm.kmsuser-login', title, 'warn', {
        hsmId,
        evidence,
        predicted: 'USER_LOGGED_IN',
        remedy: 'kmsuser is already logged in by this workbench (a connected key store). Disconnect the key store before testing the login.',
      });
    default:
      return result('hsm.kmsuser-login', title, 'fail', {
        hsmId,
        evidence,
        ...failureVerdict(error, { predicted: 'INTERNAL_ERROR', remedy: 'The login failed for a reason other than the password. Check the vendor\'s logs.' }),
      });
  }
}

/** PKCS#11 has no retry counter, only flags; say what they imply. AWS-style HSMs lock kmsuser after 5 failures. */
function triesRemaining(tokenFlags: readonly string[]): string {
  if (tokenFlags.includes('CKF_USER_PIN_LOCKED')) return 'The token now reports kmsuser as locked out (CKF_USER_PIN_LOCKED).';
  if (tokenFlags.includes('CKF_USER_PIN_FINAL_TRY')) return 'The token reports one try remains before kmsuser is locked out (CKF_USER_PIN_FINAL_TRY).';
  if (tokenFlags.includes('CKF_USER_PIN_COUNT_LOW')) return 'The token reports a wrong kmsuser PIN since the last successful login (CKF_USER_PIN_COUNT_LOW) but not how many tries remain.';
  return 'The token does not report how many tries remain.';
}

function checkMemberDistinctness(cluster: ClusterInfo, report: Report): void {
  const serials = cluster.Hsms.map((m) => m.TokenSerial).filter((s): s is string => s !== null);
  const keys = serials.map(tokenSerialKey);
  const duplicated = serials.filter((_, i) => keys.indexOf(keys[i] ?? '') !== i);
  report(
    duplicated.length === 0
      ? result('cluster.distinct-members', 'Each HSM is a different token', 'pass', { evidence: [`${cluster.Hsms.length} member(s): ${cluster.Hsms.map(describeMember).join(', ')}`] })
      : result('cluster.distinct-members', 'Each HSM is a different token', 'fail', {
          evidence: [`Serial(s) listed more than once: ${[...new Set(duplicated)].join(', ')}`],
          remedy: 'Remove the duplicate member: one token counted twice is one HSM, not two.',
        }),
  );
}

function checkMembersExclusive(cluster: ClusterInfo, clusters: readonly ClusterInfo[], report: Report): void {
  const title = 'No HSM is also a member of another cluster';
  const shared = membersInOtherClusters(cluster.ClusterId, cluster.Hsms, clusters);
  report(
    shared.length === 0
      ? result('cluster.exclusive-members', title, 'pass', { evidence: ['No member token is an HSM of another cluster.'] })
      : result('cluster.exclusive-members', title, 'fail', {
          evidence: shared.map(({ member, others }) => `${member.HsmId} (${describeMember(member)}) is also an HSM of ${others.map((c) => `"${c.ClusterName}" (${c.ClusterId})`).join(', ')}`),
          remedy:
            'A token belongs to one cluster: two key stores rotating one kmsuser password would lock each other out. Delete the cluster that should not have this token (one used by a key store cannot be deleted: keep that one), then re-run the checks.',
        }),
  );
}

function checkActiveHsms(active: number, members: number, passwordRefused: boolean, report: Report): void {
  const title = 'Enough active HSMs';
  const evidence = [`${active} of ${members} HSM(s) active (present, initialised, kmsuser usable, reachable).`];
  if (active === 0) {
    report(
      result('cluster.active-hsms', title, 'fail', {
        evidence,
        // With the password refused, a connection would stop at the login, before counting HSMs.
        predicted: passwordRefused ? 'INVALID_CREDENTIALS' : 'INSUFFICIENT_CLOUDHSM_HSMS',
        remedy: passwordRefused
          ? 'The kmsuser password was refused, so no HSM can be counted as active. Re-run the checks with the kmsuser password set on the HSMs.'
          : 'A key store cannot connect without at least one active HSM. Fix the failures reported for the individual HSMs (hsm.* checks).',
      }),
    );
  } else if (active === 1) {
    report(
      result('cluster.active-hsms', title, 'warn', {
        evidence,
        remedy: 'A key store can connect with one active HSM, but creating CMKs needs at least two (the material is kept on two HSMs). Add or repair an HSM.',
      }),
    );
  } else {
    report(result('cluster.active-hsms', title, 'pass', { evidence: [...evidence, 'Two or more: a key store can connect and create CMKs.'] }));
  }
}

function checkKeyStoreAssociation(cluster: ClusterInfo, report: Report): void {
  const title = 'Not associated with another key store';
  report(
    cluster.CustomKeyStoreId === null
      ? result('cluster.key-store-association', title, 'pass', { evidence: ['No custom key store uses this cluster.'] })
      : result('cluster.key-store-association', title, 'warn', {
          evidence: [`Custom key store ${cluster.CustomKeyStoreId} uses this cluster.`],
          remedy: 'A cluster belongs to at most one custom key store. To use it for a new store, delete the existing store first (CloudHsmClusterInUseException otherwise).',
        }),
  );
}
