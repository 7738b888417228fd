import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyArn, LOCAL_PARTITION } from '../../main/keys/arn';
import { destroyOrphanedMaterial, orphanOf } from '../../main/keys/orphaned-material';
import type { MemberSession } from '../../main/key-stores/member-sessions';
import { createHsmHostPool } from '../../main/hsm/hsm-host-client';
import type { HsmHost, HsmHostPool } from '../../main/hsm/hsm-host';
import { createCmkMaterial, peerCountKeys } from '../fixtures/cmk';
import { createSoftHsmCluster, type SoftHsmCluster } from '../fixtures/softhsm';
import { HOST_CHILD_ENTRY } from '../fixtures/workbench';

/**
 * destroyOrphanedMaterial on a real SoftHSM token. A session that is no longer logged in finds no private object,
 * so an empty search there proves nothing: the material must be reported FAILURE (and stay in the orphan record),
 * not destroyed. pkcs11-tool, logged in as kmsuser, is the peer that says whether it is still there.
 */

const PIN = 'orphan-kmsuser-pin-1';
const TIMEOUT_MS = 10_000;

describe('destroying orphaned material', () => {
  let hsm: SoftHsmCluster;
  let pool: HsmHostPool;
  let host: HsmHost;

  beforeAll(async () => {
    hsm = await createSoftHsmCluster({ tokens: 1, userPin: PIN, labelPrefix: 'orphan' });
    pool = createHsmHostPool({ childEntry: HOST_CHILD_ENTRY, defaultTimeoutMs: TIMEOUT_MS });
    host = pool.get({ ModulePath: hsm.modulePath, ModuleEnvironment: hsm.env });
  }, 60_000);

  afterAll(async () => {
    await pool?.disposeAll();
    await hsm?.cleanup();
  });

  it('reports FAILURE, destroying nothing, through a session logged out since it was handed over; SUCCESS once logged in again', async () => {
    const keyId = randomUUID();
    const key = { KeyId: keyId, Arn: keyArn(LOCAL_PARTITION, keyId), CustomKeyStoreId: 'cks-1234567890abcdef0', CloudHsmClusterId: 'cluster-1234567890a' };
    createCmkMaterial(hsm, PIN, key);
    const [slot] = (await host.listSlots({ timeoutMs: TIMEOUT_MS })).filter((s) => s.Token?.Label === hsm.tokens[0]?.label);
    if (slot === undefined) throw new Error('the token has no slot');
    const ref = await host.openSession(slot.SlotId, { readWrite: true });
    await host.login(ref, 'USER', PIN);
    const session: MemberSession = { hsmId: 'hsm-1234567890a', host, ref, slot };
    const orphan = orphanOf(key, 'DELETED', new Date(), [session.hsmId]);

    // Logged out after the connection manager handed the session over (another login owner, a token reset…).
    await host.logout(ref);
    const [refused] = await destroyOrphanedMaterial(orphan, [session], undefined, TIMEOUT_MS);
    expect(refused).toMatchObject({ HsmId: session.hsmId, DeletionStatus: 'FAILURE', Detail: expect.stringMatching(/not logged in \(CKS_RW_PUBLIC_SESSION\)/) });
    expect(await peerCountKeys(hsm, 0, PIN, key.Arn)).toBe(1);

    await host.login(ref, 'USER', PIN);
    const [destroyed] = await destroyOrphanedMaterial(orphan, [session], undefined, TIMEOUT_MS);
    expect(destroyed).toMatchObject({ HsmId: session.hsmId, DeletionStatus: 'SUCCESS' });
    expect(await peerCountKeys(hsm, 0, PIN, key.Arn)).toBe(0);
  });
});
