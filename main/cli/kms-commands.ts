import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { z } from 'zod';
import type { CliWaiter, OperationSpec } from '../../shared/contract/operations';
import { WorkbenchError, type ErrorInfo } from '../../shared/errors';
import { fileSystemError } from '../state/safe-files';
import { formatText } from './aws-text';
import { render, type OutputFormat } from './output';
import { allPages, parseStartingToken, positiveCount, type StartingToken } from './paginate';
import { readSecretLines } from './secret-input';
import { parseShorthand, ShorthandError } from './shorthand';
import { textTable } from './text-table';

/**
 * `hsm-workbench kms …`, generated from the contract the way the AWS CLI generates `aws kms` from the
 * service model: every operation with `awsService: 'kms'` is a command named by the kebab-case of its
 * AWS name, every top-level request member a flag (botocore's xform_name), its kind, choices, help and
 * whether it is required read from the request schema. A new KMS operation in the contract is a new
 * command with nothing written here.
 */

/** What a generated command needs from the CLI session (CliSession in cli.ts). */
export interface KmsSession {
  readonly format: OutputFormat;
  /** What of a response is printed: the part --query selects, or all of it. */
  select(response: unknown): unknown;
  /** Runs an operation by name; the request is assembled from argv, so the core validates it against the contract. */
  invoke(operation: string, request: Record<string, unknown>): Promise<unknown>;
  /** Reports the error on stderr and ends the command (exit 2 for a ValidationException, else 1). */
  fail(error: ErrorInfo): never;
}

export interface KmsCliContext {
  /** Wraps a command body with a session opened from the command's global options and closed after. */
  action(fn: (session: KmsSession, opts: Record<string, unknown>) => Promise<void>): (opts: Record<string, unknown>, cmd: Command) => Promise<void>;
  /** Options every command that changes something gets (they may reach the HSMs): the CLI's --timeout. */
  readonly changeOptions?: () => Option[];
  /** Where secrets are read from (a hidden prompt when it is a terminal); the process's stdin by default. */
  readonly stdin?: NodeJS.ReadStream;
  readonly stdout?: (text: string) => void;
  readonly stderr?: (text: string) => void;
}

type MemberKind =
  | { readonly type: 'string' }
  | { readonly type: 'blob' }
  | { readonly type: 'number'; readonly integer: boolean }
  | { readonly type: 'boolean' }
  | { readonly type: 'enum'; readonly values: readonly string[] }
  /** A list of flat structures of strings (Tags): one structure per argument, in shorthand or JSON. */
  | { readonly type: 'structList'; readonly members: readonly string[] }
  /** A list of strings (TagKeys, GrantTokens): one string per argument. */
  | { readonly type: 'stringList' }
  /** A map of strings to strings (EncryptionContext): shorthand or JSON. */
  | { readonly type: 'stringMap' }
  | { readonly type: 'json' };

/** One top-level request member as the command line sees it. */
export interface RequestMember {
  readonly name: string;
  readonly flag: string;
  readonly kind: MemberKind;
  readonly required: boolean;
  readonly secret: boolean;
  readonly description: string | undefined;
}

const FIRST_CAP = /(.)([A-Z][a-z]+)/g;
const END_CAP = /([a-z0-9])([A-Z])/g;
const SPECIAL_PLURAL = /[A-Z]{2,}s$/;

/** botocore's `xform_name(name, '-')`: CreateCustomKeyStore → create-custom-key-store, CloudHsmClusterId → cloud-hsm-cluster-id. */
export function xformName(name: string): string {
  if (name.includes('-')) return name;
  // "KeyARNs" → "Key-arns", not "key-ar-ns".
  const plural = SPECIAL_PLURAL.exec(name)?.[0];
  const base = plural === undefined ? name : `${name.slice(0, -plural.length)}-${plural.toLowerCase()}`;
  return base.replace(FIRST_CAP, '$1-$2').replace(END_CAP, '$1-$2').toLowerCase().replaceAll('ipv-6', 'ipv6');
}

type JsonSchema = z.core.JSONSchema.JSONSchema;

const isStringSchema = (schema: JsonSchema | boolean | undefined): boolean => typeof schema === 'object' && schema.type === 'string';

/** The kinds the AWS CLI gives shorthand or several arguments to; anything else nested stays JSON. */
function collectionKind(schema: JsonSchema): MemberKind | undefined {
  const items = schema.items;
  if (schema.type === 'array' && typeof items === 'object' && !Array.isArray(items)) {
    if (isStringSchema(items)) return { type: 'stringList' };
    const members = Object.entries(items.properties ?? {});
    if (items.type === 'object' && members.length > 0 && members.every(([, m]) => isStringSchema(m))) return { type: 'structList', members: members.map(([name]) => name) };
  }
  if (schema.type === 'object' && schema.properties === undefined && isStringSchema(schema.additionalProperties)) return { type: 'stringMap' };
  return undefined;
}

function kindOf(schema: JsonSchema): MemberKind {
  // z.base64() is how the contract declares a blob: base64 text on the wire, raw bytes in a fileb:// file.
  if (schema.contentEncoding === 'base64') return { type: 'blob' };
  const values = schema.enum ?? (schema.const === undefined ? undefined : [schema.const]);
  if (values !== undefined && values.every((v): v is string => typeof v === 'string')) return { type: 'enum', values };
  if (schema.type === 'string') return { type: 'string' };
  if (schema.type === 'number' || schema.type === 'integer') return { type: 'number', integer: schema.type === 'integer' };
  if (schema.type === 'boolean') return { type: 'boolean' };
  // Other lists, structures, maps and unions: JSON text.
  return collectionKind(schema) ?? { type: 'json' };
}

/** The top-level members of an operation's request, read from its JSON Schema (the input side: a default makes a member optional). */
export function requestMembers(spec: OperationSpec): RequestMember[] {
  const schema = z.toJSONSchema(spec.request, { io: 'input', unrepresentable: 'any' });
  const required = new Set(schema.required ?? []);
  const secrets = new Set(spec.secretFields ?? []);
  return Object.entries(schema.properties ?? {}).map(([name, member]) => {
    const s: JsonSchema = typeof member === 'boolean' ? {} : member;
    return { name, flag: xformName(name), kind: kindOf(s), required: required.has(name), secret: secrets.has(name), description: s.description };
  });
}

/** `file://path` gives the file's text, `fileb://path` its bytes as base64 (blob members only); anything else is the value itself. */
function paramFileValue(text: string, member: RequestMember): string {
  const binary = text.startsWith('fileb://');
  if (!binary && !text.startsWith('file://')) return text;
  if (binary && member.kind.type !== 'blob') throw new InvalidArgumentError(`fileb:// gives bytes, and ${member.name} is text: use file:// for a text file.`);
  const path = text.slice(binary ? 'fileb://'.length : 'file://'.length);
  try {
    const bytes = readFileSync(path);
    return binary ? bytes.toString('base64') : bytes.toString('utf8');
  } catch (error) {
    // The path is the user's own: a missing file is the likeliest mistake, said plainly with where it was looked for.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new InvalidArgumentError(`There is no file at ${resolve(path)} (ENOENT): a relative path starts from the current directory.`);
    const translated = fileSystemError(error, 'read', path);
    throw new InvalidArgumentError(translated instanceof Error ? translated.message : `Could not read ${path}.`);
  }
}

/** JSON when it looks like JSON, as the AWS CLI decides: its first character opens a list or a structure. */
const looksLikeJson = (text: string): boolean => /^\s*[[{]/.test(text);

function parseJson(value: string, member: RequestMember): unknown {
  try {
    return JSON.parse(value) as unknown;
  } catch {
    throw new InvalidArgumentError(`Expected JSON text for ${member.name} (or file://path to a file holding it).`);
  }
}

function shorthand(value: string, member: RequestMember, members?: readonly string[]): Record<string, string> {
  try {
    const pairs = parseShorthand(value);
    const unknown = Object.keys(pairs).find((key) => members !== undefined && !members.includes(key));
    // The AWS CLI's own words for a member the structure does not have.
    if (unknown !== undefined) throw new ShorthandError(`Unknown parameter "${unknown}", must be one of: ${members?.join(', ')}.`);
    return pairs;
  } catch (error) {
    if (error instanceof ShorthandError) throw new InvalidArgumentError(`${member.name}: ${error.message} JSON text is accepted too.`);
    throw error;
  }
}

/** A list member takes several arguments (`--tags A B`, `--tags A --tags B`): each parsed value adds to the ones before. */
const appended = (previous: unknown, items: unknown): unknown[] => [...(Array.isArray(previous) ? (previous as unknown[]) : []), ...(Array.isArray(items) ? (items as unknown[]) : [items])];

function parserFor(member: RequestMember): (text: string, previous: unknown) => unknown {
  return (text, previous) => {
    const value = paramFileValue(text, member);
    switch (member.kind.type) {
      case 'number': {
        const n = Number(value);
        if (value.trim() === '' || !Number.isFinite(n) || (member.kind.integer && !Number.isInteger(n))) {
          throw new InvalidArgumentError(`Expected ${member.kind.integer ? 'a whole number' : 'a number'} for ${member.name}.`);
        }
        return n;
      }
      case 'structList':
        return appended(previous, looksLikeJson(value) ? parseJson(value, member) : shorthand(value, member, member.kind.members));
      case 'stringList':
        return appended(previous, /^\s*\[/.test(value) ? parseJson(value, member) : value);
      case 'stringMap':
        return looksLikeJson(value) ? parseJson(value, member) : shorthand(value, member);
      case 'json':
        return parseJson(value, member);
      default:
        return value;
    }
  };
}

/** What the help adds to a member's own description: how its value is written. */
function valueHelp(kind: MemberKind): string {
  switch (kind.type) {
    case 'blob':
      return ' (base64, or fileb://path)';
    case 'structList':
      return ` (one or more, each ${kind.members.map((m) => `${m}=string`).join(',')}, or JSON)`;
    case 'stringList':
      return ' (one or more values, or a JSON list)';
    case 'stringMap':
      return ' (key1=value1,key2=value2, or JSON)';
    default:
      return '';
  }
}

const stdinFlag = (member: RequestMember): string => `${member.flag}-stdin`;

/** The options of one member: a secret gets only its -stdin form (its plain form exists to refuse it with a clear message). */
function optionsFor(member: RequestMember): Option[] {
  const help = member.description ?? member.name;
  if (member.secret) {
    const fromStdin = new Option(`--${stdinFlag(member)}`, `read ${member.name} from stdin (one line), or a hidden prompt on a terminal; never from the command line`);
    // Only there to be refused (addCommand); the value is dropped at once: it must not reach a message, even the refusal's.
    const refused = new Option(`--${member.flag} [value]`).hideHelp().argParser(() => true);
    return [member.required ? fromStdin.makeOptionMandatory() : fromStdin, refused];
  }
  if (member.kind.type === 'boolean') {
    const on = new Option(`--${member.flag}`, help);
    return [member.required ? on.makeOptionMandatory() : on, new Option(`--no-${member.flag}`, `the opposite of --${member.flag}`)];
  }
  const variadic = member.kind.type === 'structList' || member.kind.type === 'stringList';
  const option = new Option(`--${member.flag} <value${variadic ? '...' : ''}>`, `${help}${valueHelp(member.kind)}`);
  if (member.kind.type === 'enum') option.choices(member.kind.values);
  else option.argParser(parserFor(member));
  return [member.required ? option.makeOptionMandatory() : option];
}

/** A PEM block (a trust anchor) would fill the screen as one escaped line: the table names it, `--output json` has it whole. */
const PEM_BLOCK = /^-----BEGIN ([A-Z0-9 ]+)-----/;

function cell(value: unknown): string {
  if (typeof value !== 'string') return JSON.stringify(value);
  const pem = PEM_BLOCK.exec(value);
  return pem === null ? value : `${(pem[1] ?? '').toLowerCase()} (PEM; --output json prints it)`;
}

function fieldTable(value: Record<string, unknown>): string {
  return textTable(['Field', 'Value'], Object.entries(value).map(([k, v]) => [k, cell(v)]));
}

/** Table output of any response: its scalar members in one table, each list under its name, one table per item. */
export function formatResponse(response: Record<string, unknown>): string {
  const scalars = Object.entries(response).filter(([, v]) => !Array.isArray(v));
  const blocks = scalars.length === 0 ? [] : [fieldTable(Object.fromEntries(scalars))];
  for (const [name, list] of Object.entries(response)) {
    if (!Array.isArray(list)) continue;
    blocks.push(`${name}: ${list.length === 0 ? 'none' : list.length}`);
    for (const item of list as unknown[]) blocks.push(typeof item === 'object' && item !== null ? fieldTable(item as Record<string, unknown>) : cell(item));
  }
  return blocks.join('\n');
}

function valueAt(value: unknown, path: readonly (string | number)[]): unknown {
  let here = value;
  for (const key of path) here = typeof here === 'object' && here !== null ? (here as Record<string | number, unknown>)[key] : undefined;
  return here;
}

/** `hsm-workbench kms describe-custom-key-stores --custom-key-store-id cks-…`: the command that shows what a waiter watches. */
function commandLine(operation: string, request: Record<string, unknown>): string {
  return ['hsm-workbench kms', xformName(operation), ...Object.entries(request).map(([k, v]) => `--${xformName(k)} ${cell(v)}`)].join(' ');
}

/** Polls the waiter's operation until its watched value is a success or failure value, or time runs out. */
async function waitFor(session: KmsSession, waiter: CliWaiter, request: Record<string, unknown>, status: (text: string) => void): Promise<void> {
  const poll = Object.fromEntries(waiter.requestMembers.filter((m) => request[m] !== undefined).map((m) => [m, request[m]]));
  const field = String(waiter.path.at(-1));
  const show = commandLine(waiter.operation, poll);
  const deadline = Date.now() + waiter.timeoutMs;
  for (;;) {
    const response = await session.invoke(waiter.operation, poll);
    const value = valueAt(response, waiter.path);
    if (typeof value === 'string' && waiter.success.includes(value)) {
      status(`${field}: ${value}`);
      return;
    }
    if (typeof value === 'string' && waiter.failure.includes(value)) {
      const reason = waiter.reason === undefined ? undefined : valueAt(response, waiter.reason.path);
      if (typeof reason !== 'string') session.fail({ name: 'WaiterFailedException', message: `${field} is ${value}. \`${show}\` shows it.` });
      const told = waiter.reason?.explanations?.[reason];
      session.fail({
        name: 'WaiterFailedException',
        code: reason,
        message: `${field} is ${value} (${String(waiter.reason?.path.at(-1))} ${reason})${told === undefined ? '.' : `: ${told.explanation} ${told.remedy}`} \`${show}\` shows it.`,
      });
    }
    if (Date.now() + waiter.delayMs > deadline) {
      session.fail({
        name: 'WaiterTimeoutException',
        message: `${field} is still ${cell(value ?? 'absent')} after ${waiter.timeoutMs / 1000} s of waiting. The operation goes on: \`${show}\` shows how it ends.`,
      });
    }
    await sleep(waiter.delayMs);
  }
}

const isStructure = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** A merged list with a NextToken as the AWS CLI writes it as text: the list, then `{ NextToken: { NextToken } }` (one NEXTTOKEN line). */
function nextTokenLast(response: unknown): unknown[] {
  if (!isStructure(response) || typeof response.NextToken !== 'string') return [response];
  const { NextToken, ...list } = response;
  return [list, { NextToken: { NextToken } }];
}

function addCommand(kms: Command, spec: OperationSpec, context: KmsCliContext): void {
  const members = requestMembers(spec);
  const stdout = context.stdout ?? ((text: string): void => void process.stdout.write(text));
  const stderr = context.stderr ?? ((text: string): void => void process.stderr.write(text));
  const command = kms.command(xformName(spec.name)).description(spec.request.description ?? spec.name);
  const paginator = spec.cli?.paginate;
  const undocumented = paginator === undefined ? [] : [paginator.inputToken, paginator.limitKey];
  for (const member of members) for (const option of optionsFor(member)) command.addOption(undocumented.includes(member.name) ? option.hideHelp() : option);
  if (paginator !== undefined) {
    command.addOption(new Option('--no-paginate', `make one call and print its whole response (${paginator.outputToken}, ${paginator.moreResults})`));
    command.addOption(new Option('--max-items <n>', 'print at most n items, and a NextToken when more follow').argParser(positiveCount));
    command.addOption(new Option('--starting-token <token>', 'go on from the NextToken an earlier --max-items printed').argParser(parseStartingToken(paginator.inputToken)));
    command.addOption(new Option('--page-size <n>', `items asked for in each call (${paginator.limitKey}); all are still printed`).argParser(positiveCount));
  }
  if (!spec.readOnly) for (const option of context.changeOptions?.() ?? []) command.addOption(option);
  const waiter = spec.cli?.wait;
  if (waiter !== undefined) {
    const until = [...waiter.success, ...waiter.failure].join(' or ');
    command.addOption(new Option('--wait', `after the call, wait until ${String(waiter.path.at(-1))} is ${until} and print it (the default)`));
    command.addOption(new Option('--no-wait', 'return as soon as the operation has started'));
  }
  // The key commander files an option's value under (--custom-key-store-id → customKeyStoreId).
  const attribute = (flag: string): string => new Option(`--${flag}`).attributeName();

  for (const member of members.filter((m) => m.secret)) {
    // Said as the option is parsed, before commander's own checks (a missing required option) could speak first.
    command.on(`option:${member.flag}`, () =>
      command.error(
        `error: --${member.flag} is not accepted: a value on the command line shows in ps and in shell history. Pass --${stdinFlag(member)} and write ${member.name} to stdin, or type it at the hidden prompt.`,
        { exitCode: 2, code: 'hsm-workbench.secretOnCommandLine' },
      ),
    );
  }

  command.action(
    context.action(async (session, opts) => {
      const request: Record<string, unknown> = {};
      for (const member of members) {
        if (member.secret) {
          // Strict: a stray second line means stdin is not what the caller thinks, so nothing of it is taken (as for the SO PIN).
          if (opts[attribute(stdinFlag(member))] === true) [request[member.name]] = await readSecretLines([member.name], context.stdin).catch((error: unknown) => (error instanceof WorkbenchError ? session.fail(error.toInfo()) : Promise.reject(error)));
        } else if (opts[attribute(member.flag)] !== undefined) {
          request[member.name] = opts[attribute(member.flag)];
        }
      }
      let response: unknown;
      if (paginator === undefined) response = await session.invoke(spec.name, request);
      else {
        const paging = { maxItems: opts.maxItems as number | undefined, start: opts.startingToken as StartingToken | undefined };
        if (opts.pageSize !== undefined) request[paginator.limitKey] = opts.pageSize;
        // As botocore: a --starting-token says where the list goes on, so a marker of one's own would contradict it.
        if (paging.start !== undefined && request[paginator.inputToken] !== undefined) session.fail({ name: 'ValidationException', message: `--starting-token and --${xformName(paginator.inputToken)} both say where the list starts: pass one.` });
        if (opts.paginate === false && (paging.maxItems !== undefined || paging.start !== undefined)) session.fail({ name: 'ValidationException', message: '--max-items and --starting-token page through the list: they cannot be used with --no-paginate.' });
        response = opts.paginate === false ? await session.invoke(spec.name, request) : await allPages(session, spec, paginator, request, paging);
      }
      const shown = session.select(response);
      // As the AWS CLI's text: a list's NextToken is a NEXTTOKEN line after the list (select hands the response itself back without --query).
      const parts = paginator !== undefined && session.format === 'text' && shown === response ? nextTokenLast(shown) : [shown];
      // Every AWS response is a structure; what --query selects from it may be anything, drawn as the AWS CLI's text.
      const output = parts.map((part) => render(part, session.format, (safe) => (isStructure(safe) ? formatResponse(safe) : formatText(safe)))).filter((text) => text !== '').join('\n');
      // As the AWS CLI: an empty response prints nothing as text, `{}` as JSON.
      if (session.format === 'json' || output !== '') stdout(`${output}\n`);
      // stdout keeps the AWS shape; the wait's outcome is a status line, like the state-lock wait's.
      if (waiter !== undefined && opts.wait !== false) await waitFor(session, waiter, request, (text) => stderr(`${render(text, 'table', (safe) => safe)}\n`));
    }),
  );
}

/** Adds one command under `kms` for each operation of `table` whose spec says `awsService: 'kms'`. */
export function addKmsCommands(kms: Command, table: Readonly<Record<string, OperationSpec>>, context: KmsCliContext): void {
  for (const spec of Object.values(table)) if (spec.awsService === 'kms') addCommand(kms, spec, context);
}
