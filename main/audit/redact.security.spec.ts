import { describe, expect, it } from 'vitest';
import { REDACTED, redactSecrets } from './redact';

describe('redactSecrets', () => {
  it('redacts fields whose names look secret, at any depth and in arrays', () => {
    const out = redactSecrets({
      KmsuserPassword: 'p',
      Hsms: [{ SoPin: '1234', TokenLabel: 'ok' }],
      deep: { a: { Passphrase: 'x', clientSecret: 'y', PrivateKey: 'z', keyMaterial: 'k', PIN: 'q' } },
    });
    expect(out).toEqual({
      KmsuserPassword: REDACTED,
      Hsms: [{ SoPin: REDACTED, TokenLabel: 'ok' }],
      deep: { a: { Passphrase: REDACTED, clientSecret: REDACTED, PrivateKey: REDACTED, keyMaterial: REDACTED, PIN: REDACTED } },
    });
  });

  it('redacts declared fields by name or by dotted path', () => {
    expect(redactSecrets({ Label: 'l', nested: { Label: 'm' }, Other: { Value: 'v' } }, ['Label', 'Other.Value'])).toEqual({
      Label: REDACTED,
      nested: { Label: REDACTED },
      Other: { Value: REDACTED },
    });
  });

  it('says whether a secret was given: only a given one becomes [REDACTED]', () => {
    expect(redactSecrets({ KmsuserPassword: undefined, SoPin: null, Label: undefined }, ['Label'])).toEqual({ KmsuserPassword: undefined, SoPin: null, Label: undefined });
    expect(JSON.stringify(redactSecrets({ ClusterId: 'c', KmsuserPassword: undefined }))).toBe('{"ClusterId":"c"}');
    // An empty string was given (and is a value the HSM saw): it is redacted like any other.
    expect(redactSecrets({ KmsuserPassword: '', Pin: 0, secret: false })).toEqual({ KmsuserPassword: REDACTED, Pin: REDACTED, secret: REDACTED });
  });

  it('redacts a whole object under a secret name, not just strings', () => {
    expect(redactSecrets({ secret: { a: 1 } })).toEqual({ secret: REDACTED });
  });

  it('never copies raw bytes out', () => {
    expect(redactSecrets({ value: Buffer.from('key bytes') })).toEqual({ value: REDACTED });
  });

  it('leaves the input unchanged and survives cycles', () => {
    const input: Record<string, unknown> = { pin: '1234', name: 'n' };
    input.self = input;
    const out = redactSecrets(input) as Record<string, unknown>;
    expect(input.pin).toBe('1234');
    expect(out).toEqual({ pin: REDACTED, name: 'n', self: '[Circular]' });
  });

  it('passes primitives and null through', () => {
    expect(redactSecrets(null)).toBeNull();
    expect(redactSecrets('text')).toBe('text');
    expect(redactSecrets([1, { a: 2 }])).toEqual([1, { a: 2 }]);
  });
});
