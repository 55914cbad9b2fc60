// The Logger the server writes to: structured (an object of fields, then a
// message). pino's Logger satisfies it; tests pass silentLogger or a recorder.
// Nothing in src/ outside src/cli writes to the console.

export interface Logger {
  debug(fields: object, message?: string): void;
  info(fields: object, message?: string): void;
  warn(fields: object, message?: string): void;
  error(fields: object, message?: string): void;
}

/** Drops everything. */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};
