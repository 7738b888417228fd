import { describe, expect, it } from 'vitest';
import { inlineCodeParts } from './inline-code';

describe('inlineCodeParts', () => {
  it('turns backticked commands into code parts', () => {
    expect(inlineCodeParts('run `softhsm2-util --show-slots` now')).toEqual([
      { text: 'run ', code: false },
      { text: 'softhsm2-util --show-slots', code: true },
      { text: ' now', code: false },
    ]);
  });
});
