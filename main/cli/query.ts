import { compile, search } from 'jmespath';
import { InvalidArgumentError } from 'commander';
import { WorkbenchError } from '../../shared/errors';

// jmespath 0.16 exports compile (the parser alone); its types declare only search.
declare module 'jmespath' {
  export function compile(expression: string): unknown;
}

/**
 * `--query`, the AWS CLI's JMESPath filter on a response. The expression is parsed as the option is read, so a
 * typo is a usage error before any operation runs (and before anything is changed).
 */
export function parseQuery(expression: string): string {
  try {
    compile(expression);
    return expression;
  } catch (error) {
    throw new InvalidArgumentError(`Expected a JMESPath expression (jmespath.org), e.g. --query KeyMetadata.KeyId: ${error instanceof Error ? error.message : String(error)}.`);
  }
}

/** The part of `response` the expression selects. Only a function given the wrong type fails here, after the call. */
export function applyQuery(response: unknown, expression: string): unknown {
  try {
    return search(response, expression) as unknown;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new WorkbenchError('ValidationException', `The operation succeeded, but --query could not be applied to its response: ${reason}. --output json without --query prints the whole response.`);
  }
}
