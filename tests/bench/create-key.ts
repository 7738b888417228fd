import pkcs11js from 'pkcs11js';
import { randomUUID } from 'node:crypto';
import { objectId } from '../../main/clusters/cluster-objects';
import { toPkcs11Mechanism } from '../../main/hsm/ckm';
import { toPkcs11Template } from '../../main/hsm/template';
import { kmsuserPasswordContext } from '../../main/key-stores/key-store-records';
import { keyArn, LOCAL_PARTITION } from '../../main/keys/arn';
import { BACKING_KEY_BYTES, backingKeyTemplate, MEMBER_WRAP } from '../../main/keys/backing-key';
import { openSecretVault } from '../../main/secrets/secret-vault';
import { openStateStore } from '../../main/state/state-store';
import { waitForState } from '../fixtures/cmk-store';
import { ok } from '../fixtures/outcomes';
import { cmkRecord } from '../fixtures/records';
import { createSoftHsmCluster } from '../fixtures/softhsm';
import { openDirectSession, type DirectSession } from '../fixtures/token-objects';
import { createTestWorkbench, type TestWorkbench } from '../fixtures/workbench';
import { interleave, median, type Benchmark, type BenchRow } from './harness';

const SIZES = [0, 10_000];
/** Timed rounds after one warm-up round, per size. */
const RUNS = 8;
const NAME = 'CreateKey on a two-token SoftHSM2 store';
const KMSUSER = 'bench-kmsuser-1';
/** The check value's computation, as main/keys/backing-key.ts does it: AES-GCM of a zero block under the zero IV. */
const CHECK_VALUE_GCM = { mechanism: 'CKM_AES_GCM', params: { kind: 'aes-gcm', iv: '00'.repeat(12), aad: Buffer.from('hsm-workbench kcv').toString('hex'), tagBits: 128 } } as const;

/** The kmsuser password after the connect rotated it, opened through the vault as the workbench does. */
async function currentPassword(wb: TestWorkbench, storeId: string): Promise<string> {
  const store = (await (await openStateStore({ stateDir: wb.stateDir, program: 'bench' })).read()).customKeyStores.find((k) => k.CustomKeyStoreId === storeId);
  if (store?.KmsuserPassword === undefined) throw new Error('the store holds no password');
  return (await openSecretVault({ stateDir: wb.stateDir })).open(store.KmsuserPassword, kmsuserPasswordContext(storeId));
}

function findOne(direct: DirectSession, template: pkcs11js.Template): Buffer {
  direct.lib.C_FindObjectsInit(direct.session, template);
  const [handle] = direct.lib.C_FindObjects(direct.session, 2);
  direct.lib.C_FindObjectsFinal(direct.session);
  if (!handle) throw new Error('object not found');
  return handle;
}

function checkValue(direct: DirectSession, key: Buffer): string {
  direct.lib.C_EncryptInit(direct.session, toPkcs11Mechanism(CHECK_VALUE_GCM), key);
  return direct.lib.C_Encrypt(direct.session, Buffer.alloc(16), Buffer.alloc(64)).subarray(0, 3).toString('hex');
}

/**
 * CreateKey through the core (intent, generate on one member, wrapped copy to the other, check values in both,
 * commit; audited) at 0 and 10,000 existing CMKs, against the raw floor: pkcs11js called directly in this process
 * doing the same PKCS#11 work (C_GenerateKey, C_WrapKey, C_UnwrapKey, two check-value C_Encrypt), no state, no
 * audit, no IPC. The 10,000 CMK records are seeded in the state directly (they have no material: CreateKey never
 * reads them). Tokens on tmpfs, as in the enumerate benchmark, so the HSM's own file writes do not drown the rest.
 */
export function createKey(): Benchmark {
  return {
    name: NAME,
    async run(): Promise<BenchRow[]> {
      const hsm = await createSoftHsmCluster({ tokens: 2, userPin: KMSUSER, labelPrefix: 'bench-ck', inMemory: true });
      const wb = await createTestWorkbench();
      const directs: DirectSession[] = [];
      try {
        const created = ok(await wb.call('CreateCluster', { ClusterName: 'bench', ModulePath: hsm.modulePath, ModuleEnvironment: hsm.env, Hsms: [0, 1].map((i) => ({ TokenSerial: hsm.tokens[i]?.serial ?? '' })) })).Cluster;
        const cluster = ok(await wb.call('InitializeCluster', { ClusterId: created.ClusterId, DemoCa: true, SoPin: hsm.soPin, KmsuserPassword: KMSUSER })).Cluster;
        const trustAnchor = cluster.Certificates.TrustAnchorCertificate ?? '';
        const storeId = ok(await wb.call('CreateCustomKeyStore', { CustomKeyStoreName: 'bench', CloudHsmClusterId: cluster.ClusterId, TrustAnchorCertificate: trustAnchor, KeyStorePassword: KMSUSER })).CustomKeyStoreId;
        ok(await wb.call('ConnectCustomKeyStore', { CustomKeyStoreId: storeId }));
        await waitForState(wb, storeId, 'CONNECTED');

        const password = await currentPassword(wb, storeId);
        const source = openDirectSession(hsm.modulePath, hsm.env, hsm.tokens[0]?.slotId ?? '', password);
        directs.push(source);
        // The same loaded module (C_Initialize once per process), a session on the other token.
        const slot = source.lib.C_GetSlotList(true).find((s) => s.readBigUInt64LE().toString() === hsm.tokens[1]?.slotId);
        if (!slot) throw new Error('the second token is gone');
        const target: DirectSession = { lib: source.lib, session: source.lib.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION), close: () => undefined };
        target.lib.C_Login(target.session, pkcs11js.CKU_USER, password);
        const width = source.session.length;
        // CreateKey generates on the first member and copies to the second, as this floor does.
        const targetHsm = cluster.Hsms[1]?.HsmId ?? '';
        // Found once: the core finds them per call, a few object lookups beside the cryptography.
        const trusted = findOne(source, toPkcs11Template({ class: 'CKO_PUBLIC_KEY', id: objectId(targetHsm), token: true }, width));
        const unwrapping = findOne(target, toPkcs11Template({ class: 'CKO_PRIVATE_KEY', id: objectId(targetHsm), token: true }, width));
        const floor = (): void => {
          const keyId = randomUUID();
          const template = backingKeyTemplate({ KeyId: keyId, Arn: keyArn(LOCAL_PARTITION, keyId) });
          const generated = source.lib.C_GenerateKey(source.session, { mechanism: pkcs11js.CKM_AES_KEY_GEN }, toPkcs11Template({ ...template, valueLen: BACKING_KEY_BYTES }, width));
          const wrapped = source.lib.C_WrapKey(source.session, toPkcs11Mechanism(MEMBER_WRAP), trusted, generated, Buffer.alloc(4096));
          const copy = target.lib.C_UnwrapKey(target.session, toPkcs11Mechanism(MEMBER_WRAP), unwrapping, wrapped, toPkcs11Template(template, width));
          if (checkValue(source, generated) !== checkValue(target, copy)) throw new Error('the floor copy differs');
        };
        const createKeyThroughCore = async (): Promise<void> => {
          ok(await wb.call('CreateKey', { Origin: 'AWS_CLOUDHSM', CustomKeyStoreId: storeId }));
        };

        const rows: BenchRow[] = [];
        let seeded = 0;
        for (const size of SIZES) {
          await wb.editState((state) => {
            for (; seeded < size; seeded += 1) state.keys.put(cmkRecord(storeId, cluster.ClusterId));
          });
          const [floorResult, core] = await interleave(RUNS, [
            { name: 'floor', fn: floor },
            { name: 'core', fn: createKeyThroughCore },
          ]);
          const floorMs = median(floorResult?.samples ?? []);
          rows.push(
            { benchmark: NAME, case: `floor at ${size.toLocaleString('en')} CMKs: raw pkcs11js generate + wrap + unwrap + 2 check values`, medianMs: floorMs },
            { benchmark: NAME, case: `CreateKey through the core at ${size.toLocaleString('en')} existing CMKs`, medianMs: median(core?.samples ?? []), floorMs, goalRatio: 1.5, note: 'IPC to 2 HSM hosts, 2 state transactions, 5 audit records' },
          );
        }
        return rows;
      } finally {
        // Closing the first session finalises the module, which ends the second one too.
        for (const direct of directs) direct.close();
        await wb.dispose();
        await hsm.cleanup();
      }
    },
  };
}
