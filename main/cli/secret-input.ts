import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { WorkbenchError } from '../../shared/errors';

/**
 * Reads a secret from stdin: a hidden prompt on a terminal, otherwise the whole piped input minus its
 * final newline. Secrets never come from argv, where `ps` and shell history would show them.
 */
export async function readSecret(prompt: string, input: NodeJS.ReadStream = process.stdin, output: NodeJS.WriteStream = process.stderr): Promise<string> {
  if (input.isTTY) return promptHidden(prompt, input, output);
  return (await readPiped(input)).replace(/\r?\n$/, '');
}

/**
 * Reads several secrets, one a line of piped stdin in the order of `names` (the final newline optional), or
 * one hidden prompt each on a terminal. Anything but exactly one line per secret is refused: a missing or
 * stray line means the lines are not what the caller thinks, and a PIN must not be taken for a password.
 */
export async function readSecretLines(names: readonly string[], input: NodeJS.ReadStream = process.stdin, output: NodeJS.WriteStream = process.stderr): Promise<string[]> {
  if (input.isTTY) {
    const values: string[] = [];
    for (const name of names) values.push(await promptHidden(`${name}: `, input, output));
    return values;
  }
  const text = (await readPiped(input)).replace(/\r?\n$/, '');
  const lines = text === '' ? [] : text.split(/\r?\n/);
  if (lines.length !== names.length) {
    const expected = names.map((name, i) => `line ${i + 1}: ${name}`).join('; ');
    throw new WorkbenchError('ValidationException', `stdin holds ${lines.length} line(s) where ${names.length} are expected (${expected}). Nothing was changed.`, {
      details: { linesGiven: lines.length, linesExpected: names.length },
    });
  }
  return lines;
}

async function readPiped(input: NodeJS.ReadStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of input) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

async function promptHidden(prompt: string, input: NodeJS.ReadStream, output: NodeJS.WriteStream): Promise<string> {
  output.write(prompt);
  // Echo nothing the user types; the prompt itself was written above.
  const muted = new Writable({ write: (_chunk, _encoding, done) => done() });
  const rl = createInterface({ input, output: muted, terminal: true });
  try {
    return await new Promise<string>((resolve) => rl.question('', resolve));
  } finally {
    rl.close();
    output.write('\n');
  }
}

/** Asks a yes/no question on a terminal; false when there is no terminal to ask. */
export async function confirm(question: string, input: NodeJS.ReadStream = process.stdin, output: NodeJS.WriteStream = process.stderr): Promise<boolean> {
  if (!input.isTTY) return false;
  const rl = createInterface({ input, output });
  try {
    const answer = await new Promise<string>((resolve) => rl.question(`${question} [y/N] `, resolve));
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}
