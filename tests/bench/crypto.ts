import { randomBytes } from 'node:crypto';
import pkcs11js from 'pkcs11js';
import type { z } from 'zod';
import type { DecryptResponse, EncryptResponse } from '../../shared/contract/crypto';
import type { Result } from '../../shared/errors';
import { createHsmHostPool } from '../../main/hsm/hsm-host-client';
import type { Mechanism } from '../../main/hsm/hsm-host';
import { backingKeySelector } from '../../main/keys/backing-key';
import { kmsuserPinOf } from '../fixtures/cmk';
import { createCmkStore } from '../fixtures/cmk-store';
import { openDirectSession } from '../fixtures/token-objects';
import { interleave, median, type Benchmark, type BenchRow } from './harness';

const PLAINTEXT_BYTES = 4096;
/** Calls per timed batch, and how many the concurrent cases keep in flight. */
const BATCH = 400;
const IN_FLIGHT = 8;
/** Timed rounds after one warm-up round; the cases alternate within each round. */
const RUNS = 5;
/** AWS's per-key-store request quota for custom key stores, the throughput goal. */
const GOAL_OPS_PER_S = 1_800;
const NAME = `encrypt/decrypt ${PLAINTEXT_BYTES / 1024} KiB, batches of ${BATCH}`;

/** The floor's AES-256-GCM mechanism: a fresh IV (from Node: the core's come from the HSM, pooled) and an AAD. */
function rawGcm(iv: Buffer, aad: Buffer): pkcs11js.Mechanism {
  return { mechanism: pkcs11js.CKM_AES_GCM, parameter: { type: pkcs11js.CK_PARAMS_GCM, iv, ivBits: iv.length * 8, aad, tagBits: 128 } as pkcs11js.GcmParams };
}

async function inFlight(count: number, calls: number, call: () => Promise<void>): Promise<void> {
  let left = calls;
  await Promise.all(
    Array.from({ length: count }, async () => {
      while (left > 0) {
        left -= 1;
        await call();
      }
    }),
  );
}

function value<T>(result: Result<unknown>): T {
  if (!result.ok) throw new Error(`${result.error.name}: ${result.error.message}`);
  return result.value as T;
}

/** The same mechanism as the host carries it (hex for binary). */
function hostGcm(iv: Buffer, aad: Buffer): Mechanism {
  return { mechanism: 'CKM_AES_GCM', params: { kind: 'aes-gcm', iv: iv.toString('hex'), aad: aad.toString('hex'), tagBits: 128 } };
}

/**
 * Encrypt and Decrypt of 4 KiB through the core as the GUI runs it (one process holding the store's kmsuser
 * sessions, calls dispatched like the renderer's), serially and with 8 in flight, against the floor: C_EncryptInit +
 * C_Encrypt (C_DecryptInit + C_Decrypt) with pkcs11js directly on the same token, AES-256-GCM, no state, no IPC.
 * Ratios are per call; the 8-in-flight rows are measured against AWS's 1,800 ops/s per key store.
 * The (e) rows are the isolation boundary alone (DESIGN: PKCS#11 runs in a supervised child so a hanging module cannot
 * freeze the app): a round trip to an HSM host child with nothing to carry, and the floor's C_Encrypt made through one.
 */
export function cryptoThroughput(childEntry: string): Benchmark {
  return {
    name: NAME,
    async run(): Promise<BenchRow[]> {
      const store = await createCmkStore({ keys: 1 });
      try {
        const [key] = store.keys;
        if (key === undefined) throw new Error('no key');
        const plaintext = randomBytes(PLAINTEXT_BYTES);
        const context = { bench: 'crypto' };
        let calls = 0;
        const encrypt = async (): Promise<string> =>
          value<z.infer<typeof EncryptResponse>>(await store.wb.core.dispatch('Encrypt', { KeyId: key.KeyId, Plaintext: plaintext.toString('base64'), EncryptionContext: context }, { callId: `bench-${(calls += 1)}` })).CiphertextBlob;
        const blob = await encrypt();
        const expected = plaintext.toString('base64');
        const decrypt = async (): Promise<void> => {
          const opened = value<z.infer<typeof DecryptResponse>>(await store.wb.core.dispatch('Decrypt', { CiphertextBlob: blob, EncryptionContext: context }, { callId: `bench-${(calls += 1)}` }));
          if (opened.Plaintext !== expected) throw new Error('Decrypt returned another plaintext');
        };

        const pin = await kmsuserPinOf(store.wb, store.storeId);
        const direct = openDirectSession(store.hsm.modulePath, store.hsm.env, store.hsm.tokens[0]?.slotId ?? '', pin);
        const pool = createHsmHostPool({ childEntry });
        try {
          const selector = backingKeySelector(key);
          direct.lib.C_FindObjectsInit(direct.session, [
            { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
            { type: pkcs11js.CKA_LABEL, value: selector.label ?? '' },
            { type: pkcs11js.CKA_ID, value: Buffer.from(selector.id ?? '', 'hex') },
          ]);
          const [handle] = direct.lib.C_FindObjects(direct.session, 2);
          direct.lib.C_FindObjectsFinal(direct.session);
          if (handle === undefined) throw new Error('the floor found no key');
          const aad = Buffer.alloc(40);
          const out = Buffer.alloc(PLAINTEXT_BYTES + 16);
          let sealed = Buffer.alloc(0);
          let sealedIv = Buffer.alloc(12);
          const rawEncrypt = (): void => {
            sealedIv = randomBytes(12);
            direct.lib.C_EncryptInit(direct.session, rawGcm(sealedIv, aad), handle);
            sealed = Buffer.from(direct.lib.C_Encrypt(direct.session, plaintext, out));
          };
          rawEncrypt();
          const rawDecrypt = (): void => {
            direct.lib.C_DecryptInit(direct.session, rawGcm(sealedIv, aad), handle);
            direct.lib.C_Decrypt(direct.session, sealed, Buffer.alloc(sealed.length));
          };
          const host = pool.get({ ModulePath: store.hsm.modulePath, ModuleEnvironment: store.hsm.env });
          const ref = await host.openSession(store.hsm.tokens[0]?.slotId ?? '');
          await host.login(ref, 'USER', pin);
          const [hostKey] = await host.findObjects(ref, { template: backingKeySelector(key), attributes: ['handle'] });
          if (hostKey?.handle === undefined) throw new Error('the host found no key');
          const hostHandle = hostKey.handle;
          const plaintextHex = plaintext.toString('hex');
          const hostEncrypt = async (): Promise<void> => {
            Buffer.from(await host.encrypt(ref, hostGcm(randomBytes(12), aad), hostHandle, plaintextHex), 'hex');
          };
          const serial = async (call: () => unknown): Promise<void> => {
            for (let i = 0; i < BATCH; i += 1) await call();
          };
          const cases = [
            { name: 'raw encrypt', fn: () => serial(rawEncrypt) },
            { name: 'raw decrypt', fn: () => serial(rawDecrypt) },
            { name: 'core encrypt', fn: () => serial(encrypt), monitorEventLoop: true },
            { name: 'core decrypt', fn: () => serial(decrypt), monitorEventLoop: true },
            { name: 'core encrypt ×8', fn: () => inFlight(IN_FLIGHT, BATCH, async () => void (await encrypt())), monitorEventLoop: true },
            { name: 'core decrypt ×8', fn: () => inFlight(IN_FLIGHT, BATCH, decrypt), monitorEventLoop: true },
            { name: 'host round trip', fn: () => serial(() => host.getSessionInfo(ref)) },
            { name: 'host encrypt', fn: () => serial(hostEncrypt) },
          ];
          const results = await interleave(RUNS, cases);
          const ms = results.map((r) => median(r.samples));
          const [rawEnc = NaN, rawDec = NaN, coreEnc = NaN, coreDec = NaN, coreEnc8 = NaN, coreDec8 = NaN, hop = NaN, hostEnc = NaN] = ms;
          const opsPerS = (batchMs: number): string => `${Math.round((BATCH * 1000) / batchMs).toLocaleString('en')} ops/s`;
          const budgetMs = (BATCH * 1000) / GOAL_OPS_PER_S;
          const delay = (i: number): number | undefined => results[i]?.maxEventLoopDelayMs;
          return [
            { benchmark: NAME, case: '(a) raw C_EncryptInit + C_Encrypt (floor)', medianMs: rawEnc, note: opsPerS(rawEnc) },
            { benchmark: NAME, case: '(a) raw C_DecryptInit + C_Decrypt (floor)', medianMs: rawDec, note: opsPerS(rawDec) },
            { benchmark: NAME, case: '(b) core Encrypt, serial', medianMs: coreEnc, floorMs: rawEnc, goalRatio: 3, maxEventLoopDelayMs: delay(2), note: opsPerS(coreEnc) },
            { benchmark: NAME, case: '(b) core Decrypt, serial', medianMs: coreDec, floorMs: rawDec, goalRatio: 3, maxEventLoopDelayMs: delay(3), note: opsPerS(coreDec) },
            { benchmark: NAME, case: `(c) core Encrypt, ${IN_FLIGHT} in flight`, medianMs: coreEnc8, floorMs: rawEnc, goalRatio: 3, maxEventLoopDelayMs: delay(4), note: opsPerS(coreEnc8) },
            { benchmark: NAME, case: `(c) core Decrypt, ${IN_FLIGHT} in flight`, medianMs: coreDec8, floorMs: rawDec, goalRatio: 3, maxEventLoopDelayMs: delay(5), note: opsPerS(coreDec8) },
            { benchmark: NAME, case: `(d) core Encrypt, ${IN_FLIGHT} in flight vs ${GOAL_OPS_PER_S.toLocaleString('en')} ops/s`, medianMs: coreEnc8, floorMs: budgetMs, goalRatio: 1, note: `floor = ${BATCH} calls at AWS's per-store quota` },
            { benchmark: NAME, case: `(d) core Decrypt, ${IN_FLIGHT} in flight vs ${GOAL_OPS_PER_S.toLocaleString('en')} ops/s`, medianMs: coreDec8, floorMs: budgetMs, goalRatio: 1, note: `floor = ${BATCH} calls at AWS's per-store quota` },
            { benchmark: NAME, case: '(e) HSM host round trip (getSessionInfo), serial', medianMs: hop, floorMs: rawEnc, note: `${opsPerS(hop)}; the process hop alone` },
            { benchmark: NAME, case: '(e) raw C_Encrypt through the HSM host, serial', medianMs: hostEnc, floorMs: rawEnc, note: `${opsPerS(hostEnc)}; no core, no state` },
          ];
        } finally {
          await pool.disposeAll();
          direct.close();
        }
      } finally {
        await store.dispose();
      }
    },
  };
}
