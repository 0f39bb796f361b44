// Errors the store raises on purpose. Each says what was wrong, where, and what to do, so a shell
// (dialog, CLI, HTTP) can show the message as is and stop, instead of retrying into a crash loop.

export class StoreError extends Error {
  constructor(message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = new.target.name;
  }
}

/** The database was written by a newer app version; it is left untouched. */
export class DatabaseTooNewError extends StoreError {
  constructor(
    readonly file: string,
    readonly fileVersion: number,
    readonly appVersion: number,
  ) {
    super(
      `The database ${file} has schema version ${fileVersion}, but this app knows versions up to ${appVersion}. ` +
        'It was written by a newer VAE Workbench: update the app, or open another database (--db). The file was not changed.',
    );
  }
}

/** The folder or file cannot be created or written (permissions, read-only disk, a file where a folder should be). */
export class StoreNotWritableError extends StoreError {
  constructor(
    readonly path: string,
    cause: unknown,
  ) {
    super(
      `Cannot write the database at ${path}: ${reason(cause)}. ` +
        'Choose a folder you can write to (--db <file>), or fix the folder permissions.',
      cause,
    );
  }
}

/** SQLITE_FULL: the disk (or the database's page limit) is full. Nothing of the failed write was kept. */
export class StoreFullError extends StoreError {
  constructor(
    readonly path: string,
    cause: unknown,
  ) {
    super(
      `The disk holding ${path} is full; the last write was not saved. ` +
        'Free some space (or delete old runs) and try again.',
      cause,
    );
  }
}

/** The file exists but is not a SQLite database, or is damaged. */
export class StoreCorruptError extends StoreError {
  constructor(
    readonly path: string,
    cause: unknown,
  ) {
    super(
      `The file ${path} is not a VAE Workbench database or is damaged (${reason(cause)}). ` +
        'Move it aside and start again, or open another database (--db).',
      cause,
    );
  }
}

/** The migrations folder is missing or its files are not numbered 0001, 0002, ... without gaps. */
export class MigrationsError extends StoreError {}

export class NotFoundError extends StoreError {}

/** A status change the run lifecycle does not allow (see TRANSITIONS in runs.ts). */
export class InvalidTransitionError extends StoreError {
  constructor(
    readonly runId: string,
    readonly from: string,
    readonly to: string,
    hint = '',
  ) {
    super(`Run ${runId} cannot go from '${from}' to '${to}'.${hint ? ' ' + hint : ''}`);
  }
}

/** A value the store refuses (a NaN metric, a duplicate step, an empty name). Nothing of the batch was written. */
export class InvalidInputError extends StoreError {}

function reason(cause: unknown): string {
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    return typeof code === 'string' ? `${code}: ${cause.message}` : cause.message;
  }
  return String(cause);
}

/**
 * Maps SQLite and file-system failures to the errors above; anything else is returned as is.
 * SQLite error codes: https://www.sqlite.org/rescode.html
 */
export function translateError(error: unknown, path: string): unknown {
  if (error instanceof StoreError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return error;
  if (code === 'SQLITE_FULL' || code === 'ENOSPC') return new StoreFullError(path, error);
  if (
    code.startsWith('SQLITE_READONLY') ||
    code.startsWith('SQLITE_CANTOPEN') ||
    code === 'SQLITE_PERM' ||
    code === 'SQLITE_AUTH' ||
    code === 'EACCES' ||
    code === 'EPERM' ||
    code === 'EROFS' ||
    code === 'ENOTDIR' ||
    code === 'EEXIST'
  ) {
    return new StoreNotWritableError(path, error);
  }
  if (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT')) return new StoreCorruptError(path, error);
  return error;
}
