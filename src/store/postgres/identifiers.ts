// SQL identifiers the store interpolates (schema, LISTEN channel). Values always go
// as parameters; identifiers cannot, so they are checked against a strict pattern
// and then quoted.
import { escapeIdentifier } from "pg";

const identifierPattern = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** PostgreSQL truncates identifiers to NAMEDATALEN - 1 bytes. */
const maxIdentifierLength = 63;

/** Checks a schema name: letters, digits and underscores, at most 63 characters. */
export function checkSchemaName(name: string, field: string): string {
  if (!identifierPattern.test(name) || name.length > maxIdentifierLength) {
    throw new RangeError(`${field} ${JSON.stringify(name)}: must be 1-63 letters, digits or underscores, not starting with a digit`);
  }
  return name;
}

/** Checks a LISTEN/NOTIFY channel name: printable ASCII, at most 63 characters. */
export function checkChannelName(name: string, field: string): string {
  if (name.length === 0 || name.length > maxIdentifierLength || !/^[\x21-\x7e]+$/.test(name)) {
    throw new RangeError(`${field} ${JSON.stringify(name)}: must be 1-63 printable ASCII characters`);
  }
  return name;
}

export function quoteIdentifier(name: string): string {
  return escapeIdentifier(name);
}
