import { Command, CommanderError, Option } from 'commander';
import type { CheckClusterProgress, ClusterCheckReport } from '../../shared/contract/checks';
import type { ClusterInfo } from '../../shared/contract/clusters';
import type { ModuleInfo, SlotInfo } from '../../shared/contract/hsm';
import type { OperationName, RequestOf } from '../../shared/contract/operations';
import { WorkbenchError, type ErrorInfo } from '../../shared/errors';
import { createWorkbenchCore, type WorkbenchCore } from '../core/workbench-core';
import { WORKBENCH_VERSION } from '../core/version';
import { resolveStateDir } from '../state/state-dir';
import { formatCheck, formatCluster, formatClusters, formatError, formatReportSummary, formatSlots, type OutputFormat } from './output';
import { confirm, readSecret } from './secret-input';

/** 0 ok, 1 the operation failed or checks failed, 2 usage or validation error. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

interface GlobalOptions {
  stateDir?: string;
  output: OutputFormat;
}

/** A failure already reported to the user; carries the exit code. */
class CliExit extends Error {
  constructor(readonly exitCode: number) {
    super(`exit ${exitCode}`);
  }
}

function parseEnv(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new CommanderError(EXIT.usage, 'hsm-workbench.env', `--env expects NAME=VALUE, got "${value}"`);
  return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) };
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function exitCodeFor(error: ErrorInfo): number {
  return error.name === 'ValidationException' || error.name === 'UnknownOperationException' ? EXIT.usage : EXIT.failed;
}

class CliSession {
  private core: WorkbenchCore | undefined;

  constructor(private readonly globals: GlobalOptions) {}

  get format(): OutputFormat {
    return this.globals.output;
  }

  get stateDir(): string {
    return resolveStateDir({ flag: this.globals.stateDir });
  }

  async call<N extends OperationName>(operation: N, request: RequestOf<N>, onProgress?: (progress: unknown) => void): Promise<unknown> {
    this.core ??= await createWorkbenchCore({ stateDir: this.stateDir, program: 'cli' });
    const result = await this.core.dispatch(operation, request, { callId: `cli-${process.pid}`, emitProgress: onProgress });
    if (!result.ok) this.fail(result.error);
    return result.value;
  }

  fail(error: ErrorInfo): never {
    process.stderr.write(`${formatError(error, this.format)}\n`);
    throw new CliExit(exitCodeFor(error));
  }

  print(value: unknown, asTable: () => string): void {
    process.stdout.write(`${this.format === 'json' ? JSON.stringify(value, null, 2) : asTable()}\n`);
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
    .addOption(new Option('--output <format>', 'output format').choices(['table', 'json']).default('table'))
    .showHelpAfterError()
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
    .action(
      action(async (s, opts: { module: string; env?: Record<string, string> }) => {
        const value = (await s.call('ListSlots', { ModulePath: opts.module, ModuleEnvironment: opts.env ?? {} })) as { Module: ModuleInfo; Slots: SlotInfo[] };
        s.print(value, () => formatSlots(value));
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
    .action(
      action(async (s, opts: { name: string; module: string; env?: Record<string, string>; tokenSerial?: string[]; tokenLabel?: string[]; loginFormat: 'password' | 'user:password' }) => {
        const Hsms = [...(opts.tokenSerial ?? []).map((TokenSerial) => ({ TokenSerial })), ...(opts.tokenLabel ?? []).map((TokenLabel) => ({ TokenLabel }))];
        const value = (await s.call('CreateCluster', { ClusterName: opts.name, ModulePath: opts.module, ModuleEnvironment: opts.env ?? {}, LoginFormat: opts.loginFormat, Hsms })) as {
          Cluster: ClusterInfo;
        };
        s.print(value, () => formatCluster(value.Cluster));
      }),
    );
  cluster
    .command('list')
    .description('list clusters')
    .action(
      action(async (s) => {
        const value = (await s.call('DescribeClusters', {})) as { Clusters: ClusterInfo[] };
        s.print(value, () => formatClusters(value.Clusters));
      }),
    );
  cluster
    .command('describe')
    .description('show one cluster and its HSMs')
    .argument('<clusterId>')
    .action(
      action(async (s, clusterId: string) => {
        const value = (await s.call('DescribeClusters', { ClusterIds: [clusterId] })) as { Clusters: ClusterInfo[] };
        s.print({ Cluster: value.Clusters[0] }, () => value.Clusters.map(formatCluster).join('\n'));
      }),
    );
  cluster
    .command('delete')
    .description('delete a cluster record (the HSMs and their keys are not touched)')
    .argument('<clusterId>')
    .option('--yes', 'do not ask for confirmation')
    .action(
      action(async (s, clusterId: string, opts: { yes?: boolean }) => {
        if (!opts.yes && !(await confirm(`Delete cluster ${clusterId}? The HSMs and their key material are not touched.`))) {
          s.fail({ name: 'ValidationException', message: `Not deleted: confirm at the prompt, or pass --yes to delete ${clusterId} without asking.` });
        }
        const value = (await s.call('DeleteCluster', { ClusterId: clusterId })) as { Cluster: ClusterInfo };
        s.print(value, () => `Deleted cluster ${value.Cluster.ClusterName} (${value.Cluster.ClusterId}).`);
      }),
    );
  cluster
    .command('check')
    .description('run the pre-flight checks of a cluster')
    .argument('<clusterId>')
    .option('--kmsuser-password-stdin', 'also test a kmsuser login; the password is read from stdin (or a hidden prompt)')
    .action(
      action(async (s, clusterId: string, opts: { kmsuserPasswordStdin?: boolean }) => {
        const KmsuserPassword = opts.kmsuserPasswordStdin ? await readSecret('kmsuser password: ') : undefined;
        const live = s.format === 'table';
        const value = (await s.call('CheckCluster', { ClusterId: clusterId, KmsuserPassword }, (p) => {
          if (live) process.stdout.write(`${formatCheck((p as CheckClusterProgress).Check)}\n`);
        })) as { Report: ClusterCheckReport };
        s.print(value, () => formatReportSummary(value.Report));
        if (!value.Report.Passed) throw new CliExit(EXIT.failed);
      }),
    );

  const demo = program.command('demo').description('a throwaway SoftHSM2 cluster to try the workbench');
  demo
    .command('init')
    .description('create a SoftHSM2 configuration with two initialized tokens under the state directory, and a cluster over them')
    .option('--kmsuser-password-stdin', 'read the kmsuser password from stdin instead of generating one')
    .action(
      action(async (s, opts: { kmsuserPasswordStdin?: boolean }) => {
        const KmsuserPassword = opts.kmsuserPasswordStdin ? await readSecret('kmsuser password for the demo tokens: ') : undefined;
        const value = (await s.call('CreateDemoCluster', { KmsuserPassword })) as {
          Cluster: ClusterInfo;
          SoftHsmDirectory: string;
          DemoCredentials: { KmsuserPassword: string | null; SoPin: string };
          Recovery: string | null;
        };
        // Printed once, to the admin who asked for it; the workbench does not store them.
        const credentials = value.DemoCredentials;
        s.print(value, () =>
          [
            ...(value.Recovery === null ? [] : [value.Recovery]),
            formatCluster(value.Cluster),
            `Demo SoftHSM2 tokens are in ${value.SoftHsmDirectory}.`,
            `kmsuser password: ${credentials.KmsuserPassword ?? '(the one you gave)'}`,
            `SO PIN:           ${credentials.SoPin}`,
            'These throwaway credentials are shown once and not stored. Next:',
            `  hsm-workbench cluster check ${value.Cluster.ClusterId} --kmsuser-password-stdin`,
          ].join('\n'),
        );
        // Only now have they been shown: a run killed before this line is made again by the next demo init.
        await s.call('ConfirmDemoCredentials', { ClusterId: value.Cluster.ClusterId });
      }),
    );

  return program;
}

/** Runs the CLI and returns its exit code (the bin script calls process.exit with it). */
export async function runCli(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CliExit) return error.exitCode;
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    if (error instanceof WorkbenchError) {
      process.stderr.write(`${formatError(error.toInfo(), 'table')}\n`);
      return exitCodeFor(error.toInfo());
    }
    process.stderr.write(`Unexpected error: ${error instanceof Error ? error.message : String(error)}\n`);
    return EXIT.failed;
  }
}
