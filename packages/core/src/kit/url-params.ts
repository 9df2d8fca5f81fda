import { InvalidUrlError } from '../errors.ts';

/**
 * Refuse a broker URL's query parameter that the transport does not read (read leniently, a
 * misspelt `?tls=true` would connect without TLS and send the URL's password in the clear), or one
 * given twice (URLSearchParams.get() reads the first, so `?fifo=true&fifo=false` meant true).
 * Messages name the parameter, never its value or the URL: either may hold a secret. `hint` is
 * added after the list of accepted parameters (where else an option goes).
 */
export function checkUrlParams(
  params: URLSearchParams,
  scheme: string,
  accepted: readonly string[],
  hint = '',
): void {
  for (const name of new Set(params.keys())) {
    if (!accepted.includes(name)) {
      const use = accepted.length > 0 ? `use ${accepted.join(', ')}` : `${scheme} takes none`;
      throw new InvalidUrlError(`Unknown ${scheme} parameter '${name}': ${use}${hint}`);
    }
    if (params.getAll(name).length > 1)
      throw new InvalidUrlError(`${scheme} parameter '${name}' is given twice`);
  }
}
