import { describe, expect, it } from 'vitest';
import { InvalidUrlError } from '../src/errors.ts';
import { checkUrlParams } from '../src/kit/url-params.ts';

const params = (query: string) => new URL(`x://u:secret@h/?${query}`).searchParams;

describe('checkUrlParams', () => {
  it('passes the accepted parameters, each once', () => {
    expect(() => checkUrlParams(params('a=1&b=2'), 'x://', ['a', 'b'])).not.toThrow();
  });

  it('refuses an unknown or repeated parameter, naming it and never its value', () => {
    expect(() => checkUrlParams(params('c=topsecret'), 'x://', ['a'], ' (hint)')).toThrow(
      new InvalidUrlError("Unknown x:// parameter 'c': use a (hint)"),
    );
    expect(() => checkUrlParams(params('a=1&a=topsecret'), 'x://', ['a'])).toThrow(
      new InvalidUrlError("x:// parameter 'a' is given twice"),
    );
    expect(() => checkUrlParams(params('a=topsecret'), 'x://', [])).toThrow(
      /^Unknown x:\/\/ parameter 'a': x:\/\/ takes none$/,
    );
  });
});
