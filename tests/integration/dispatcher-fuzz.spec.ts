import { existsSync } from 'node:fs';
import { mkdtemp, open, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPERATION_NAMES, isOperationName, operations, type OperationName, type OperationSpec, type Operations, type RequestOf } from '../../shared/contract/operations';
import type { ModuleRef } from '../../shared/contract/hsm';
import { ERROR_NAMES, type ErrorName, type Result } from '../../shared/errors';
import { readAuditLog, verifyChain } from '../../main/audit/audit-log';
import { hostKey } from '../../main/hsm/hsm-host-client';
import { BAD_MODULE_PATHS, mutatedPayloadArbitrary, pathsOf, randomPayloadArbitrary, unknownOperationArbitrary, type Mutation } from '../fixtures/fuzz-payloads';
import { ok } from '../fixtures/outcomes';
import { associateKeyStore } from '../fixtures/records';
import { createSoftHsmCluster, showSlots, type SoftHsmCluster } from '../fixtures/softhsm';
import { createTestWorkbench, type TestWorkbench } from '../fixtures/workbench';

/**
 * The dispatcher under fire: ten thousand random and mutated payloads across every operation of the
 * contract (a new operation is fuzzed as soon as it is declared), through the real core, over a real
 * state directory and real SoftHSM2 tokens. For each call: the promise resolves, a refusal is a named
 * error the operation declares and has its own audit record, and nothing changed — the state file,
 * the state directory, the tokens. At the end the audit chain still verifies and no promise was left
 * rejected unhandled. FUZZ_SEED varies the run; a failure names the seed, the shrunk case and the first failing one.
 */

const SEED = process.env.FUZZ_SEED === undefined ? 20_250_705 : Number(process.env.FUZZ_SEED);
const RUNS = 10_000;
/** A call that takes longer than this hangs (the HSM host times a silent module out after HSM_TIMEOUT_MS). */
const HSM_TIMEOUT_MS = 5_000;
const DISPATCH_DEADLINE_MS = 30_000;
/** A refusal's record must not grow with the hostile input: a megabyte of garbage is not a megabyte of audit. */
const MAX_AUDIT_BYTES_PER_CALL = 64 * 1024;
const MAX_MESSAGE_LENGTH = 4 * 1024;
/** In every payload that carries a secret, so a leak into the audit log or a result shows as this string. */
const SECRET_MARK = 'Fz-s3cret';
/** Well-formed and fixed, so a seed replays the same requests (the fixture's ids are random: one in 57^11 to collide). */
const UNKNOWN_CLUSTER_ID = 'cluster-zzzzzzzzzzz';
const KEY_STORE_ID = 'cks-fuzz0000000000000';
const UNKNOWN_KEY_STORE_ID = 'cks-00000000000000000';
/** Mutating operations that succeed without changing anything in the fixture's state: no key of it is due for deletion. */
const NOTHING_TO_DO = new Set<string>(['RunDeletions'] satisfies OperationName[]);
/** A CMK id no key has: every CMK call names it, so each is refused as NotFoundException until a mutation changes it. */
const FUZZ_KEY_ID = '0b8a2c7e-1f4d-4e6a-9c3b-5d7e8f9a0b1c';

type MutatingOperationName = { [N in OperationName]: Operations[N]['readOnly'] extends false ? N : never }[OperationName];

/**
 * How a request a mutating operation would accept is made one the fixture state must refuse, so "nothing
 * changed" stays an honest claim. Applied after the random mutations, to requests that are still valid.
 */
interface Refusal {
  why: string;
  apply(request: Record<string, unknown>): Record<string, unknown>;
  /** The errors this refusal may end in; the first check the handler makes decides which. */
  expected: readonly ErrorName[];
}

interface Fixture {
  hsm: SoftHsmCluster;
  wb: TestWorkbench;
  /** A cluster over the first token, free to check and describe. */
  alpha: string;
  /** A cluster over the second token that a key store uses, so deleting it is refused. */
  inUse: string;
}

interface FuzzCase {
  operation: string;
  family: 'random' | 'mutated' | 'unknown-operation';
  mutations?: Mutation[];
  refusal?: string;
  payload: unknown;
  callId: string;
}

/** Whether the operation's schema accepts the payload, after the `?? {}` the dispatcher gives a missing request. */
function accepts(spec: OperationSpec, payload: unknown): boolean {
  return spec.request.safeParse(payload ?? {}).success;
}

function isMutating(operation: OperationName): operation is MutatingOperationName {
  return !operations[operation].readOnly;
}

/** A valid request per operation: the base the mutations start from. The type makes a new operation add one. */
function validRequests(f: Fixture): { [N in OperationName]: RequestOf<N> } {
  const [first] = f.hsm.tokens;
  if (!first) throw new Error('fixture has no token');
  const module = { ModulePath: f.hsm.modulePath, ModuleEnvironment: f.hsm.env };
  return {
    DescribeWorkbench: {},
    DescribeSecretStore: {},
    CancelOperation: { CallId: 'fuzz-call-1' },
    ListSlots: module,
    CreateCluster: { ClusterName: 'fuzz-new', ...module, LoginFormat: 'user:password', Hsms: [{ TokenSerial: first.serial }, { TokenLabel: 'fz-2' }] },
    DescribeClusters: { ClusterIds: [f.alpha, f.inUse] },
    DeleteCluster: { ClusterId: f.alpha },
    CheckCluster: { ClusterId: f.alpha, KmsuserPassword: `${SECRET_MARK}-1` },
    CreateDemoCluster: { KmsuserPassword: `${SECRET_MARK}-2` },
    ConfirmDemoCredentials: { ClusterId: f.alpha },
    CreateKmsuser: { ClusterId: f.alpha, SoPin: `${SECRET_MARK}-3`, KmsuserPassword: `${SECRET_MARK}-4` },
    DescribeKmsuser: { ClusterId: f.alpha },
    ChangeKmsuserPassword: { ClusterId: f.alpha, SoPin: `${SECRET_MARK}-5`, NewKmsuserPassword: `${SECRET_MARK}-6` },
    InitializeCluster: { ClusterId: f.alpha, SoPin: `${SECRET_MARK}-7`, KmsuserPassword: `${SECRET_MARK}-8` },
    InstallClusterCertificate: { ClusterId: f.alpha, ClusterCertificate: 'not a certificate', TrustAnchorCertificate: 'not a certificate', SoPin: `${SECRET_MARK}-9` },
    AddHsm: { ClusterId: f.alpha, Hsm: { TokenLabel: 'fz-2' }, SoPin: `${SECRET_MARK}-10`, KmsuserPassword: `${SECRET_MARK}-11` },
    RemoveHsm: { ClusterId: f.alpha, HsmId: 'hsm-fuzz', SoPin: `${SECRET_MARK}-12` },
    CreateCustomKeyStore: { CustomKeyStoreName: 'fuzz-store', CloudHsmClusterId: f.alpha, TrustAnchorCertificate: 'not a certificate', KeyStorePassword: `${SECRET_MARK}-13` },
    DescribeCustomKeyStores: { CustomKeyStoreId: KEY_STORE_ID },
    ConnectCustomKeyStore: { CustomKeyStoreId: KEY_STORE_ID },
    DisconnectCustomKeyStore: { CustomKeyStoreId: KEY_STORE_ID },
    UpdateCustomKeyStore: { CustomKeyStoreId: KEY_STORE_ID, NewCustomKeyStoreName: 'fuzz-renamed', KeyStorePassword: `${SECRET_MARK}-14` },
    DeleteCustomKeyStore: { CustomKeyStoreId: KEY_STORE_ID },
    DescribeKeyStoreConnection: { CustomKeyStoreId: KEY_STORE_ID },
    CreateKey: { Origin: 'AWS_CLOUDHSM', CustomKeyStoreId: KEY_STORE_ID, Description: 'fuzz', Tags: [{ TagKey: 'fuzz', TagValue: '1' }] },
    DescribeKey: { KeyId: FUZZ_KEY_ID },
    ListKeys: { Limit: 10 },
    DescribeKeys: { Limit: 10 },
    DescribeKeyMaterial: { KeyId: FUZZ_KEY_ID },
    EnableKey: { KeyId: FUZZ_KEY_ID },
    DisableKey: { KeyId: FUZZ_KEY_ID },
    ScheduleKeyDeletion: { KeyId: FUZZ_KEY_ID, PendingWindowInDays: 7 },
    CancelKeyDeletion: { KeyId: FUZZ_KEY_ID },
    RunDeletions: {},
    EnableKeyRotation: { KeyId: FUZZ_KEY_ID },
    GetParametersForImport: { KeyId: FUZZ_KEY_ID, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' },
    ImportKeyMaterial: { KeyId: FUZZ_KEY_ID, ImportToken: 'AAAA', EncryptedKeyMaterial: 'AAAA' },
    TagResource: { KeyId: FUZZ_KEY_ID, Tags: [{ TagKey: 'fuzz', TagValue: '2' }] },
    UntagResource: { KeyId: FUZZ_KEY_ID, TagKeys: ['fuzz'] },
    ListResourceTags: { KeyId: FUZZ_KEY_ID },
    CreateAlias: { AliasName: 'alias/fuzz', TargetKeyId: FUZZ_KEY_ID },
    UpdateAlias: { AliasName: 'alias/fuzz', TargetKeyId: FUZZ_KEY_ID },
    DeleteAlias: { AliasName: 'alias/fuzz' },
    ListAliases: {},
    Encrypt: { KeyId: FUZZ_KEY_ID, Plaintext: Buffer.from(`${SECRET_MARK}-15`).toString('base64') },
    Decrypt: { CiphertextBlob: 'AQID' },
    ReEncrypt: { CiphertextBlob: 'AQID', DestinationKeyId: FUZZ_KEY_ID },
    GenerateDataKey: { KeyId: FUZZ_KEY_ID, KeySpec: 'AES_256' },
    GenerateDataKeyWithoutPlaintext: { KeyId: FUZZ_KEY_ID, NumberOfBytes: 32 },
    GenerateRandom: { NumberOfBytes: 16, CustomKeyStoreId: KEY_STORE_ID },
  };
}

function refusals(f: Fixture): { [N in MutatingOperationName]: readonly Refusal[] } {
  const noSuchKey: Refusal = { why: 'no such key', apply: (r) => ({ ...r, KeyId: FUZZ_KEY_ID }), expected: ['NotFoundException'] };
  return {
    CreateCluster: [
      { why: 'the name is taken (case differs)', apply: (r) => ({ ...r, ClusterName: 'ALPHA' }), expected: ['ClusterNameInUseException'] },
      {
        why: 'no such token',
        apply: (r) => ({ ...r, ClusterName: 'fuzz-unknown-token', Hsms: [{ TokenSerial: 'f0f0f0f0f0f0f0f0' }] }),
        // The module and its environment may have been mutated too: then loading it fails first.
        expected: ['TokenNotFoundException', 'Pkcs11ModuleLoadException', 'Pkcs11Exception', 'HsmHostCrashedException', 'HsmHostTimeoutException'],
      },
    ],
    DeleteCluster: [
      { why: 'no such cluster', apply: (r) => ({ ...r, ClusterId: UNKNOWN_CLUSTER_ID }), expected: ['CloudHsmClusterNotFoundException'] },
      { why: 'a key store uses the cluster', apply: (r) => ({ ...r, ClusterId: f.inUse }), expected: ['CloudHsmClusterInUseException'] },
    ],
    // Each would log in to the tokens with a fuzzed SO PIN: only a cluster that does not exist is asked for.
    InitializeCluster: [{ why: 'no such cluster', apply: (r) => ({ ...r, ClusterId: UNKNOWN_CLUSTER_ID }), expected: ['CloudHsmClusterNotFoundException'] }],
    InstallClusterCertificate: [{ why: 'no such cluster', apply: (r) => ({ ...r, ClusterId: UNKNOWN_CLUSTER_ID }), expected: ['CloudHsmClusterNotFoundException'] }],
    AddHsm: [{ why: 'no such cluster', apply: (r) => ({ ...r, ClusterId: UNKNOWN_CLUSTER_ID }), expected: ['CloudHsmClusterNotFoundException'] }],
    RemoveHsm: [{ why: 'no such cluster', apply: (r) => ({ ...r, ClusterId: UNKNOWN_CLUSTER_ID }), expected: ['CloudHsmClusterNotFoundException'] }],
    // Every valid request creates a demo cluster, by design: only requests the contract refuses are sent.
    CreateDemoCluster: [{ why: 'the password is too short', apply: (r) => ({ ...r, KmsuserPassword: 'short' }), expected: ['ValidationException'] }],
    ConfirmDemoCredentials: [
      { why: 'not a demo cluster', apply: (r) => ({ ...r, ClusterId: f.alpha }), expected: ['ValidationException'] },
      { why: 'no such cluster', apply: (r) => ({ ...r, ClusterId: UNKNOWN_CLUSTER_ID }), expected: ['CloudHsmClusterNotFoundException'] },
    ],
    CreateKmsuser: [
      { why: 'no such cluster', apply: (r) => ({ ...r, ClusterId: UNKNOWN_CLUSTER_ID }), expected: ['CloudHsmClusterNotFoundException'] },
      { why: 'the password is too long', apply: (r) => ({ ...r, KmsuserPassword: 'x'.repeat(33) }), expected: ['ValidationException'] },
    ],
    ChangeKmsuserPassword: [
      { why: 'no such cluster', apply: (r) => ({ ...r, ClusterId: UNKNOWN_CLUSTER_ID }), expected: ['CloudHsmClusterNotFoundException'] },
      { why: 'the password is too short', apply: (r) => ({ ...r, NewKmsuserPassword: 'short' }), expected: ['ValidationException'] },
    ],
    // The name may have been mutated into the fixture store's: that check comes first.
    CreateCustomKeyStore: [
      { why: 'no such cluster for the store', apply: (r) => ({ ...r, CloudHsmClusterId: UNKNOWN_CLUSTER_ID }), expected: ['CustomKeyStoreNameInUseException', 'CloudHsmClusterNotFoundException'] },
      { why: 'the cluster has a key store', apply: (r) => ({ ...r, CloudHsmClusterId: f.inUse }), expected: ['CustomKeyStoreNameInUseException', 'CloudHsmClusterInUseException'] },
    ],
    ConnectCustomKeyStore: [{ why: 'no such key store to connect', apply: (r) => ({ ...r, CustomKeyStoreId: UNKNOWN_KEY_STORE_ID }), expected: ['CustomKeyStoreNotFoundException'] }],
    DisconnectCustomKeyStore: [{ why: 'the key store is disconnected', apply: (r) => ({ ...r, CustomKeyStoreId: KEY_STORE_ID }), expected: ['CustomKeyStoreInvalidStateException'] }],
    UpdateCustomKeyStore: [{ why: 'no such key store to update', apply: (r) => ({ ...r, CustomKeyStoreId: UNKNOWN_KEY_STORE_ID }), expected: ['CustomKeyStoreNotFoundException'] }],
    DeleteCustomKeyStore: [{ why: 'no such key store to delete', apply: (r) => ({ ...r, CustomKeyStoreId: UNKNOWN_KEY_STORE_ID }), expected: ['CustomKeyStoreNotFoundException'] }],
    // A mutated request may ask for what a key store cannot hold, or carry bad tags: those checks come first.
    CreateKey: [
      { why: 'no such key store', apply: (r) => ({ ...r, CustomKeyStoreId: UNKNOWN_KEY_STORE_ID }), expected: ['UnsupportedOperationException', 'TagException', 'LimitExceededException', 'CustomKeyStoreNotFoundException'] },
      { why: 'the key store is disconnected', apply: (r) => ({ ...r, CustomKeyStoreId: KEY_STORE_ID }), expected: ['UnsupportedOperationException', 'TagException', 'LimitExceededException', 'CustomKeyStoreInvalidStateException'] },
      { why: 'not a custom key store key', apply: (r) => ({ ...r, Origin: 'AWS_KMS' }), expected: ['UnsupportedOperationException'] },
    ],
    // A mutated KeyId may have become an ARN (InvalidArnException when it is not a KMS one) or an alias name.
    EnableKey: [noSuchKey],
    DisableKey: [noSuchKey],
    ScheduleKeyDeletion: [noSuchKey],
    CancelKeyDeletion: [noSuchKey],
    RunDeletions: [],
    EnableKeyRotation: [noSuchKey],
    GetParametersForImport: [noSuchKey],
    ImportKeyMaterial: [noSuchKey],
    TagResource: [noSuchKey],
    UntagResource: [noSuchKey],
    // No alias exists in the fixture (every CreateAlias names FUZZ_KEY_ID): a mutated name is checked first.
    CreateAlias: [
      { why: 'no such target key', apply: (r) => ({ ...r, TargetKeyId: FUZZ_KEY_ID }), expected: ['InvalidAliasNameException', 'NotFoundException'] },
      { why: 'the alias/aws/ prefix is reserved', apply: (r) => ({ ...r, AliasName: 'alias/aws/fuzz' }), expected: ['InvalidAliasNameException'] },
    ],
    UpdateAlias: [
      { why: 'no such alias', apply: (r) => ({ ...r, AliasName: 'alias/fuzz-none' }), expected: ['NotFoundException'] },
      { why: 'the alias/aws/ prefix is reserved', apply: (r) => ({ ...r, AliasName: 'alias/aws/fuzz' }), expected: ['InvalidAliasNameException'] },
    ],
    DeleteAlias: [
      { why: 'no such alias', apply: (r) => ({ ...r, AliasName: 'alias/fuzz-none' }), expected: ['NotFoundException'] },
      { why: 'no alias/ prefix', apply: (r) => ({ ...r, AliasName: 'fuzz' }), expected: ['InvalidAliasNameException'] },
    ],
  };
}

/**
 * The module references an accepted request may carry. Each distinct reference is a host child of its own,
 * and mutations would start hundreds (each a process start, however the pool bounds them); the HSM host specs
 * cover modules in depth.
 */
function moduleBudget(f: Fixture): ModuleRef[] {
  const { modulePath, env } = f.hsm;
  return [
    { ModulePath: modulePath, ModuleEnvironment: env },
    { ModulePath: modulePath, ModuleEnvironment: {} },
    { ModulePath: modulePath, ModuleEnvironment: { SOFTHSM2_CONF: '/dev/null' } },
    { ModulePath: modulePath, ModuleEnvironment: { SOFTHSM2_CONF: 'relative/softhsm2.conf' } },
    { ModulePath: modulePath, ModuleEnvironment: { ...env, SOFTHSM2_CONF: `${env.SOFTHSM2_CONF}\u0000` } },
    { ModulePath: modulePath, ModuleEnvironment: { ...env, NODE_OPTIONS: '--no-such-node-option' } },
    ...BAD_MODULE_PATHS.filter((path) => path.startsWith('/')).map((path) => ({ ModulePath: path, ModuleEnvironment: env })),
  ];
}

/** Moves an accepted request that names a module outside the budget onto budget entry `pick`. */
function withinBudget(spec: OperationSpec, payload: unknown, budget: readonly ModuleRef[], pick: number): unknown {
  const parsed = spec.request.safeParse(payload ?? {});
  if (!parsed.success) return payload;
  const data = parsed.data as Partial<ModuleRef>;
  if (typeof data.ModulePath !== 'string') return payload;
  const key = hostKey({ ModulePath: data.ModulePath, ModuleEnvironment: data.ModuleEnvironment ?? {} });
  if (budget.some((ref) => hostKey(ref) === key)) return payload;
  return { ...(payload as Record<string, unknown>), ...budget[pick % budget.length] };
}

function caseArbitrary(f: Fixture): fc.Arbitrary<FuzzCase> {
  const bases = validRequests(f);
  const refusalTable = refusals(f);
  const knownFields = [...new Set(Object.values(bases).flatMap((base) => pathsOf(base).flatMap((path) => path.slice(-1))))].filter((key) => !/^\d+$/.test(key));
  const callId = fc.oneof(fc.uuid(), fc.string({ unit: 'binary', maxLength: 80 }));
  // Built once: the random family holds megabyte-sized values.
  const random = randomPayloadArbitrary(knownFields);
  const budget = moduleBudget(f);

  const forOperation = (operation: OperationName): fc.Arbitrary<FuzzCase> => {
    const spec: OperationSpec = operations[operation];
    const choices: readonly Refusal[] = isMutating(operation) ? refusalTable[operation] : [];
    const cases = fc.oneof(
      fc.record({ family: fc.constant('random' as const), payload: random, callId }),
      fc.record({ family: fc.constant('mutated' as const), mutated: mutatedPayloadArbitrary(bases[operation], knownFields), callId }).map(({ family, mutated, callId: id }) => ({ family, ...mutated, callId: id })),
    );
    return fc.tuple(cases, fc.nat()).map(([c, pick]): FuzzCase => {
      const payload = withinBudget(spec, c.payload, budget, pick);
      const refusal = choices[pick % Math.max(choices.length, 1)];
      if (!refusal || !accepts(spec, payload)) return { operation, ...c, payload };
      return { operation, ...c, refusal: refusal.why, payload: refusal.apply(payload as Record<string, unknown>) };
    });
  };

  return fc.oneof(
    ...OPERATION_NAMES.map((operation) => ({ arbitrary: forOperation(operation), weight: 10 })),
    { arbitrary: fc.record({ operation: unknownOperationArbitrary(OPERATION_NAMES), family: fc.constant('unknown-operation' as const), payload: random, callId }), weight: 3 },
  );
}

/** The state directory's entries but the audit log's directory and a workbench log: everything else there is state. */
async function stateDirEntries(stateDir: string): Promise<string[]> {
  return (await readdir(stateDir)).filter((name) => name !== 'audit' && !/^logs?$|\.log$/.test(name)).sort();
}

/** The objects on the tokens, as files of SoftHSM's file back end (token.object itself changes with login flags). */
async function tokenObjects(hsm: SoftHsmCluster): Promise<string[]> {
  return (await readdir(join(hsm.dir, 'tokens'), { recursive: true })).filter((name) => !name.endsWith('token.object')).sort();
}

interface Snapshot {
  state: string | null;
  entries: string[];
  objects: string[];
}

/**
 * The state file without the kmsuser ledger: a login test (CheckCluster with a password) is a real login that a
 * refusal pays for with one of kmsuser's tries, and the ledger records it by design (main/kmsuser/ledger.ts). That
 * write also moves the state's audit anchor to the log's last record, which grows with every call anyway.
 */
function withoutKmsuserLedger(text: string | null): string | null {
  if (text === null) return null;
  const state = JSON.parse(text) as { auditAnchor?: unknown; clusters?: Array<{ Hsms?: Array<Record<string, unknown>> }> };
  delete state.auditAnchor;
  for (const cluster of state.clusters ?? []) for (const member of cluster.Hsms ?? []) delete member.Kmsuser;
  return JSON.stringify(state);
}

async function snapshot(f: Fixture): Promise<Snapshot> {
  return { state: withoutKmsuserLedger(await f.wb.stateText()), entries: await stateDirEntries(f.wb.stateDir), objects: await tokenObjects(f.hsm) };
}

/** Reads what the audit log gained since `offset`, so each call costs its own records, not the whole log. */
async function auditSince(path: string, offset: number): Promise<{ text: string; bytes: number; size: number }> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const buffer = Buffer.alloc(size - offset);
    await handle.read(buffer, 0, buffer.length, offset);
    return { text: buffer.toString('utf8'), bytes: buffer.length, size };
  } finally {
    await handle.close();
  }
}

function withDeadline<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${DISPATCH_DEADLINE_MS} ms`)), DISPATCH_DEADLINE_MS);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** The failing case with long strings and arrays cut, so a megabyte payload reads as one line. */
function brief(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) => {
    if (typeof item === 'string' && item.length > 120) return `${item.slice(0, 60)}…(${item.length} chars)`;
    if (Array.isArray(item) && item.length > 12) return [...item.slice(0, 6), `…(${item.length} items)`];
    if (typeof item === 'bigint') return `${item}n`;
    if (item instanceof Map || item instanceof Set) return `${item.constructor.name}(${item.size})`;
    if (item !== null && typeof item === 'object' && !Array.isArray(item)) {
      const keys = Object.keys(item);
      const shown = Object.fromEntries(keys.slice(0, 12).map((key) => [key.length > 60 ? `${key.slice(0, 60)}…(${key.length} chars)` : key, (item as Record<string, unknown>)[key]]));
      return keys.length > 12 ? { ...shown, '…': `${keys.length} keys` } : shown;
    }
    return item;
  });
}

function reportBriefly(details: fc.RunDetails<[FuzzCase]>, firstFailure: string | undefined): void {
  if (!details.failed) return;
  const [c] = details.counterexample ?? [];
  const cause = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
  throw new Error(
    `dispatcher fuzz failed (seed ${details.seed}, path "${details.counterexamplePath ?? ''}", FUZZ_SEED=${details.seed} reruns it)\n` +
      `shrunk case: ${brief(c)}\n${cause}\nfirst failing case: ${firstFailure ?? 'the same'}`,
  );
}

interface Tally {
  dispatched: number;
  /** Requests the operation's schema accepts: they get past validation into the handler. */
  accepted: number;
  succeeded: number;
  refusedBy: Partial<Record<ErrorName, number>>;
}

interface AuditLine {
  eventName: string;
  errorCode?: string;
  requestID: string;
  additionalEventData?: { auditPhase?: string };
}

/** What the log gained for one call, parsed. */
function auditLines(text: string): AuditLine[] {
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as AuditLine);
}

/** The per-call claims: a well-formed, secret-free envelope; a named, declared refusal with its own bounded audit record. */
function checkOutcome(c: FuzzCase, spec: OperationSpec | undefined, result: Result<unknown>, audit: { text: string; bytes: number }, expectedByRefusal: ReadonlyMap<string, readonly ErrorName[]>): void {
  // The envelope crosses IPC and the CLI's JSON output as it is.
  expect(typeof result.ok).toBe('boolean');
  expect(JSON.stringify(result), 'a secret in the result').not.toContain(SECRET_MARK);
  expect(audit.bytes, 'audit bytes for one call').toBeLessThanOrEqual(MAX_AUDIT_BYTES_PER_CALL);
  expect(audit.text, 'a secret in the audit log').not.toContain(SECRET_MARK);
  const records = auditLines(audit.text);

  if (result.ok) {
    // Only read-only operations may succeed: mutating ones were always given a request to refuse.
    expect(spec?.readOnly === true || (spec !== undefined && NOTHING_TO_DO.has(spec.name)), 'only a read-only operation may succeed').toBe(true);
    expect(records.every((r) => r.errorCode === undefined), 'an error code in a success record').toBe(true);
    expect(records.map((r) => r.additionalEventData?.auditPhase), 'audit phases of a success').toEqual(spec?.auditAlways === true || spec?.readOnly === false ? ['Started', 'Completed'] : []);
    return;
  }
  const { name, message } = result.error;
  expect(ERROR_NAMES).toContain(name);
  // KMSInternalException is what an error nobody named becomes: a bug, not a refusal.
  expect(name, 'an unnamed (internal) error').not.toBe('KMSInternalException');
  expect(spec ? [...spec.errors, 'ValidationException'] : ['UnknownOperationException'], 'an error the operation does not declare').toContain(name);
  if (c.refusal !== undefined) expect(expectedByRefusal.get(c.refusal), `the refusal for "${c.refusal}"`).toContain(name);
  expect(typeof message).toBe('string');
  expect(message.length).toBeGreaterThan(0);
  expect(message.length, 'message length').toBeLessThanOrEqual(MAX_MESSAGE_LENGTH);
  // Its own record: one refusal, after the Started record when the call got as far as a handler.
  expect(records.length, 'audit records of a refusal').toBeGreaterThanOrEqual(1);
  expect(records.length, 'audit records of a refusal').toBeLessThanOrEqual(2);
  expect(new Set(records.map((r) => r.requestID)).size, 'request ids in one call').toBe(1);
  const last = records.at(-1);
  expect(last?.eventName, 'eventName of the refusal record').toBe(spec?.name ?? 'UnknownOperation');
  expect(last?.errorCode === name || last?.errorCode?.startsWith(`${name}:`), `errorCode ${last?.errorCode ?? 'none'} for ${name}`).toBe(true);
}

describe('dispatcher fuzz: random and mutated payloads across every operation', () => {
  let f: Fixture;
  let stateRoot: string;
  let auditPath: string;

  beforeAll(async () => {
    // tmpfs where there is one: the same code paths, but ten thousand fsynced audit appends cost seconds, not minutes.
    stateRoot = await mkdtemp(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'hsm-workbench-fuzz-'));
    const hsm = await createSoftHsmCluster({ tokens: 2, userPin: 'kmsuser-pass-1', labelPrefix: 'fz', inMemory: true });
    const wb = await createTestWorkbench({ stateDir: stateRoot, hsmTimeoutMs: HSM_TIMEOUT_MS });
    const [first, second] = hsm.tokens;
    if (!first || !second) throw new Error('fixture has no tokens');
    const module = { ModulePath: hsm.modulePath, ModuleEnvironment: hsm.env };
    const alpha = ok(await wb.call('CreateCluster', { ClusterName: 'alpha', ...module, Hsms: [{ TokenSerial: first.serial }] })).Cluster.ClusterId;
    const inUse = ok(await wb.call('CreateCluster', { ClusterName: 'in-use', ...module, Hsms: [{ TokenSerial: second.serial }] })).Cluster.ClusterId;
    await wb.editState((state) => associateKeyStore(state, inUse, KEY_STORE_ID));
    f = { hsm, wb, alpha, inUse };
    auditPath = join(wb.stateDir, 'audit', 'audit-log.jsonl');
  });

  afterAll(async () => {
    await f?.wb.dispose();
    await f?.hsm.cleanup();
    await rm(stateRoot, { recursive: true, force: true });
  });

  it('a refusal quotes a bounded part of a huge request: field names cut, the first issues listed', async () => {
    const hugeKey = 'k'.repeat(100_000);
    const badEnvironment = Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`${i}-not-a-name`, 'x']));
    for (const [operation, payload] of [
      ['CancelOperation', { [hugeKey]: 1 }],
      ['ListSlots', { ModulePath: f.hsm.modulePath, ModuleEnvironment: badEnvironment }],
      ['ListSlots', { ModulePath: f.hsm.modulePath, ModuleEnvironment: { [hugeKey.toUpperCase()]: 1 } }],
    ] as const) {
      const { size } = await auditSince(auditPath, 0);
      const result = await f.wb.core.dispatch(operation, payload, { callId: `bounded-${operation}` });
      expect(result).toMatchObject({ ok: false, error: { name: 'ValidationException' } });
      if (!result.ok) expect(result.error.message.length).toBeLessThanOrEqual(MAX_MESSAGE_LENGTH);
      const appended = await auditSince(auditPath, size);
      expect(appended.bytes).toBeLessThanOrEqual(MAX_AUDIT_BYTES_PER_CALL);
      expect(auditLines(appended.text)).toHaveLength(1);
    }
  });

  it('never crashes, never changes state, and refuses with a named, declared, audited error', { timeout: 600_000 }, async () => {
    const { wb, hsm } = f;
    const before = await snapshot(f);
    const slotsBefore = await showSlots(hsm.env);
    const bases = validRequests(f);
    const refusalTable = refusals(f);
    const expectedByRefusal = new Map(Object.values(refusalTable).flatMap((list: readonly Refusal[]) => list.map((r) => [r.why, r.expected] as const)));
    // A mutating operation meets its handler only through a refusal that keeps the request valid (CreateDemoCluster's does not).
    const reachesHandler = (operation: OperationName): boolean =>
      !isMutating(operation) || refusalTable[operation].some((r) => accepts(operations[operation], r.apply(bases[operation] as Record<string, unknown>)));
    const tally = new Map<string, Tally>();
    const stray: unknown[] = [];
    const onStray = (error: unknown): void => void stray.push(error);
    process.on('unhandledRejection', onStray);
    process.on('uncaughtException', onStray);
    let auditOffset = (await auditSince(auditPath, 0)).size;
    let dispatches = 0;
    let firstFailure: string | undefined;
    const started = Date.now();

    try {
      await fc.assert(
        fc.asyncProperty(caseArbitrary(f), async (c) => {
          dispatches += 1;
          const spec: OperationSpec | undefined = isOperationName(c.operation) ? operations[c.operation] : undefined;
          const key = spec?.name ?? 'unknown operation';
          const t = tally.get(key) ?? { dispatched: 0, accepted: 0, succeeded: 0, refusedBy: {} };
          tally.set(key, t);
          t.dispatched += 1;
          if (spec !== undefined && accepts(spec, c.payload)) t.accepted += 1;

          const result = await withDeadline(wb.core.dispatch(c.operation, c.payload, { callId: c.callId }), `${c.operation.slice(0, 64)}`);
          if (result.ok) t.succeeded += 1;
          else t.refusedBy[result.error.name] = (t.refusedBy[result.error.name] ?? 0) + 1;

          const appended = await auditSince(auditPath, auditOffset);
          auditOffset = appended.size;
          try {
            checkOutcome(c, spec, result, appended, expectedByRefusal);
            const after = await snapshot(f);
            expect(after.state, 'state.json changed').toBe(before.state);
            expect(after.entries, 'the state directory changed').toEqual(before.entries);
            expect(after.objects, 'objects on the tokens changed').toEqual(before.objects);
          } catch (error) {
            // A change to state fails every later case too, shrunk ones included: the first failure is the one to read.
            firstFailure ??= `${brief(c)}\n${error instanceof Error ? error.message : String(error)}`;
            throw error;
          }
        }),
        { seed: SEED, numRuns: RUNS, reporter: (details) => reportBriefly(details, firstFailure) },
      );
    } finally {
      process.off('unhandledRejection', onStray);
      process.off('uncaughtException', onStray);
      // What the run reached: per operation, how many requests got past validation and how each was refused.
      console.info(`dispatcher fuzz: seed ${SEED}, ${dispatches} dispatches in ${((Date.now() - started) / 1000).toFixed(1)} s`, JSON.stringify(Object.fromEntries(tally)));
    }

    expect(dispatches).toBeGreaterThanOrEqual(RUNS);
    expect(stray).toEqual([]);
    // Every operation was sent both garbage and requests its schema accepts.
    for (const operation of OPERATION_NAMES) {
      const t = tally.get(operation) ?? { dispatched: 0, accepted: 0 };
      expect(t.dispatched, operation).toBeGreaterThan(RUNS / OPERATION_NAMES.length / 4);
      expect(t.dispatched - t.accepted, operation).toBeGreaterThan(0);
      if (reachesHandler(operation)) expect(t.accepted, operation).toBeGreaterThan(0);
    }
    expect(tally.get('unknown operation')?.dispatched ?? 0).toBeGreaterThan(0);

    expect(await showSlots(hsm.env)).toEqual(slotsBefore);
    const log = await readAuditLog(auditPath);
    expect(log.damagedLines).toEqual([]);
    expect(verifyChain(log.records)).toMatchObject({ valid: true });
  });
});
