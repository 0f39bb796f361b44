// Errors, translated once. Every failure that leaves the facade (`Workbench.dispatch`) becomes an
// ApiError through ERROR_TABLE; the HTTP server sends its status, the IPC handler its message,
// field and status, and the CLI exits with the row's exit code. No shell maps errors itself.
import { ConfigError } from '../api/config';
import { ApiError } from '../api/contract';
import { InvalidInputError, InvalidTransitionError, NotFoundError, StoreError } from '../store';
import { BundleError } from './exchange/bundle';
import { ExchangeError } from './exchange/common';

export type ApiStatus = ApiError['status'];

interface ErrorRow {
  /** CLI exit code: 2 for what the person typed or asked for (fix the input), 1 for the rest. */
  exitCode: 1 | 2;
  /** The error types that mean this status; an ApiError or ExchangeError carries its own. */
  errors: readonly (abstract new (...args: never[]) => Error)[];
  /** How the message reads, when the error's own text needs context. */
  message?: (error: Error) => string;
}

/**
 * One row per status. Rows are tried in this order, so a subclass's row (NotFoundError, 404)
 * comes before its base class's (StoreError, 507).
 */
export const ERROR_TABLE: Readonly<Record<ApiStatus, ErrorRow>> = {
  400: {
    exitCode: 2,
    errors: [BundleError, ConfigError],
    message: (error) =>
      error instanceof BundleError ? `Bundle refused, nothing was imported: ${error.message}` : error.message,
  },
  401: { exitCode: 1, errors: [] },
  403: { exitCode: 1, errors: [] },
  404: { exitCode: 2, errors: [NotFoundError] },
  409: { exitCode: 2, errors: [InvalidTransitionError, InvalidInputError] },
  413: { exitCode: 1, errors: [] },
  500: { exitCode: 1, errors: [] },
  507: { exitCode: 1, errors: [StoreError] },
};

const STATUSES = (Object.keys(ERROR_TABLE) as `${ApiStatus}`[]).map(Number) as ApiStatus[];

/** Any thrown value as the ApiError a caller sees: its status from ERROR_TABLE, 500 when no row names it. */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof ExchangeError) return new ApiError(error.status, error.message);
  if (!(error instanceof Error)) return new ApiError(500, String(error));
  for (const status of STATUSES) {
    const row = ERROR_TABLE[status];
    if (!row.errors.some((type) => error instanceof type)) continue;
    return new ApiError(status, row.message ? row.message(error) : error.message, fieldOf(error));
  }
  return new ApiError(500, error.message);
}

/** The CLI's exit code for a failure. */
export function exitCodeOf(error: unknown): number {
  return ERROR_TABLE[toApiError(error).status].exitCode;
}

/** The IPC reply's error: the message, the field it names, and the status the HTTP API would send. */
export function ipcErrorOf(error: unknown): { message: string; status: ApiStatus; field?: string } {
  const { message, status, field } = toApiError(error);
  return { message, status, ...(field ? { field } : {}) };
}

function fieldOf(error: Error): string | undefined {
  if (error instanceof ConfigError) return error.issues[0] ? `config.${error.issues[0].path}` : 'config';
  return undefined;
}
