import { describe, expect, expectTypeOf, it } from 'vitest';
import { createWorkbenchApi, type WorkbenchApi, type WorkbenchTransport } from '../api';
import { ERROR_NAMES, type Result } from '../errors';
import type { ClusterCheckReport, CheckClusterProgress } from './checks';
import type { ClusterInfo } from './clusters';
import { CreateClusterRequest } from './clusters';
import { ModuleRef } from './hsm';
import { operations, OPERATION_NAMES, type OperationSpec, type ResponseOf } from './operations';

describe('the contract', () => {
  it('pins the API types derived from the schemas', () => {
    expectTypeOf<ResponseOf<'CreateCluster'>>().toEqualTypeOf<{ Cluster: ClusterInfo }>();
    expectTypeOf<WorkbenchApi['clusters']['check']>().parameter(0).toEqualTypeOf<{ ClusterId: string; KmsuserPassword?: string | undefined }>();
    expectTypeOf<WorkbenchApi['clusters']['check']>().returns.toEqualTypeOf<Promise<Result<{ Report: ClusterCheckReport }>>>();
    expectTypeOf<NonNullable<Parameters<WorkbenchApi['clusters']['check']>[1]>['onProgress']>().toEqualTypeOf<((p: CheckClusterProgress) => void) | undefined>();
  });

  it('declares each operation once, with a unique domain.method and known error names', () => {
    const methods = OPERATION_NAMES.map((n) => `${operations[n].domain}.${operations[n].method}`);
    expect(new Set(methods).size).toBe(methods.length);
    for (const name of OPERATION_NAMES) {
      expect(operations[name].name).toBe(name);
      for (const e of operations[name].errors) expect(ERROR_NAMES).toContain(e);
    }
  });

  it('marks every request field that can hold a secret', () => {
    for (const name of OPERATION_NAMES) {
      const spec: OperationSpec = operations[name];
      const shape = (spec.request as { shape?: Record<string, unknown> }).shape ?? {};
      // Pin at the end of a name (SoPin), not inside one (WrappingKeySpec).
      const secretish = Object.keys(shape).filter((k) => /password|pin$|secret/i.test(k));
      expect(spec.secretFields ?? []).toEqual(expect.arrayContaining(secretish));
    }
  });

  it('declares the six AWS key store operations for the kms CLI, their password secret, the connection answers {}', () => {
    const kms = OPERATION_NAMES.filter((n) => (operations[n] as OperationSpec).awsService === 'kms' && operations[n].domain === 'keyStores');
    expect(kms.sort()).toEqual(['ConnectCustomKeyStore', 'CreateCustomKeyStore', 'DeleteCustomKeyStore', 'DescribeCustomKeyStores', 'DisconnectCustomKeyStore', 'UpdateCustomKeyStore']);
    expect(operations.CreateCustomKeyStore.secretFields).toEqual(['KeyStorePassword']);
    expect(operations.UpdateCustomKeyStore.secretFields).toEqual(['KeyStorePassword']);
    expectTypeOf<ResponseOf<'ConnectCustomKeyStore'>>().toEqualTypeOf<Record<string, never>>();
    expect(operations.DescribeCustomKeyStores.request.safeParse({ CustomKeyStoreId: 'cks-1', CustomKeyStoreName: 'x' }).error?.issues[0]?.message).toBe(
      'give CustomKeyStoreId or CustomKeyStoreName, not both',
    );
  });

  it("bounds ImportKeyMaterial's blobs at AWS's 6144 bytes, so a refused request is not audited at any size", () => {
    const request = { KeyId: 'k', ImportToken: 'A'.repeat(8192), EncryptedKeyMaterial: 'AAAA' };
    expect(operations.ImportKeyMaterial.request.safeParse(request).success).toBe(true);
    expect(operations.ImportKeyMaterial.request.safeParse({ ...request, ImportToken: 'A'.repeat(8196) }).success).toBe(false);
    expect(operations.ImportKeyMaterial.request.safeParse({ ...request, EncryptedKeyMaterial: 'A'.repeat(8196) }).success).toBe(false);
  });

  it('refuses a token chosen twice', () => {
    const parsed = CreateClusterRequest.safeParse({ ClusterName: 'x', ModulePath: '/m.so', Hsms: [{ TokenSerial: 'a' }, { TokenSerial: 'a' }] });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.path).toEqual(['Hsms', 1]);
  });

  it('refuses a serial chosen twice in different case', () => {
    const parsed = CreateClusterRequest.safeParse({ ClusterName: 'x', ModulePath: '/m.so', Hsms: [{ TokenSerial: '9f3a' }, { TokenSerial: '9F3A' }] });
    expect(parsed.error?.issues.map((i) => [i.path, i.message])).toEqual([[['Hsms', 1], 'token serial 9F3A is chosen twice']]);
  });

  it('reports an empty name once, as required', () => {
    for (const ClusterName of ['', '   ']) {
      const parsed = CreateClusterRequest.safeParse({ ClusterName, ModulePath: '/m.so', Hsms: [{ TokenSerial: 'a' }] });
      expect(parsed.error?.issues.map((i) => i.message)).toEqual(['ClusterName is required']);
    }
  });

  describe('names hold printable text only', () => {
    const unsafe: Array<[string, string]> = [
      ['ESC (C0)', '\u001b'],
      ['BEL (C0)', '\u0007'],
      ['DEL', '\u007f'],
      ['CSI (C1)', '\u009b'],
      ['NEL (C1)', '\u0085'],
      ['right-to-left override', '\u202e'],
      ['left-to-right embedding', '\u202a'],
      ['first strong isolate', '\u2068'],
      ['pop directional isolate', '\u2069'],
      ['line separator', '\u2028'],
      ['paragraph separator', '\u2029'],
    ];
    const request = (name: string, selector: Record<string, string>): unknown => ({ ClusterName: name, ModulePath: '/m.so', Hsms: [selector] });

    it.each(unsafe)('refuses %s in ClusterName, TokenLabel and TokenSerial, naming the character', (_what, char) => {
      const code = `U+${(char.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
      for (const [req, field] of [
        [request(`ev${char}il`, { TokenSerial: 'a' }), 'ClusterName'],
        [request('ok', { TokenLabel: `ev${char}il` }), 'TokenLabel'],
        [request('ok', { TokenSerial: `ab${char}` }), 'TokenSerial'],
      ] as const) {
        const issues = CreateClusterRequest.safeParse(req).error?.issues ?? [];
        expect(issues.map((i) => i.message), field).toEqual([expect.stringContaining(`${field} has an invisible or control character (${code} at position 3)`)]);
      }
    });

    it('keeps names in any script, with spaces and punctuation', () => {
      const parsed = CreateClusterRequest.safeParse(request('Zürich prod – 東京 (שלום) №2', { TokenLabel: 'HSM «A»' }));
      expect(parsed.success).toBe(true);
    });

    it('tells how to choose a token whose own label has control characters', () => {
      const issues = CreateClusterRequest.safeParse(request('ok', { TokenLabel: '\u001b[31mEVIL' })).error?.issues ?? [];
      expect(issues[0]?.message).toMatch(/choose that token by its TokenSerial instead/);
    });
  });

  describe('a module environment configures the module, not the HSM host', () => {
    const env = (ModuleEnvironment: Record<string, string>): ReturnType<typeof ModuleRef.safeParse> => ModuleRef.safeParse({ ModulePath: '/m.so', ModuleEnvironment });

    it.each([
      ['NODE_OPTIONS', '--require /tmp/x.js', /configures Node\.js in the HSM host/],
      ['NODE_PATH', '/tmp', /configures Node\.js/],
      ['NODE_EXTRA_CA_CERTS', '/tmp/ca.pem', /configures Node\.js/],
      ['node_options', '--require /tmp/x.js', /configures Node\.js/],
      ['UV_THREADPOOL_SIZE', '1', /configures Node\.js/],
      ['LD_PRELOAD', '/tmp/x.so', /configures the dynamic loader/],
      ['LD_LIBRARY_PATH', '/tmp', /configures the dynamic loader/],
      ['LD_AUDIT', '/tmp/x.so', /configures the dynamic loader/],
      ['DYLD_INSERT_LIBRARIES', '/tmp/x.dylib', /configures the dynamic loader/],
      ['GLIBC_TUNABLES', 'glibc.malloc.check=3', /configures the dynamic loader/],
      ['ELECTRON_RUN_AS_NODE', '1', /configures Electron/],
    ])('refuses %s, naming it and where to set it instead', (name, value, why) => {
      const issues = env({ SOFTHSM2_CONF: '/tmp/s.conf', [name]: value }).error?.issues ?? [];
      expect(issues.map((i) => i.path)).toEqual([['ModuleEnvironment', name]]);
      expect(issues[0]?.message).toMatch(why);
      expect(issues[0]?.message).toMatch(new RegExp(`^${name} .*set it in the environment the workbench is started in`));
    });

    it('keeps what modules read', () => {
      const kept = { SOFTHSM2_CONF: '/tmp/s.conf', P11_KIT_SERVER_ADDRESS: 'unix:path=/run/p11.sock', PATH: '/usr/bin', HOME: '/home/a', OPENSSL_CONF: '/etc/ssl/o.cnf', ChrystokiConfigurationPath: '/etc', NODENAME: 'x', LDAP_URI: 'ldap://x' };
      expect(env(kept)).toMatchObject({ success: true, data: { ModuleEnvironment: kept } });
    });

    it.each(['HSM_PASSWORD', 'SO_PIN', 'pin', 'VENDOR_PASSPHRASE', 'CLIENT_SECRET', 'HSM_PASS'])('refuses %s: a secret would be stored and shown in clear', (name) => {
      const issues = env({ [name]: 'x' }).error?.issues ?? [];
      expect(issues.map((i) => i.path)).toEqual([['ModuleEnvironment', name]]);
      expect(issues[0]?.message).toMatch(/looks like it holds a PIN or password, .*stored in the state file and shown in clear/);
    });

    it('keeps names that merely contain the letters of a secret word', () => {
      const kept = { SHIPPING_MODE: '1', SPINNER: 'x', PINNED_SLOT: '0', COMPASS_DIR: '/x' };
      expect(env(kept)).toMatchObject({ success: true });
    });

    it('refuses a NUL in a value (the OS would cut it, and the host could not start)', () => {
      const issues = env({ SOFTHSM2_CONF: '/tmp/s.conf\u0000x' }).error?.issues ?? [];
      expect(issues.map((i) => [i.path, i.message])).toEqual([[['ModuleEnvironment', 'SOFTHSM2_CONF'], 'environment values cannot hold a NUL character']]);
    });

    it('refuses a p11-kit server address that is a command', () => {
      const issues = env({ P11_KIT_SERVER_ADDRESS: '|ssh hsm-host p11-kit remote pkcs11:' }).error?.issues ?? [];
      expect(issues.map((i) => i.path)).toEqual([['ModuleEnvironment', 'P11_KIT_SERVER_ADDRESS']]);
      expect(issues[0]?.message).toMatch(/makes p11-kit's client run a command/);
    });
  });

  it('builds window.workbench from the table, routing calls and progress by call id', async () => {
    const seen: Array<[string, unknown, string]> = [];
    let listener: ((p: unknown) => void) | undefined;
    const transport: WorkbenchTransport = {
      invoke: async (operation, request, callId) => {
        seen.push([operation, request, callId]);
        listener?.({ Completed: 1 });
        return { ok: true, value: { echoed: operation } };
      },
      onProgress: (_callId, l) => {
        listener = l;
        return () => (listener = undefined);
      },
    };
    const api = createWorkbenchApi(transport);
    expect(Object.keys(api).sort()).toEqual(['aliases', 'clusters', 'crypto', 'demo', 'events', 'hsm', 'keyStores', 'keys', 'kmsuser', 'system']);
    const progress: unknown[] = [];
    const result = await api.clusters.check({ ClusterId: 'cluster-aaaaaaaaaaa' }, { callId: 'c1', onProgress: (p) => progress.push(p) });
    expect(result).toEqual({ ok: true, value: { echoed: 'CheckCluster' } });
    expect(seen).toEqual([['CheckCluster', { ClusterId: 'cluster-aaaaaaaaaaa' }, 'c1']]);
    expect(progress).toEqual([{ Completed: 1 }]);
    expect(listener).toBeUndefined();
  });

  it('turns a broken transport into an error result instead of a rejection', async () => {
    const api = createWorkbenchApi({ invoke: () => Promise.reject(new Error('window closed')), onProgress: () => () => undefined });
    const result = await api.system.describe({});
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.message).toMatch(/window closed/);
  });
});
