import { describe, expect, it } from 'vitest';
import { parseShorthand, ShorthandError } from './shorthand';

describe('parseShorthand', () => {
  it('splits pairs on "," and each pair on its first "="', () => {
    expect(parseShorthand('TagKey=Purpose,TagValue=test')).toEqual({ TagKey: 'Purpose', TagValue: 'test' });
    expect(parseShorthand('expr=a=b')).toEqual({ expr: 'a=b' });
    expect(parseShorthand(' a = 1 , b = 2 ')).toEqual({ a: '1', b: '2' });
    expect(parseShorthand('TagKey=k,TagValue=')).toEqual({ TagKey: 'k', TagValue: '' });
  });

  it('keeps a comma in a quoted or escaped value, and the quote or backslash escaped inside it', () => {
    expect(parseShorthand('a="x,y",b=\'p,q\'')).toEqual({ a: 'x,y', b: 'p,q' });
    expect(parseShorthand('a=x\\,y,b=c\\\\')).toEqual({ a: 'x,y', b: 'c\\' });
    expect(parseShorthand('a="say \\"hi\\"" ,b=1')).toEqual({ a: 'say "hi"', b: '1' });
    // Other backslashes are the value's own (a Windows path, a regex).
    expect(parseShorthand('a=C:\\dir')).toEqual({ a: 'C:\\dir' });
  });

  it('refuses what it cannot read, saying where', () => {
    for (const [text, message] of [
      ['', 'Expected key=value at character 1, found nothing'],
      ['a=1,', 'Expected key=value at character 5, found nothing'],
      ['a=1,b', 'Expected key=value at character 5, found "b" with no "="'],
      ['a,b=1', 'Expected key=value at character 1, found "a" with no "="'],
      [' =1', 'Expected a key before the "=" at character 2.'],
      ['a=1,a=2', 'The key a is given twice.'],
      ['a="1', 'The value quoted at character 3 has no closing "'],
      ['a="1"x,b=2', 'Expected "," after the quoted value ending at character 5.'],
    ] as const) {
      expect(() => parseShorthand(text), text).toThrow(ShorthandError);
      expect(() => parseShorthand(text), text).toThrow(message);
    }
  });
});
