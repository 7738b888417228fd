import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { operations, OPERATION_NAMES, type OperationSpec } from '../../shared/contract/operations';
import { WorkbenchError, type ErrorInfo } from '../../shared/errors';
import { buildProgram } from './cli';
import { addKmsCommands, requestMembers, xformName, type KmsSession } from './kms-commands';
import type { OutputFormat } from './output';
import { applyQuery, parseQuery } from './query';

// A small table in the shape of KMS's own, so the generator is tested before (and apart from) the real operations.
const CreateThingRequest = z
  .object({
    CustomKeyStoreName: z.string().min(1).describe('a friendly name for the store'),
    CloudHsmClusterId: z.string().optional().describe('the cluster'),
    TrustAnchorCertificate: z.string().optional().describe('the trust anchor, PEM'),
    KeyStorePassword: z.string().optional(),
    Limit: z.number().int().optional(),
    DryRun: z.boolean().optional(),
    CustomKeyStoreType: z.enum(['AWS_CLOUDHSM', 'EXTERNAL_KEY_STORE']).default('AWS_CLOUDHSM'),
    Tags: z.array(z.object({ TagKey: z.string(), TagValue: z.string() })).optional(),
    Plaintext: z.base64().optional().describe('data'),
    TagKeys: z.array(z.string()).optional(),
    EncryptionContext: z.record(z.string(), z.string()).optional(),
    Policies: z.array(z.object({ Name: z.string(), Size: z.number() })).optional(),
  })
  .describe('create a thing');
const IdRequest = z.object({ CustomKeyStoreId: z.string().min(1).describe('the store') });
const spec = (name: string, request: z.ZodType, extra: Partial<OperationSpec> = {}): OperationSpec => ({
  name,
  domain: 'things',
  method: name,
  request,
  response: z.object({}),
  errors: [],
  readOnly: false,
  awsService: 'kms',
  ...extra,
});
const TABLE: Record<string, OperationSpec> = {
  CreateThing: spec('CreateThing', CreateThingRequest, { secretFields: ['KeyStorePassword'] }),
  ConnectThing: spec('ConnectThing', IdRequest.describe('connect a thing'), {
    cli: {
      wait: {
        operation: 'DescribeThings',
        requestMembers: ['CustomKeyStoreId'],
        path: ['CustomKeyStores', 0, 'ConnectionState'],
        success: ['CONNECTED'],
        failure: ['FAILED'],
        reason: { path: ['CustomKeyStores', 0, 'ConnectionErrorCode'], explanations: { USER_NOT_FOUND: { explanation: 'An HSM has no kmsuser.', remedy: 'Create it.' } } },
        delayMs: 5,
        timeoutMs: 200,
      },
    },
  }),
  LoginThing: spec('LoginThing', z.object({ Password: z.string().min(7) }), { secretFields: ['Password'] }),
  DescribeThings: spec('DescribeThings', z.object({ CustomKeyStoreId: z.string().optional(), Limit: z.number().int().optional(), Marker: z.string().optional() }), {
    readOnly: true,
    cli: { paginate: { inputToken: 'Marker', outputToken: 'NextMarker', moreResults: 'Truncated', limitKey: 'Limit', resultKey: 'CustomKeyStores' } },
  }),
  // Not a KMS operation: no command.
  ListSlots: { ...spec('ListSlots', z.object({})), awsService: undefined },
};

class Exit extends Error {
  constructor(readonly error: ErrorInfo) {
    super(error.message);
  }
}

interface Run {
  calls: Array<{ operation: string; request: Record<string, unknown> }>;
  stdout: string;
  stderr: string;
  failure: ErrorInfo | undefined;
  usage: CommanderError | undefined;
}

/** Runs `hsm-workbench kms …argv` over TABLE with a recording session: `respond` answers each call. */
async function run(argv: string[], options: { format?: OutputFormat; query?: string; stdin?: string; respond?: (operation: string, n: number, request: Record<string, unknown>) => unknown } = {}): Promise<Run> {
  const result: Run = { calls: [], stdout: '', stderr: '', failure: undefined, usage: undefined };
  const session: KmsSession = {
    format: options.format ?? 'table',
    select: (response) => {
      try {
        return options.query === undefined ? response : applyQuery(response, options.query);
      } catch (error) {
        throw error instanceof WorkbenchError ? new Exit(error.toInfo()) : error;
      }
    },
    invoke: (operation, request) => {
      result.calls.push({ operation, request });
      return Promise.resolve(options.respond?.(operation, result.calls.filter((c) => c.operation === operation).length, request) ?? {});
    },
    fail: (error) => {
      throw new Exit(error);
    },
  };
  const program = new Command('hsm-workbench')
    .exitOverride()
    .configureHelp({ helpWidth: 200 })
    .configureOutput({ writeOut: (t) => (result.stdout += t), writeErr: (t) => (result.stderr += t) });
  addKmsCommands(program.command('kms'), TABLE, {
    action: (fn) => (opts) => fn(session, opts),
    stdin: Readable.from([options.stdin ?? '']) as unknown as NodeJS.ReadStream,
    stdout: (t) => (result.stdout += t),
    stderr: (t) => (result.stderr += t),
  });
  try {
    await program.parseAsync(['kms', ...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof Exit) result.failure = error.error;
    else if (error instanceof CommanderError) result.usage = error;
    else throw error;
  }
  return result;
}

describe('kms commands generated from the contract', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kms-cli-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('names commands and flags as botocore xform_name does (checked against botocore 1.43.11 on all 134 KMS names)', () => {
    const botocore: Record<string, string> = {
      CreateCustomKeyStore: 'create-custom-key-store',
      DescribeCustomKeyStores: 'describe-custom-key-stores',
      GenerateDataKeyWithoutPlaintext: 'generate-data-key-without-plaintext',
      CustomKeyStoreName: 'custom-key-store-name',
      CloudHsmClusterId: 'cloud-hsm-cluster-id',
      XksProxyUriEndpoint: 'xks-proxy-uri-endpoint',
      NumberOfBytes: 'number-of-bytes',
      AWSAccountId: 'aws-account-id',
      KeyARNs: 'key-arns',
      SSEKMSKeyId: 'ssekms-key-id',
      Ipv6Address: 'ipv6-address',
    };
    for (const [name, flag] of Object.entries(botocore)) expect(xformName(name), name).toBe(flag);
  });

  it('reads each member kind, whether it is required and its help from the request schema', () => {
    const members = requestMembers(TABLE.CreateThing as OperationSpec);
    expect(members.map((m) => [m.flag, m.kind.type, m.required, m.secret])).toEqual([
      ['custom-key-store-name', 'string', true, false],
      ['cloud-hsm-cluster-id', 'string', false, false],
      ['trust-anchor-certificate', 'string', false, false],
      ['key-store-password', 'string', false, true],
      ['limit', 'number', false, false],
      ['dry-run', 'boolean', false, false],
      // A default makes a member optional on the way in.
      ['custom-key-store-type', 'enum', false, false],
      ['tags', 'structList', false, false],
      ['plaintext', 'blob', false, false],
      ['tag-keys', 'stringList', false, false],
      ['encryption-context', 'stringMap', false, false],
      // Shorthand is for flat structures of strings; anything else stays JSON.
      ['policies', 'json', false, false],
    ]);
    expect(members[0]?.description).toBe('a friendly name for the store');
  });

  it('lists the KMS operations under kms --help, and only those, with their descriptions', async () => {
    const help = await run(['--help']);
    expect(help.usage?.exitCode).toBe(0);
    expect(help.stdout).toMatch(/create-thing \[options\]\s+create a thing/);
    expect(help.stdout).toMatch(/connect-thing \[options\]\s+connect a thing/);
    expect(help.stdout).toContain('describe-things');
    expect(help.stdout).not.toContain('list-slots');
  });

  it('shows every flag with its help, choices, and a secret only in its -stdin form', async () => {
    const help = (await run(['create-thing', '--help'])).stdout;
    expect(help).toMatch(/--custom-key-store-name <value>\s+a friendly name for the store/);
    expect(help).toMatch(/--custom-key-store-type <value>\s+CustomKeyStoreType \(choices: "AWS_CLOUDHSM", "EXTERNAL_KEY_STORE"\)/);
    expect(help).toMatch(/--dry-run\s/);
    expect(help).toMatch(/--no-dry-run\s/);
    expect(help).toMatch(/--plaintext <value>\s+data \(base64, or fileb:\/\/path\)/);
    expect(help).toMatch(/--key-store-password-stdin\s+read KeyStorePassword from stdin/);
    expect(help).not.toMatch(/--key-store-password[ [<]/);
    expect((await run(['connect-thing', '--help'])).stdout).toMatch(/--no-wait\s+return as soon as the operation has started/);
  });

  it('maps argv to the request by member name, with each kind parsed', async () => {
    const r = await run([
      'create-thing',
      '--custom-key-store-name',
      'ExampleKeyStore',
      '--cloud-hsm-cluster-id',
      'cluster-1a23b4cdefg',
      '--limit',
      '10',
      '--no-dry-run',
      '--custom-key-store-type',
      'AWS_CLOUDHSM',
      '--tags',
      '[{"TagKey":"Dept","TagValue":"IT"}]',
      '--plaintext',
      'aGVsbG8=',
    ]);
    expect(r.failure ?? r.usage).toBeUndefined();
    expect(r.calls).toEqual([
      {
        operation: 'CreateThing',
        request: {
          CustomKeyStoreName: 'ExampleKeyStore',
          CloudHsmClusterId: 'cluster-1a23b4cdefg',
          Limit: 10,
          DryRun: false,
          CustomKeyStoreType: 'AWS_CLOUDHSM',
          Tags: [{ TagKey: 'Dept', TagValue: 'IT' }],
          Plaintext: 'aGVsbG8=',
        },
      },
    ]);
    expect((await run(['create-thing', '--custom-key-store-name', 'x', '--dry-run'])).calls[0]?.request).toEqual({ CustomKeyStoreName: 'x', DryRun: true });
  });

  it('refuses a missing required member, a bad number, bad JSON and a value outside the choices, calling nothing', async () => {
    for (const [argv, message] of [
      [['create-thing'], /required option '--custom-key-store-name <value>' not specified/],
      [['create-thing', '--custom-key-store-name', 'x', '--limit', 'ten'], /Expected a whole number for Limit/],
      [['create-thing', '--custom-key-store-name', 'x', '--limit', '1.5'], /Expected a whole number for Limit/],
      [['create-thing', '--custom-key-store-name', 'x', '--tags', '[oops'], /Expected JSON text for Tags/],
      [['create-thing', '--custom-key-store-name', 'x', '--custom-key-store-type', 'OTHER'], /Allowed choices are AWS_CLOUDHSM, EXTERNAL_KEY_STORE/],
    ] as const) {
      const r = await run([...argv]);
      expect(r.usage?.exitCode, argv.join(' ')).toBe(1);
      expect(r.stderr).toMatch(message);
      expect(r.calls).toEqual([]);
    }
  });

  describe('shorthand, as the AWS CLI takes it', () => {
    const base = ['create-thing', '--custom-key-store-name', 'x'];
    const request = async (argv: string[]): Promise<Record<string, unknown> | undefined> => {
      const r = await run([...base, ...argv]);
      expect(r.failure ?? r.usage, argv.join(' ')).toBeUndefined();
      return r.calls[0]?.request;
    };

    it('takes a list of structures one per argument, in shorthand or JSON, across repeated flags', async () => {
      const tags = [
        { TagKey: 'Purpose', TagValue: 'test' },
        { TagKey: 'Team', TagValue: 'a,b' },
      ];
      expect((await request(['--tags', 'TagKey=Purpose,TagValue=test', 'TagKey=Team,TagValue="a,b"']))?.Tags).toEqual(tags);
      expect((await request(['--tags', 'TagKey=Purpose,TagValue=test', '--tags', 'TagKey=Team,TagValue=a\\,b']))?.Tags).toEqual(tags);
      expect((await request(['--tags', JSON.stringify(tags)]))?.Tags).toEqual(tags);
      expect((await request(['--tags', '{"TagKey":"Purpose","TagValue":"test"}', 'TagKey=Team,TagValue=a\\,b']))?.Tags).toEqual(tags);
      // An empty TagValue is a value.
      expect((await request(['--tags', 'TagKey=Empty,TagValue=']))?.Tags).toEqual([{ TagKey: 'Empty', TagValue: '' }]);
      // The option ends where the next flag starts.
      expect(await request(['--tags', 'TagKey=k,TagValue=v', '--limit', '3'])).toMatchObject({ Tags: [{ TagKey: 'k', TagValue: 'v' }], Limit: 3 });
    });

    it('takes a list of strings one per argument, or as a JSON list', async () => {
      expect((await request(['--tag-keys', 'Purpose', 'Team']))?.TagKeys).toEqual(['Purpose', 'Team']);
      expect((await request(['--tag-keys', '["Purpose","Team"]']))?.TagKeys).toEqual(['Purpose', 'Team']);
    });

    it('takes a map as k=v pairs, JSON text, or a file:// holding either', async () => {
      const context = { purpose: 'test', team: 'x=y' };
      expect((await request(['--encryption-context', 'purpose=test,team=x=y']))?.EncryptionContext).toEqual(context);
      expect((await request(['--encryption-context', JSON.stringify(context)]))?.EncryptionContext).toEqual(context);
      await writeFile(join(dir, 'context.json'), JSON.stringify(context));
      expect((await request(['--encryption-context', `file://${join(dir, 'context.json')}`]))?.EncryptionContext).toEqual(context);
      await writeFile(join(dir, 'context.txt'), 'purpose=test, team = "x=y"\n');
      expect((await request(['--encryption-context', `file://${join(dir, 'context.txt')}`]))?.EncryptionContext).toEqual(context);
    });

    it('refuses malformed shorthand as a usage error saying what is wrong, calling nothing', async () => {
      for (const [argv, message] of [
        [['--tags', 'TagKey=a,b'], /Tags: Expected key=value at character 10, found "b" with no "="/],
        [['--tags', 'TagKey=a,Colour=b'], /Tags: Unknown parameter "Colour", must be one of: TagKey, TagValue\./],
        [['--tags', 'TagKey=a,TagKey=b'], /Tags: The key TagKey is given twice\./],
        [['--tags', 'TagKey="a,TagValue=b'], /Tags: The value quoted at character 8 has no closing "/],
        [['--tags', '=a'], /Tags: Expected a key before the "=" at character 1\./],
        [['--encryption-context', 'purpose'], /EncryptionContext: Expected key=value at character 1, found "purpose" with no "="/],
        [['--encryption-context', '{"purpose":'], /Expected JSON text for EncryptionContext/],
        [['--tag-keys', '["a",'], /Expected JSON text for TagKeys/],
      ] as const) {
        const r = await run([...base, ...argv]);
        expect(r.usage?.exitCode, argv.join(' ')).toBe(1);
        expect(r.stderr, argv.join(' ')).toMatch(message);
        expect(r.calls).toEqual([]);
      }
    });

    it('says in the help how each kind is written', async () => {
      const help = (await run(['create-thing', '--help'])).stdout;
      expect(help).toMatch(/--tags <value\.\.\.>\s+Tags \(one or more, each TagKey=string,TagValue=string, or JSON\)/);
      expect(help).toMatch(/--tag-keys <value\.\.\.>\s+TagKeys \(one or more values, or a JSON list\)/);
      expect(help).toMatch(/--encryption-context <value>\s+EncryptionContext \(key1=value1,key2=value2, or JSON\)/);
    });
  });

  it('reads file:// as text and fileb:// as bytes (base64) for a blob; refuses fileb:// for text and names an unreadable file', async () => {
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    await writeFile(join(dir, 'customerCA.crt'), pem);
    const bytes = Buffer.from([0, 1, 2, 0xfe, 0xff, 0x0a]);
    await writeFile(join(dir, 'plain.bin'), bytes);
    const r = await run(['create-thing', '--custom-key-store-name', `file://${join(dir, 'customerCA.crt')}`, '--trust-anchor-certificate', `file://${join(dir, 'customerCA.crt')}`, '--plaintext', `fileb://${join(dir, 'plain.bin')}`]);
    expect(r.calls[0]?.request).toEqual({ CustomKeyStoreName: pem, TrustAnchorCertificate: pem, Plaintext: bytes.toString('base64') });

    const text = await run(['create-thing', '--custom-key-store-name', 'x', '--trust-anchor-certificate', `fileb://${join(dir, 'customerCA.crt')}`]);
    expect(text.stderr).toMatch(/fileb:\/\/ gives bytes, and TrustAnchorCertificate is text: use file:\/\//);
    const missing = await run(['create-thing', '--custom-key-store-name', 'x', '--trust-anchor-certificate', `file://${join(dir, 'nope.crt')}`]);
    expect(missing.stderr).toContain(`There is no file at ${join(dir, 'nope.crt')} (ENOENT)`);
    const unreadable = await run(['create-thing', '--custom-key-store-name', `file://${dir}`]);
    expect(unreadable.stderr).toContain(`Could not read ${dir}: it is a directory where a file belongs (EISDIR)`);
    expect([text.calls, missing.calls, unreadable.calls]).toEqual([[], [], []]);
  });

  it('reads a secret from its one line of stdin with its -stdin flag, refuses a second line, and reads nothing without the flag', async () => {
    const r = await run(['create-thing', '--custom-key-store-name', 'x', '--key-store-password-stdin'], { stdin: 'kmsuser-pw-1\n' });
    expect(r.calls[0]?.request).toEqual({ CustomKeyStoreName: 'x', KeyStorePassword: 'kmsuser-pw-1' });
    const twoLines = await run(['create-thing', '--custom-key-store-name', 'x', '--key-store-password-stdin'], { stdin: 'kmsuser-pw-1\nsecond line\n' });
    expect(twoLines.failure).toMatchObject({ name: 'ValidationException', message: expect.stringContaining('stdin holds 2 line(s) where 1 are expected') });
    expect(twoLines.calls).toEqual([]);
    expect(JSON.stringify(twoLines)).not.toMatch(/kmsuser-pw-1|second line/);
    expect((await run(['create-thing', '--custom-key-store-name', 'x'], { stdin: 'unread\n' })).calls[0]?.request).toEqual({ CustomKeyStoreName: 'x' });
    // A required secret makes its -stdin flag required.
    const login = await run(['login-thing']);
    expect(login.stderr).toMatch(/required option '--password-stdin' not specified/);
  });

  it('refuses a secret on argv as a usage error (exit 2) naming the -stdin form, before any other check, without echoing it or calling anything', async () => {
    for (const argv of [
      ['create-thing', '--custom-key-store-name', 'x', '--key-store-password', 'hunter22!'],
      ['create-thing', '--custom-key-store-name', 'x', '--key-store-password=hunter22!'],
      ['create-thing', '--custom-key-store-name', 'x', '--key-store-password'],
      // Even with a required option missing, and where the -stdin form is required.
      ['create-thing', '--key-store-password', 'hunter22!'],
      ['login-thing', '--password', 'hunter22!'],
    ]) {
      const r = await run(argv, { stdin: 'hunter22!\n' });
      expect(r.usage?.exitCode, argv.join(' ')).toBe(2);
      expect(r.usage?.code).toBe('hsm-workbench.secretOnCommandLine');
      expect(r.stderr).toMatch(/^error: --(key-store-)?password is not accepted: a value on the command line shows in ps and in shell history\. Pass --(key-store-)?password-stdin and write (KeyStorePassword|Password) to stdin/);
      expect(JSON.stringify(r)).not.toContain('hunter22');
      expect(r.calls).toEqual([]);
    }
  });

  it('prints an empty response as nothing in table mode and {} in JSON; a full one as AWS shapes it', async () => {
    const connect = ['connect-thing', '--custom-key-store-id', 'cks-1', '--no-wait'];
    expect((await run(connect)).stdout).toBe('');
    expect((await run(connect, { format: 'json' })).stdout).toBe('{}\n');
    const stores = { CustomKeyStores: [{ CustomKeyStoreId: 'cks-1', CustomKeyStoreName: 'Example', ConnectionState: 'DISCONNECTED' }] };
    const json = await run(['describe-things'], { format: 'json', respond: () => stores });
    expect(JSON.parse(json.stdout)).toEqual(stores);
    const table = await run(['describe-things'], { respond: () => stores });
    expect(table.stdout).toMatch(/^CustomKeyStores: 1\n┌/);
    expect(table.stdout).toMatch(/│ CustomKeyStoreName\s+│ Example\s+│/);
    expect((await run(['describe-things'], { respond: () => ({ CustomKeyStores: [] }) })).stdout).toBe('CustomKeyStores: none\n');
  });

  describe('--query and --output text', () => {
    const encrypted = { CiphertextBlob: 'AQIDBA==', KeyId: 'arn:aws:kms:local-1:111122223333:key/k1', EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
    const respond = (): unknown => encrypted;

    it('prints a selected string bare as text and in table mode, and as a JSON string with --output json', async () => {
      for (const format of ['text', 'table'] as const) expect((await run(['connect-thing', '--custom-key-store-id', 'k', '--no-wait'], { format, query: 'CiphertextBlob', respond })).stdout).toBe('AQIDBA==\n');
      expect((await run(['connect-thing', '--custom-key-store-id', 'k', '--no-wait'], { format: 'json', query: 'CiphertextBlob', respond })).stdout).toBe('"AQIDBA=="\n');
    });

    it('prints a whole response as the AWS CLI\'s text, and a multiselect one line per item', async () => {
      expect((await run(['connect-thing', '--custom-key-store-id', 'k', '--no-wait'], { format: 'text', respond })).stdout).toBe(`AQIDBA==\tSYMMETRIC_DEFAULT\t${encrypted.KeyId}\n`);
      const stores = { CustomKeyStores: [{ CustomKeyStoreId: 'cks-1', ConnectionState: 'CONNECTED' }, { CustomKeyStoreId: 'cks-2', ConnectionState: 'DISCONNECTED' }] };
      const listed = await run(['describe-things'], { format: 'text', query: 'CustomKeyStores[].[CustomKeyStoreId, ConnectionState]', respond: () => stores });
      expect(listed.stdout).toBe('cks-1\tCONNECTED\ncks-2\tDISCONNECTED\n');
      // Applied to the merged pages, as the AWS CLI applies it to the merged result.
      expect((await run(['describe-things'], { format: 'text', query: 'length(CustomKeyStores)', respond: () => stores })).stdout).toBe('2\n');
    });

    it('prints None for what the expression does not find, nothing for an empty list as text', async () => {
      expect((await run(['connect-thing', '--custom-key-store-id', 'k', '--no-wait'], { format: 'text', query: 'NoSuchMember', respond })).stdout).toBe('None\n');
      expect((await run(['describe-things'], { format: 'text', respond: () => ({ CustomKeyStores: [] }) })).stdout).toBe('');
    });

    it('reports an expression that fails on the response as a QueryFailedException (not a validation error) saying the call itself succeeded', async () => {
      const r = await run(['connect-thing', '--custom-key-store-id', 'k', '--no-wait'], { format: 'text', query: 'abs(CiphertextBlob)', respond });
      expect(r.stdout).toBe('');
      expect(r.failure).toMatchObject({ name: 'QueryFailedException', message: expect.stringMatching(/^The operation succeeded, but --query could not be applied to its response: /) });
    });

    it('refuses an expression that does not parse when the option is read, before anything runs', () => {
      expect(parseQuery('KeyMetadata.KeyId')).toBe('KeyMetadata.KeyId');
      expect(() => parseQuery('Keys[')).toThrow(InvalidArgumentError);
      expect(() => parseQuery('Keys[')).toThrow(/^Expected a JMESPath expression \(jmespath\.org\), e\.g\. --query KeyMetadata\.KeyId: /);
    });

    it('refuses a call to no function, or with the wrong number of arguments, when the option is read: jmespath.js finds those only when applying it', () => {
      expect(() => parseQuery('Keys[?contains(lenght(KeyId), `1`)]')).toThrow(/: there is no function lenght\(\) \(the functions are abs, /);
      expect(() => parseQuery('length(Keys, Aliases)')).toThrow(/: length\(\) takes 1 argument, not 2\.$/);
      expect(() => parseQuery('sort_by(Keys)')).toThrow(/: sort_by\(\) takes 2 arguments, not 1\.$/);
      expect(() => parseQuery('merge()')).toThrow(/: merge\(\) takes at least 1 argument, not 0\.$/);
      expect(() => parseQuery('toString(@)')).toThrow(/there is no function toString\(\)/);
      // A multi-select hash holds each entry's expression in `value`, not `children` (review: it was not walked).
      expect(() => parseQuery('{id: lenght(KeyMetadata.KeyId)}')).toThrow(/there is no function lenght\(\)/);
      expect(() => parseQuery('[{a: Keys}, {b: sum(Keys, Aliases)}]')).toThrow(/sum\(\) takes 1 argument, not 2/);
      for (const fine of ['sort_by(Keys, &KeyId)[].KeyId', 'merge(a, b, c)', 'not_null(a, b)', 'Keys[?starts_with(KeyId, `ab`)] | length(@)', '{id: KeyMetadata.KeyId, n: length(Tags)}']) expect(parseQuery(fine)).toBe(fine);
    });
  });

  it('names a PEM certificate in the table instead of printing it as one escaped line; JSON keeps it whole', async () => {
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    const stores = { CustomKeyStores: [{ CustomKeyStoreId: 'cks-1', TrustAnchorCertificate: pem }] };
    const table = await run(['describe-things'], { respond: () => stores });
    expect(table.stdout).toMatch(/│ TrustAnchorCertificate\s+│ certificate \(PEM; --output json prints it\)\s+│/);
    expect(table.stdout).not.toContain('MIIB');
    expect(JSON.parse((await run(['describe-things'], { format: 'json', respond: () => stores })).stdout)).toEqual(stores);
  });

  describe('a paginated list', () => {
    // Three pages of one store each, chained by NextMarker, as the service answers a Limit of 1.
    const pages = (operation: string, n: number): unknown =>
      operation === 'DescribeThings' ? { CustomKeyStores: [{ CustomKeyStoreId: `cks-${n}` }], ...(n < 3 ? { NextMarker: `m${n}`, Truncated: true } : { Truncated: false }) } : {};

    it('follows every page and prints only the merged list, as the AWS CLI does', async () => {
      const r = await run(['describe-things', '--limit', '1'], { format: 'json', respond: pages });
      expect(r.calls.map((c) => c.request)).toEqual([{ Limit: 1 }, { Limit: 1, Marker: 'm1' }, { Limit: 1, Marker: 'm2' }]);
      expect(JSON.parse(r.stdout)).toEqual({ CustomKeyStores: [{ CustomKeyStoreId: 'cks-1' }, { CustomKeyStoreId: 'cks-2' }, { CustomKeyStoreId: 'cks-3' }] });
    });

    it('makes one call and prints it whole with --no-paginate; keeps --limit and --marker out of the help', async () => {
      const r = await run(['describe-things', '--no-paginate', '--marker', 'm1'], { format: 'json', respond: pages });
      expect(r.calls.map((c) => c.request)).toEqual([{ Marker: 'm1' }]);
      expect(JSON.parse(r.stdout)).toEqual({ CustomKeyStores: [{ CustomKeyStoreId: 'cks-1' }], NextMarker: 'm1', Truncated: true });
      const help = (await run(['describe-things', '--help'])).stdout;
      expect(help).toMatch(/--no-paginate\s+make one call and print its whole response \(NextMarker, Truncated\)/);
      expect(help).not.toMatch(/--limit|--marker/);
    });

    describe('--max-items and --starting-token, as the AWS CLI pages on the client', () => {
      // Five stores in pages of two, each page chosen by the Marker asked with.
      const stores = (...ids: number[]): Array<{ CustomKeyStoreId: string }> => ids.map((i) => ({ CustomKeyStoreId: `cks-${i}` }));
      const byMarker = (operation: string, _n: number, request: Record<string, unknown>): unknown => {
        if (operation !== 'DescribeThings') return {};
        if (request.Marker === undefined) return { CustomKeyStores: stores(1, 2), NextMarker: 'm2', Truncated: true };
        if (request.Marker === 'm2') return { CustomKeyStores: stores(3, 4), NextMarker: 'm4', Truncated: true };
        return { CustomKeyStores: stores(5), Truncated: false };
      };
      const token = (value: Record<string, unknown>): string => Buffer.from(JSON.stringify(value)).toString('base64');
      const list = async (...argv: string[]): Promise<Run & { printed: Record<string, unknown> }> => {
        const r = await run(['describe-things', ...argv], { format: 'json', respond: byMarker });
        return { ...r, printed: r.stdout === '' ? {} : (JSON.parse(r.stdout) as Record<string, unknown>) };
      };

      it('stops inside a page with botocore\'s NextToken (the page\'s marker and how many of it were printed), and goes on from it', async () => {
        const first = await list('--max-items', '3');
        expect(first.calls.map((c) => c.request)).toEqual([{}, { Marker: 'm2' }]);
        expect(first.printed).toEqual({ CustomKeyStores: stores(1, 2, 3), NextToken: token({ Marker: 'm2', boto_truncate_amount: 1 }) });
        const rest = await list('--starting-token', String(first.printed.NextToken));
        expect(rest.calls.map((c) => c.request)).toEqual([{ Marker: 'm2' }, { Marker: 'm4' }]);
        expect(rest.printed).toEqual({ CustomKeyStores: stores(4, 5) });
      });

      it('stops at a page\'s end with the next marker, and prints no NextToken when the list is done', async () => {
        const two = await list('--max-items', '2');
        expect(two.calls).toHaveLength(1);
        expect(two.printed).toEqual({ CustomKeyStores: stores(1, 2), NextToken: token({ Marker: 'm2' }) });
        expect((await list('--max-items', '5')).printed).toEqual({ CustomKeyStores: stores(1, 2, 3, 4, 5) });
        expect((await list('--max-items', '9')).printed).toEqual({ CustomKeyStores: stores(1, 2, 3, 4, 5) });
      });

      it('walks the whole list one item at a time, each NextToken taking the next item', async () => {
        const seen: unknown[] = [];
        let next: unknown;
        for (let i = 0; i < 6 && (i === 0 || next !== undefined); i += 1) {
          const r = await list('--max-items', '1', ...(next === undefined ? [] : ['--starting-token', String(next)]));
          seen.push(...(r.printed.CustomKeyStores as unknown[]));
          next = r.printed.NextToken;
        }
        expect(seen).toEqual(stores(1, 2, 3, 4, 5));
        expect(next).toBeUndefined();
      });

      it('writes the NextToken as text on a NEXTTOKEN line after the list, as the AWS CLI\'s text output', async () => {
        const r = await run(['describe-things', '--max-items', '1'], { format: 'text', respond: byMarker });
        expect(r.stdout).toBe(`CUSTOMKEYSTORES\tcks-1\nNEXTTOKEN\t${token({ Marker: null, boto_truncate_amount: 1 })}\n`);
        expect((await run(['describe-things', '--max-items', '1'], { format: 'text', query: 'CustomKeyStores[].CustomKeyStoreId', respond: byMarker })).stdout).toBe('cks-1\n');
      });

      it('sends --page-size as the request\'s Limit on every call', async () => {
        expect((await list('--page-size', '2')).calls.map((c) => c.request)).toEqual([{ Limit: 2 }, { Limit: 2, Marker: 'm2' }, { Limit: 2, Marker: 'm4' }]);
      });

      it('refuses a token no call printed, a count below 1, and contradicting options, before any call', async () => {
        for (const bad of ['not-a-token', token({ Marker: 'm2', Extra: 1 }), token({ Marker: 'm2', boto_truncate_amount: -1 }), token({ Marker: null }), token({ NextMarker: 'm2' })]) {
          const r = await list('--starting-token', bad);
          expect(r.usage?.message, bad).toMatch(/argument '.*' is invalid\. Expected the NextToken a previous call of this command printed/);
          expect(r.calls).toEqual([]);
        }
        for (const flag of ['--max-items', '--page-size']) for (const n of ['0', '-1', '1.5', 'x']) expect((await list(flag, n)).usage?.message, `${flag} ${n}`).toMatch(/Expected a whole number of at least 1/);
        const noPaginate = await list('--no-paginate', '--max-items', '1');
        expect(noPaginate.failure).toMatchObject({ name: 'ValidationException', message: '--max-items and --starting-token page through the list: they cannot be used with --no-paginate.' });
        const twoStarts = await list('--marker', 'm2', '--starting-token', token({ Marker: 'm4' }));
        expect(twoStarts.failure).toMatchObject({ name: 'ValidationException', message: '--starting-token and --marker both say where the list starts: pass one.' });
        expect([...noPaginate.calls, ...twoStarts.calls]).toEqual([]);
      });
    });

    it('stops with an error when the service hands back the marker it was given', async () => {
      const r = await run(['describe-things'], { respond: () => ({ CustomKeyStores: [], NextMarker: 'same', Truncated: true }) });
      expect(r.calls).toHaveLength(2);
      expect(r.failure?.message).toBe('DescribeThings returned the NextMarker it was given (same): the list cannot be followed.');
    });
  });

  describe('--wait', () => {
    const states = (...list: Array<[string, string?]>) => (operation: string, n: number): unknown => {
      if (operation !== 'DescribeThings') return {};
      const [ConnectionState, ConnectionErrorCode] = list[Math.min(n, list.length) - 1] ?? ['CONNECTING'];
      return { CustomKeyStores: [{ CustomKeyStoreId: 'cks-1', ConnectionState, ...(ConnectionErrorCode ? { ConnectionErrorCode } : {}) }] };
    };

    it('is the default: polls the describe operation with the id until a success value and says it on stderr', async () => {
      const r = await run(['connect-thing', '--custom-key-store-id', 'cks-1'], { respond: states(['CONNECTING'], ['CONNECTING'], ['CONNECTED']) });
      expect(r.calls.map((c) => c.operation)).toEqual(['ConnectThing', 'DescribeThings', 'DescribeThings', 'DescribeThings']);
      expect(r.calls[1]?.request).toEqual({ CustomKeyStoreId: 'cks-1' });
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe('ConnectionState: CONNECTED\n');
      expect(r.failure).toBeUndefined();
    });

    it('fails on a failure value with its reason as the code, the command that shows it and the remedy', async () => {
      const r = await run(['connect-thing', '--custom-key-store-id', 'cks-1'], { format: 'json', respond: states(['CONNECTING'], ['FAILED', 'USER_NOT_FOUND']) });
      expect(r.stdout).toBe('{}\n');
      expect(r.failure).toEqual({
        name: 'WaiterFailedException',
        code: 'USER_NOT_FOUND',
        message: 'ConnectionState is FAILED (ConnectionErrorCode USER_NOT_FOUND): An HSM has no kmsuser. Create it. `hsm-workbench kms describe-things --custom-key-store-id cks-1` shows it.',
      });
      const unexplained = await run(['connect-thing', '--custom-key-store-id', 'cks-1'], { respond: states(['FAILED', 'NETWORK_ERRORS']) });
      expect(unexplained.failure?.message).toBe('ConnectionState is FAILED (ConnectionErrorCode NETWORK_ERRORS). `hsm-workbench kms describe-things --custom-key-store-id cks-1` shows it.');
      const noReason = await run(['connect-thing', '--custom-key-store-id', 'cks-1'], { respond: states(['FAILED']) });
      expect(noReason.failure).toEqual({ name: 'WaiterFailedException', message: 'ConnectionState is FAILED. `hsm-workbench kms describe-things --custom-key-store-id cks-1` shows it.' });
    });

    it('gives up after its timeout, saying the operation goes on', async () => {
      const r = await run(['connect-thing', '--custom-key-store-id', 'cks-1'], { respond: states(['CONNECTING']) });
      expect(r.failure?.name).toBe('WaiterTimeoutException');
      expect(r.failure?.message).toMatch(/^ConnectionState is still CONNECTING after 0.2 s of waiting. The operation goes on: `hsm-workbench kms describe-things --custom-key-store-id cks-1` shows how it ends\.$/);
    });

    it('is skipped with --no-wait', async () => {
      const r = await run(['connect-thing', '--custom-key-store-id', 'cks-1', '--no-wait'], { respond: states(['CONNECTING']) });
      expect(r.calls.map((c) => c.operation)).toEqual(['ConnectThing']);
    });
  });

  describe('on the real operations table', () => {
    const kmsOperations = OPERATION_NAMES.filter((n) => (operations[n] as OperationSpec).awsService === 'kms');
    const kms = buildProgram().commands.find((c) => c.name() === 'kms');

    it('has a kms command with one subcommand per KMS operation', () => {
      expect(kms).toBeDefined();
      expect(kms?.commands.map((c) => c.name()).sort()).toEqual(kmsOperations.map(xformName).sort());
    });

    it('gives Tags, TagKeys, GrantTokens and EncryptionContext of the CMK operations their shorthand kinds', () => {
      const kinds = (name: string): Record<string, string> => Object.fromEntries(requestMembers(operations[name as keyof typeof operations]).map((m) => [m.name, m.kind.type]));
      expect(kinds('CreateKey')).toMatchObject({ Tags: 'structList' });
      expect(kinds('TagResource')).toMatchObject({ Tags: 'structList' });
      expect(kinds('UntagResource')).toMatchObject({ TagKeys: 'stringList' });
      expect(kinds('Encrypt')).toMatchObject({ Plaintext: 'blob', EncryptionContext: 'stringMap', GrantTokens: 'stringList' });
      expect(kinds('ReEncrypt')).toMatchObject({ CiphertextBlob: 'blob', SourceEncryptionContext: 'stringMap', DestinationEncryptionContext: 'stringMap' });
    });

    it('gives the commands that change something the CLI\'s --timeout, and the readers none', () => {
      for (const name of kmsOperations) {
        const flags = kms?.commands.find((c) => c.name() === xformName(name))?.options.map((o) => o.long);
        expect(flags?.includes('--timeout'), name).toBe(!operations[name].readOnly);
      }
    });

    it('no generated flag shadows a global option, and each waiter polls a read-only KMS operation', () => {
      const globals = ['state-dir', 'output', 'lock-wait', 'version', 'help', 'wait', 'paginate', 'timeout'];
      for (const name of kmsOperations) {
        const s: OperationSpec = operations[name];
        for (const m of requestMembers(s)) expect(globals, `${name}.${m.name}`).not.toContain(m.flag);
        const waiter = s.cli?.wait;
        if (waiter === undefined) continue;
        const polled = (operations as Record<string, OperationSpec>)[waiter.operation];
        expect(polled?.readOnly, `${name} waits on ${waiter.operation}`).toBe(true);
        expect(polled?.awsService).toBe('kms');
      }
    });
  });
});
