import { readFile, writeFile } from 'node:fs/promises';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { apiFunction, type WorkbenchApi } from '../../shared/api';
import { DEMO_CA_LABEL } from '../../shared/contract/clusters';
import { isOperationName, operations, type OperationName, type OperationSpec, type ProgressOf, type RequestOf, type ResponseOf } from '../../shared/contract/operations';
import { WorkbenchError, type ErrorInfo } from '../../shared/errors';
import { escapeTerminalText } from '../../shared/terminal-text';
import { NO_SLOTS } from '../clusters/check-result';
import { createInProcessApi } from '../core/in-process-transport';
import { createWorkbenchCore, type WorkbenchCore } from '../core/workbench-core';
import { DEFAULT_HSM_TIMEOUT_MS } from '../hsm/hsm-host';
import { WORKBENCH_VERSION } from '../core/version';
import { DEFAULT_LOCK_WAIT_MS, describeHolder } from '../state/lock-file';
import { fileSystemError } from '../state/safe-files';
import { resolveStateDir } from '../state/state-dir';
import { formatText } from './aws-text';
import { addKmsCommands } from './kms-commands';
import { createKeyStoreCommand, formatCheck, formatCluster, formatClusters, formatError, formatInitialized, formatKmsuserPassword, formatKmsuserStatus, formatReportSummary, formatSlots, render, type OutputFormat } from './output';
import { applyQuery, parseQuery } from './query';
import { confirm, readSecret, readSecretLines } from './secret-input';

/** 0 ok, 1 the operation failed or checks failed, 2 usage or validation error. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

interface GlobalOptions {
  stateDir?: string;
  output: OutputFormat;
  /** A JMESPath expression (--query), parsed when read: what of each response is printed. */
  query?: string;
  /** Per-PKCS#11-call limit in ms, from the --timeout of the commands that reach a module. */
  timeout?: number;
  /** How long a writer waits for another process's state lock, in ms (--lock-wait). */
  lockWait?: number;
}

/** A failure already reported to the user; carries the exit code. */
class CliExit extends Error {
  constructor(readonly exitCode: number) {
    super(`exit ${exitCode}`);
  }
}

// Commander prints an InvalidArgumentError with the option and the value; any other error it rethrows unprinted.
function parseEnv(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq === -1) throw new InvalidArgumentError('Expected NAME=VALUE (there is no "="), e.g. --env SOFTHSM2_CONF=/etc/softhsm/softhsm2.conf.');
  if (eq === 0) throw new InvalidArgumentError('Expected NAME=VALUE: the variable name before "=" is empty, e.g. --env SOFTHSM2_CONF=/etc/softhsm/softhsm2.conf.');
  return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) };
}

const MAX_TIMEOUT_SECONDS = 3600;

/** A --timeout or --lock-wait in seconds (fractions allowed, greater than 0, at most an hour) as the core's milliseconds. */
const seconds =
  (flag: string) =>
  (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n <= 0 || n > MAX_TIMEOUT_SECONDS) {
      throw new InvalidArgumentError(`Expected a number of seconds greater than 0 and at most ${MAX_TIMEOUT_SECONDS}, e.g. ${flag} 30.`);
    }
    return Math.round(n * 1000);
  };

const timeoutOption = (): Option =>
  new Option('--timeout <seconds>', `how long one PKCS#11 call may take before the HSM counts as unreachable (default: ${DEFAULT_HSM_TIMEOUT_MS / 1000})`).argParser(seconds('--timeout'));

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function exitCodeFor(error: ErrorInfo): number {
  return error.name === 'ValidationException' || error.name === 'UnknownOperationException' || error.name === 'StateDirectoryException' ? EXIT.usage : EXIT.failed;
}

/** Operations that only read the state: on a missing state directory they say so instead of creating an empty one. */
const READS_STATE_ONLY: readonly OperationName[] = ['DescribeClusters', 'CheckCluster', 'DescribeKmsuser'];

/** Every read-only AWS API operation (a generated kms command) reads the state, too. */
function readsStateOnly(operation: OperationName): boolean {
  const spec: OperationSpec = operations[operation];
  return READS_STATE_ONLY.includes(operation) || (spec.awsService !== undefined && spec.readOnly);
}

class CliSession {
  private core: WorkbenchCore | undefined;
  private api: WorkbenchApi | undefined;

  constructor(private readonly globals: GlobalOptions) {}

  get format(): OutputFormat {
    return this.globals.output;
  }

  private get query(): string | undefined {
    return this.globals.query;
  }

  /** Runs one operation through the contract-typed API (the renderer's, over an in-process transport); a refusal is reported and exits. */
  async call<N extends OperationName>(operation: N, request: RequestOf<N>, onProgress?: (progress: ProgressOf<N>) => void): Promise<ResponseOf<N>> {
    try {
      this.core ??= await createWorkbenchCore({
        stateDir: resolveStateDir({ flag: this.globals.stateDir, create: !readsStateOnly(operation) }),
        program: 'cli',
        hsmTimeoutMs: this.globals.timeout,
        lockWaitMs: this.globals.lockWait,
        // The holder is read from a file: escaped like every other text this CLI prints.
        onStateLockWait: (holder) => process.stderr.write(`${escapeTerminalText(`Waiting for the state lock, held by ${describeHolder(holder)}…`)}\n`),
        onSecretsUnprotected: (protection) => process.stderr.write(`${escapeTerminalText(`Secret store: ${protection.description}`)}\n`),
      });
    } catch (error) {
      // A refused state directory or file, in the output format the caller asked for.
      const translated = translateFileError(error);
      if (translated instanceof WorkbenchError) this.fail(translated.toInfo());
      throw error;
    }
    this.api ??= createInProcessApi(this.core);
    const result = await apiFunction(this.api, operation)(request, { callId: `cli-${process.pid}`, onProgress });
    if (!result.ok) this.fail(result.error);
    return result.value;
  }

  /**
   * The SO PIN, and a kmsuser password when `withPassword`: one line of stdin each with --stdin, else hidden prompts at a
   * terminal with the password asked twice (a typo would set a password nobody knows). Secret: returned, never printed.
   */
  async adminSecrets(fromStdin: boolean, withPassword = true): Promise<[soPin: string, password: string]> {
    const names = withPassword ? ['the SO PIN', 'the kmsuser password'] : ['the SO PIN'];
    try {
      if (fromStdin) {
        const [soPin = '', password = ''] = await readSecretLines(names);
        return [soPin, password];
      }
      if (!process.stdin.isTTY) {
        this.fail({ name: 'ValidationException', message: `There is no terminal to ask for ${names.join(' and ')} at. Pass --stdin and give ${withPassword ? 'them on two lines' : 'it on one line'} of stdin. Nothing was changed.` });
      }
      if (!withPassword) return [(await readSecretLines(['SO PIN (one for every HSM of the cluster)']))[0] ?? '', ''];
      const [soPin = '', password = '', again = ''] = await readSecretLines(['SO PIN (one for every HSM of the cluster)', 'kmsuser password', 'kmsuser password again']);
      if (password !== again) this.fail({ name: 'ValidationException', message: 'The two kmsuser passwords differ. Nothing was changed.' });
      return [soPin, password];
    } catch (error) {
      if (error instanceof WorkbenchError) this.fail(error.toInfo());
      throw error;
    }
  }

  /** Runs an operation named at run time (a generated kms command) with a request assembled from argv. */
  async invoke(operation: string, request: Record<string, unknown>): Promise<unknown> {
    if (!isOperationName(operation)) this.fail({ name: 'UnknownOperationException', message: `There is no workbench operation named ${operation}.` });
    // Untyped by construction: the core parses it against the operation's request schema and names what is wrong.
    return this.call(operation, request as RequestOf<typeof operation>);
  }

  fail(error: ErrorInfo, exitCode = exitCodeFor(error)): never {
    process.stderr.write(`${formatError(error, this.format)}\n`);
    throw new CliExit(exitCode);
  }

  /** Prints a result: JSON, the AWS CLI's text, or the table `asText` draws from its terminal-safe copy; what --query selects of it is drawn as text. */
  print<T>(value: T, asText: (safe: T) => string): void {
    const output = this.query === undefined ? render(value, this.format, asText) : render(this.select(value), this.format === 'json' ? 'json' : 'text', formatText);
    // As the AWS CLI: nothing to print is no line at all as text.
    if (this.format === 'json' || output !== '') process.stdout.write(`${output}\n`);
  }

  /** What --query selects of a response (all of it without one); an expression that fails on it is reported and exits. */
  select(value: unknown): unknown {
    if (this.query === undefined) return value;
    try {
      return applyQuery(value, this.query);
    } catch (error) {
      if (error instanceof WorkbenchError) this.fail(error.toInfo());
      throw error;
    }
  }

  async close(): Promise<void> {
    await this.core?.dispose();
  }
}

export function buildProgram(): Command {
  const program = new Command('hsm-workbench')
    .description('AWS KMS-style custom key stores on PKCS#11 HSMs, offline.')
    .version(WORKBENCH_VERSION)
    .option('--state-dir <dir>', 'state directory (default: $HSM_WORKBENCH_HOME or the per-user data directory)')
    .addOption(new Option('--output <format>', 'output format: tables for people, json, or text (tab-separated, as the AWS CLI writes it)').choices(['table', 'json', 'text']).default('table'))
    .addOption(new Option('--query <expression>', 'a JMESPath expression selecting what of the response is printed, as the AWS CLI\'s --query').argParser(parseQuery))
    .addOption(new Option('--lock-wait <seconds>', `how long a change waits for another workbench process's state lock (default: ${DEFAULT_LOCK_WAIT_MS / 1000})`).argParser(seconds('--lock-wait')))
    .showHelpAfterError()
    // Commander's messages quote argv (an unknown option, a bad value): terminal-safe like all other output.
    .configureOutput({ outputError: (text, write) => write(text.split('\n').map(escapeTerminalText).join('\n')) })
    .exitOverride();

  const session = (cmd: Command): CliSession => new CliSession(cmd.optsWithGlobals<GlobalOptions>());
  const action =
    <A extends unknown[]>(fn: (s: CliSession, ...args: A) => Promise<void>) =>
    async (...args: A): Promise<void> => {
      const cmd = args[args.length - 1] as Command;
      const s = session(cmd);
      try {
        await fn(s, ...args);
      } finally {
        await s.close();
      }
    };

  const hsm = program.command('hsm').description('PKCS#11 modules and their slots');
  hsm
    .command('list-slots')
    .description('list the slots and tokens of a PKCS#11 module')
    .requiredOption('--module <path>', 'PKCS#11 library path')
    .option('--env <NAME=VALUE>', 'environment for the module (repeatable), e.g. SOFTHSM2_CONF=/path', parseEnv)
    .addOption(timeoutOption())
    .action(
      action(async (s, opts: { module: string; env?: Record<string, string> }) => {
        const env = opts.env ?? {};
        const value = await s.call('ListSlots', { ModulePath: opts.module, ModuleEnvironment: env });
        s.print(value, formatSlots);
        // The checks' rule: a module with no slots has no HSM behind it, which is a failure, not an empty list.
        if (value.Slots.length === 0) {
          const address = env.P11_KIT_SERVER_ADDRESS;
          const note =
            address === undefined
              ? `No HSM answered: ${NO_SLOTS.evidence} ${NO_SLOTS.cause}`
              : `No connection was made to the p11-kit server at ${address}: ${NO_SLOTS.evidence} Check that \`p11-kit server\` is running and that P11_KIT_SERVER_ADDRESS names its socket.`;
          process.stderr.write(`${render(note, 'table', (safe) => safe)}\n`);
          throw new CliExit(EXIT.failed);
        }
      }),
    );

  const cluster = program.command('cluster').description('clusters of HSMs');
  cluster
    .command('create')
    .description('group tokens of one module into a cluster')
    .requiredOption('--name <name>', 'cluster name (unique)')
    .requiredOption('--module <path>', 'PKCS#11 library path')
    .option('--env <NAME=VALUE>', 'environment for the module (repeatable)', parseEnv)
    .option('--token-serial <serial>', 'an HSM member by token serial number (repeatable)', collect)
    .option('--token-label <label>', 'an HSM member by token label (repeatable)', collect)
    .addOption(new Option('--login-format <format>', 'how the kmsuser PIN is presented').choices(['password', 'user:password']).default('password'))
    .addOption(timeoutOption())
    .action(
      action(async (s, opts: { name: string; module: string; env?: Record<string, string>; tokenSerial?: string[]; tokenLabel?: string[]; loginFormat: 'password' | 'user:password' }) => {
        const Hsms = [...(opts.tokenSerial ?? []).map((TokenSerial) => ({ TokenSerial })), ...(opts.tokenLabel ?? []).map((TokenLabel) => ({ TokenLabel }))];
        const value = await s.call('CreateCluster', { ClusterName: opts.name, ModulePath: opts.module, ModuleEnvironment: opts.env ?? {}, LoginFormat: opts.loginFormat, Hsms });
        s.print(value, (safe) => formatCluster(safe.Cluster));
      }),
    );
  cluster
    .command('list')
    .description('list clusters')
    .action(
      action(async (s) => {
        const value = await s.call('DescribeClusters', {});
        s.print(value, (safe) => formatClusters(safe.Clusters));
      }),
    );
  cluster
    .command('describe')
    .description('show one cluster and its HSMs')
    .argument('<clusterId>')
    .action(
      action(async (s, clusterId: string) => {
        const value = await s.call('DescribeClusters', { ClusterIds: [clusterId] });
        s.print({ Cluster: value.Clusters[0] }, (safe) => (safe.Cluster ? formatCluster(safe.Cluster) : ''));
      }),
    );
  cluster
    .command('delete')
    .description('delete a cluster record (the HSMs and their keys are not touched)')
    .argument('<clusterId>')
    .option('--yes', 'do not ask for confirmation')
    .action(
      action(async (s, clusterId: string, opts: { yes?: boolean }) => {
        if (!opts.yes) {
          // Nothing was wrong with the request: it was not confirmed. Without a terminal a script must say --yes
          // (a usage matter, exit 2); an admin who answers no has cancelled it (exit 1).
          if (!process.stdin.isTTY) {
            s.fail({ name: 'OperationCancelledException', message: `Not deleted: there is no terminal to confirm at. Pass --yes to delete ${clusterId} without asking.` }, EXIT.usage);
          }
          if (!(await confirm(render(clusterId, 'table', (id) => `Delete cluster ${id}? The HSMs and their key material are not touched.`)))) {
            s.fail({ name: 'OperationCancelledException', message: `Not deleted: the deletion of ${clusterId} was not confirmed. Nothing was changed.` }, EXIT.failed);
          }
        }
        const value = await s.call('DeleteCluster', { ClusterId: clusterId });
        s.print(value, (safe) => `Deleted cluster ${safe.Cluster.ClusterName} (${safe.Cluster.ClusterId}).`);
      }),
    );
  cluster
    .command('check')
    .description('run the pre-flight checks of a cluster')
    .argument('<clusterId>')
    .option('--kmsuser-password-stdin', 'also test a kmsuser login; the password is read from stdin (or a hidden prompt)')
    .addOption(timeoutOption())
    .action(
      action(async (s, clusterId: string, opts: { kmsuserPasswordStdin?: boolean }) => {
        const KmsuserPassword = opts.kmsuserPasswordStdin ? await readSecret('kmsuser password: ') : undefined;
        const live = s.format === 'table';
        const value = await s.call('CheckCluster', { ClusterId: clusterId, KmsuserPassword }, (p) => {
          if (live) process.stdout.write(`${render(p.Check, 'table', formatCheck)}\n`);
        });
        s.print(value, (safe) => formatReportSummary(safe.Report));
        if (!value.Report.Passed) throw new CliExit(EXIT.failed);
      }),
    );

  const kmsuser = program.command('kmsuser').description("the cluster's kmsuser (the HSM user a key store logs in as)");
  const stdinOption = (what = 'read the SO PIN from the first line of stdin and the kmsuser password from the second'): Option => new Option('--stdin', what);
  kmsuser
    .command('create')
    .description('create kmsuser on every HSM of a cluster, as the SO (C_InitPIN)')
    .argument('<clusterId>')
    .addOption(stdinOption())
    .addOption(timeoutOption())
    .action(
      action(async (s, clusterId: string, opts: { stdin?: boolean }) => {
        const [SoPin, KmsuserPassword] = await s.adminSecrets(opts.stdin === true);
        const value = await s.call('CreateKmsuser', { ClusterId: clusterId, SoPin, KmsuserPassword });
        s.print(value, (safe) => formatKmsuserPassword(safe, 'kmsuser created'));
      }),
    );
  kmsuser
    .command('status')
    .description('show kmsuser on every HSM: present, PIN flags and the ledger (never logs in)')
    .argument('<clusterId>')
    .addOption(timeoutOption())
    .action(
      action(async (s, clusterId: string) => {
        const value = await s.call('DescribeKmsuser', { ClusterId: clusterId });
        s.print(value, formatKmsuserStatus);
      }),
    );
  kmsuser
    .command('change-password')
    .description("set a new kmsuser password on every HSM of a cluster, as the SO (the current password need not be known); a key store is told separately")
    .argument('<clusterId>')
    .addOption(stdinOption())
    .addOption(timeoutOption())
    .action(
      action(async (s, clusterId: string, opts: { stdin?: boolean }) => {
        const [SoPin, NewKmsuserPassword] = await s.adminSecrets(opts.stdin === true);
        const value = await s.call('ChangeKmsuserPassword', { ClusterId: clusterId, SoPin, NewKmsuserPassword });
        s.print(value, (safe) => formatKmsuserPassword(safe, 'kmsuser password changed'));
      }),
    );

  cluster
    .command('initialize')
    .description('make the cluster signing key pair in the first HSM and its CSR (signed inside the HSM), and the member trust between the HSMs')
    .argument('<clusterId>')
    .option('--csr-out <file>', 'write the CSR (PEM) to this file')
    .option('--demo-ca', 'also sign the CSR with a throwaway local CA (demo CA — not for production) and install the certificates')
    .addOption(stdinOption())
    .addOption(timeoutOption())
    .action(
      action(async (s, clusterId: string, opts: { csrOut?: string; demoCa?: boolean; stdin?: boolean }) => {
        const [SoPin, KmsuserPassword] = await s.adminSecrets(opts.stdin === true);
        const value = await s.call('InitializeCluster', { ClusterId: clusterId, DemoCa: opts.demoCa === true, SoPin, KmsuserPassword });
        if (opts.csrOut !== undefined) await writeTextFile(opts.csrOut, value.ClusterCsr);
        s.print(value, (safe) => formatInitialized(safe, opts.csrOut));
      }),
    );
  cluster
    .command('install-certificate')
    .description('verify the cluster certificate against its trust anchor and the HSM\'s key, then store both on every HSM')
    .argument('<clusterId>')
    .requiredOption('--cluster-certificate <file://path>', 'the cluster certificate the CA issued from the CSR (file://…)', textValue)
    .requiredOption('--trust-anchor-certificate <file://path>', 'the certificate of the CA that issued it (file://…)', textValue)
    .addOption(stdinOption('read the SO PIN from the first line of stdin'))
    .addOption(timeoutOption())
    .action(
      action(async (s, clusterId: string, opts: { clusterCertificate: Promise<string>; trustAnchorCertificate: Promise<string>; stdin?: boolean }) => {
        const [ClusterCertificate, TrustAnchorCertificate] = await Promise.all([opts.clusterCertificate, opts.trustAnchorCertificate]).catch((error: unknown) => s.fail(fileValueError(error)));
        const [SoPin] = await s.adminSecrets(opts.stdin === true, false);
        const value = await s.call('InstallClusterCertificate', { ClusterId: clusterId, ClusterCertificate, TrustAnchorCertificate, SoPin });
        s.print(value, (safe) => formatCluster(safe.Cluster));
      }),
    );
  cluster
    .command('add-hsm')
    .description('add a token to the cluster: its member key pair, trust both ways with every other HSM, and the certificates')
    .argument('<clusterId>')
    .option('--token-serial <serial>', 'the new HSM by token serial number')
    .option('--token-label <label>', 'the new HSM by token label')
    .addOption(stdinOption())
    .addOption(timeoutOption())
    .action(
      action(async (s, clusterId: string, opts: { tokenSerial?: string; tokenLabel?: string; stdin?: boolean }) => {
        const [SoPin, KmsuserPassword] = await s.adminSecrets(opts.stdin === true);
        const value = await s.call('AddHsm', { ClusterId: clusterId, Hsm: { TokenSerial: opts.tokenSerial, TokenLabel: opts.tokenLabel }, SoPin, KmsuserPassword });
        s.print(value, (safe) => `Added ${safe.Hsm.HsmId}.\n${formatCluster(safe.Cluster)}`);
      }),
    );
  cluster
    .command('remove-hsm')
    .description('remove an HSM from the cluster and the trust every other HSM had in it')
    .argument('<clusterId>')
    .argument('<hsmId>')
    .addOption(stdinOption('read the SO PIN from the first line of stdin'))
    .addOption(timeoutOption())
    .action(
      action(async (s, clusterId: string, hsmId: string, opts: { stdin?: boolean }) => {
        const [SoPin] = await s.adminSecrets(opts.stdin === true, false);
        const value = await s.call('RemoveHsm', { ClusterId: clusterId, HsmId: hsmId, SoPin });
        s.print(value, (safe) => [`Removed ${safe.HsmId}.`, ...safe.Notes, formatCluster(safe.Cluster)].join('\n'));
      }),
    );

  const demo = program.command('demo').description('a throwaway SoftHSM2 cluster to try the workbench');
  demo
    .command('init')
    .description('create a SoftHSM2 configuration with two tokens under the state directory and an ACTIVE cluster over them: kmsuser set, demo CA certificates, member trust')
    .option('--kmsuser-password-stdin', 'read the kmsuser password from stdin instead of generating one')
    .action(
      action(async (s, opts: { kmsuserPasswordStdin?: boolean }) => {
        const KmsuserPassword = opts.kmsuserPasswordStdin ? await readSecret('kmsuser password for the demo tokens: ') : undefined;
        const value = await s.call('CreateDemoCluster', { KmsuserPassword });
        // Printed once, to the admin who asked for it; the workbench does not store them.
        s.print(value, (safe) =>
          [
            ...(safe.Recovery === null ? [] : [safe.Recovery]),
            formatCluster(safe.Cluster),
            `Demo SoftHSM2 tokens are in ${safe.SoftHsmDirectory}.`,
            `Trust anchor (${DEMO_CA_LABEL}): ${safe.TrustAnchorCertificatePath}`,
            `kmsuser password: ${safe.DemoCredentials.KmsuserPassword ?? '(the one you gave)'}`,
            `SO PIN:           ${safe.DemoCredentials.SoPin}`,
            'These throwaway credentials are shown once and not stored. Next, a key store over the cluster (the kmsuser password on stdin):',
            `  ${createKeyStoreCommand(safe.Cluster.ClusterId, safe.TrustAnchorCertificatePath, 'demo-key-store')}`,
          ].join('\n'),
        );
        // Only now have they been shown: a run killed before this line is made again by the next demo init.
        await s.call('ConfirmDemoCredentials', { ClusterId: value.Cluster.ClusterId });
      }),
    );

  const kms = program.command('kms').description('AWS KMS operations, generated from the contract as the AWS CLI generates `aws kms`');
  addKmsCommands(kms, operations, { action: (fn) => action(fn), changeOptions: () => [timeoutOption()] });

  return program;
}

/**
 * A text member's value as the AWS CLI takes it: `file://path` is the file's text, anything else is the text
 * itself. Read when the action runs (the parser cannot wait), so a missing file is reported like every error.
 */
function textValue(value: string): Promise<string> {
  if (!value.startsWith('file://')) return Promise.resolve(value);
  const path = value.slice('file://'.length);
  return readFile(path, 'utf8').catch((error: unknown) => {
    throw fileSystemError(error, 'read', path);
  });
}

function fileValueError(error: unknown): ErrorInfo {
  return error instanceof WorkbenchError ? error.toInfo() : { name: 'FileSystemException', message: String(error) };
}

async function writeTextFile(path: string, text: string): Promise<void> {
  await writeFile(path, text, { mode: 0o644 }).catch((error: unknown) => {
    throw fileSystemError(error, 'write', path);
  });
}

/** Runs the CLI and returns its exit code (the bin script calls process.exit with it). */
/** A file error no layer translated still says what failed, where and with which errno. */
function translateFileError(error: unknown): unknown {
  return fileSystemError(error, 'use', String((error as NodeJS.ErrnoException | undefined)?.path ?? 'a workbench file'));
}

export async function runCli(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CliExit) return error.exitCode;
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    const translated = translateFileError(error);
    if (translated instanceof WorkbenchError) {
      process.stderr.write(`${formatError(translated.toInfo(), 'table')}\n`);
      return exitCodeFor(translated.toInfo());
    }
    process.stderr.write(`${render(error instanceof Error ? error.message : String(error), 'table', (message) => `Unexpected error: ${message}`)}\n`);
    return EXIT.failed;
  }
}
