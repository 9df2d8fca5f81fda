/** Hide userinfo in every URL of a (comma-separated) address, for tables, logs and errors. */
export function maskUrl(address: string): string {
  return address.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/gi, '$1***@');
}
