import { compile, search } from 'jmespath';
import { InvalidArgumentError } from 'commander';
import { WorkbenchError } from '../../shared/errors';

// jmespath 0.16 exports compile (the parser alone); its types declare only search.
declare module 'jmespath' {
  export function compile(expression: string): unknown;
}

/**
 * JMESPath's built-in functions and how many arguments each takes ([least, most]; most undefined: any more).
 * jmespath.js looks a function up, and counts its arguments, only when the expression is applied: checked here
 * instead, so a misspelt function is a usage error before the call rather than a failure after it changed something.
 */
const FUNCTIONS: Readonly<Record<string, readonly [number, number | undefined]>> = {
  abs: [1, 1], avg: [1, 1], ceil: [1, 1], contains: [2, 2], ends_with: [2, 2], floor: [1, 1], join: [2, 2], keys: [1, 1],
  length: [1, 1], map: [2, 2], max: [1, 1], max_by: [2, 2], merge: [1, undefined], min: [1, 1], min_by: [2, 2],
  not_null: [1, undefined], reverse: [1, 1], sort: [1, 1], sort_by: [2, 2], starts_with: [2, 2], sum: [1, 1],
  to_array: [1, 1], to_number: [1, 1], to_string: [1, 1], type: [1, 1], values: [1, 1],
};

interface AstNode {
  readonly type?: unknown;
  readonly name?: unknown;
  readonly children?: unknown;
  /** A multi-select hash's entry (KeyValuePair) holds its expression here, not in children. */
  readonly value?: unknown;
}

const isNode = (value: unknown): value is AstNode => typeof value === 'object' && value !== null;

/** What is wrong with a function call in the parsed expression, or undefined when every call names a function with its count of arguments. */
function functionProblem(node: unknown): string | undefined {
  if (!isNode(node)) return undefined;
  const children = Array.isArray(node.children) ? (node.children as unknown[]) : [];
  if (node.type === 'Function' && typeof node.name === 'string') {
    const arity = Object.hasOwn(FUNCTIONS, node.name) ? FUNCTIONS[node.name] : undefined;
    if (arity === undefined) return `there is no function ${node.name}() (the functions are ${Object.keys(FUNCTIONS).join(', ')})`;
    const [least, most] = arity;
    if (children.length < least || (most !== undefined && children.length > most)) {
      const takes = most === undefined ? `at least ${least}` : String(least);
      return `${node.name}() takes ${takes} argument${least === 1 ? '' : 's'}, not ${children.length}`;
    }
  }
  for (const child of [...children, node.type === 'KeyValuePair' ? node.value : undefined]) {
    const problem = functionProblem(child);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

/**
 * `--query`, the AWS CLI's JMESPath filter on a response. The expression is parsed, and its function calls checked, as
 * the option is read, so a typo is a usage error before any operation runs (and before anything is changed).
 */
export function parseQuery(expression: string): string {
  let problem: string | undefined;
  try {
    problem = functionProblem(compile(expression));
  } catch (error) {
    problem = error instanceof Error ? error.message : String(error);
  }
  if (problem !== undefined) throw new InvalidArgumentError(`Expected a JMESPath expression (jmespath.org), e.g. --query KeyMetadata.KeyId: ${problem}.`);
  return expression;
}

/**
 * The part of `response` the expression selects. Only a function given a value of the wrong type fails here, after the
 * call: that is no usage error (the operation happened), so it has its own name, which the CLI exits 1 with.
 */
export function applyQuery(response: unknown, expression: string): unknown {
  try {
    return search(response, expression) as unknown;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new WorkbenchError('QueryFailedException', `The operation succeeded, but --query could not be applied to its response: ${reason}. Nothing was printed; --output json without --query prints the whole response.`);
  }
}
