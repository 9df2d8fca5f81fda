import { SwitchyardError } from '@switchyard/core';

/** A table name option that is not a plain (optionally schema-qualified) SQL identifier. */
export class InvalidTableNameError extends SwitchyardError {
  override name = 'InvalidTableNameError';
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/**
 * `name` or `schema.name`, quoted for SQL. Only plain identifiers are accepted: table names are
 * spliced into statements (they cannot be bind parameters), so nothing else may get through.
 */
export function tableName(name: string): { readonly sql: string; readonly bare: string } {
  const parts = name.split('.');
  if (parts.length > 2 || !parts.every((part) => IDENTIFIER.test(part))) {
    throw new InvalidTableNameError(
      `'${name}' is not a table name this package accepts: letters, digits and _, optionally schema.table`,
    );
  }
  return { sql: parts.map((part) => `"${part}"`).join('.'), bare: parts[parts.length - 1]! };
}

/** A name derived from a table's (an index, a lock key), quoted. */
export function derivedName(table: { bare: string }, suffix: string): string {
  return `"${table.bare}_${suffix}"`;
}
