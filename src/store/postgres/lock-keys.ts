// Advisory lock keys, as SQL fragments for pg_advisory_*lock(int, int). The first key
// names what is locked (ASCII tags, unlikely to collide with other applications'
// keys); the second is the schema's hash, so stores in different schemas never
// contend.
import { escapeLiteral } from "pg";

/** "rlmg": running migrations on a schema. */
const migrationTag = 0x726c6d67;
/** "rlps": allocating global positions (xid-gated mode), held for microseconds. */
const positionTag = 0x726c7073;

export function migrationLockKey(schema: string): string {
  return `${migrationTag}, hashtext(${escapeLiteral(schema)})`;
}

export function positionLockKey(schema: string): string {
  return `${positionTag}, hashtext(${escapeLiteral(schema)})`;
}
