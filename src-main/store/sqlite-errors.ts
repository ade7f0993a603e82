import { TsuzukiError } from '../contract/errors';

/** SQLite result codes better-sqlite3 reports as `error.code` (extended codes start with the primary one). */
function sqliteCode(error: unknown): string | null {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_') ? code : null;
}

export function isCorruption(error: unknown): boolean {
  const code = sqliteCode(error);
  return code !== null && (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB');
}

/**
 * Turns a SQLite failure into the error the user sees: what happened to which file and what to do.
 * Errors that are already TsuzukiErrors, and programming errors, pass through unchanged.
 */
export function toStoreError(error: unknown, path: string): unknown {
  if (error instanceof TsuzukiError) return error;
  const code = sqliteCode(error);
  if (code === null) return error;
  const cause = { cause: error };
  if (code.startsWith('SQLITE_FULL')) {
    return new TsuzukiError('disk_full', `The disk holding ${path} is full; nothing was written. Free some space and try again.`, cause);
  }
  if (code.startsWith('SQLITE_READONLY')) {
    return new TsuzukiError('read_only', `${path} is read-only; nothing was written. Check the file's permissions or choose another file.`, cause);
  }
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new TsuzukiError('busy', `${path} is in use by another running Tsuzuki. Close the other window or process and try again.`, cause);
  }
  if (code === 'SQLITE_NOTADB') {
    return new TsuzukiError('foreign_file', `${path} is not a Tsuzuki database (not an SQLite file). It was left untouched; choose another file.`, cause);
  }
  if (code.startsWith('SQLITE_CORRUPT')) {
    return new TsuzukiError('corrupt_file', `${path} is damaged (${(error as Error).message}). It was left untouched; run \`tsuzuki db check\` or restore a backup.`, cause);
  }
  if (code.startsWith('SQLITE_CANTOPEN') || code.startsWith('SQLITE_PERM') || code.startsWith('SQLITE_AUTH')) {
    return new TsuzukiError('read_only', `Cannot open ${path} (${(error as Error).message}). Check that the folder exists and is writable.`, cause);
  }
  if (code.startsWith('SQLITE_IOERR')) {
    return new TsuzukiError('internal', `Reading or writing ${path} failed (${(error as Error).message}). The disk may be failing or full; nothing was changed.`, cause);
  }
  return error;
}

/** Runs `fn`, reporting SQLite failures as TsuzukiErrors about `path`. */
export function guard<T>(path: string, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    throw toStoreError(error, path);
  }
}
