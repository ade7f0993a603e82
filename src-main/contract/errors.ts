/**
 * The one error type of the contract: a code from a closed list, and a message that says what went wrong and what
 * the user can do. Every door (the router, the worker port, the CLI) turns whatever was thrown into an `ErrorInfo`
 * with `toErrorInfo`, so a caller sees one of these codes and never a bare exception. Imports nothing from src-main.
 */
import { z } from 'zod';

/** Every code an error can carry; the UI has a message for each (a test checks both languages). */
export const ERROR_CODES = [
  'invalid_payload',
  'unknown_channel',
  'unauthorized',
  'not_found',
  'no_model',
  'invalid_argument',
  'corrupt_file',
  'unsupported',
  'disk_full',
  'read_only',
  'foreign_file',
  'cancelled',
  'busy',
  'network',
  'internal',
  // The renderer's own: the connection to the main process or `tsuzuki serve` was lost.
  'disconnected',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/**
 * An error as it crosses a door. `detail`: where an unexpected error came from (its name and stack), for bug
 * reports; only `internal` errors have one.
 */
export const errorInfoSchema = z.object({ code: z.enum(ERROR_CODES), message: z.string(), detail: z.string().optional() });
export type ErrorInfo = z.infer<typeof errorInfoSchema>;

/** The one error type that crosses layers; throw it with the code that says what kind of failure it is. */
export class TsuzukiError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'TsuzukiError';
  }
}

/** Node's error codes (errno) whose meaning is clear whatever call failed; any other is `internal`. */
const SYSTEM_ERRORS: Record<string, ErrorCode> = {
  ENOSPC: 'disk_full',
  EDQUOT: 'disk_full',
  EFBIG: 'disk_full',
  EROFS: 'read_only',
  EACCES: 'read_only',
  EPERM: 'read_only',
  ENOENT: 'not_found',
  EADDRINUSE: 'busy',
  ECONNREFUSED: 'network',
  ECONNRESET: 'network',
  ETIMEDOUT: 'network',
  ENOTFOUND: 'network',
  EAI_AGAIN: 'network',
};

/** `String(value)`, except that it never throws (an object without a usable toString) and stays short. */
function printable(value: unknown, max = 1000): string {
  try {
    return String(value).slice(0, max);
  } catch {
    return `(${typeof value})`;
  }
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.length ? issue.path.join('.') : '(payload)'}: ${issue.message}`)
    .join('; ');
}

/**
 * Anything thrown, as an `ErrorInfo`. A TsuzukiError keeps its code; a schema failure is `invalid_payload`; a Node
 * system error is classed by its errno; an abort is `cancelled`. Anything else (a RangeError, a TypeError, a thrown
 * string) is `internal` with its own message, never relabelled as something it is not, and its stack as the detail.
 */
export function toErrorInfo(error: unknown): ErrorInfo {
  if (error instanceof TsuzukiError) return { code: error.code, message: error.message };
  if (error instanceof z.ZodError) return { code: 'invalid_payload', message: describeIssues(error) };
  if (!(error instanceof Error)) return { code: 'internal', message: printable(error) };
  const message = printable(error.message);
  const errno = (error as { code?: unknown }).code;
  const system = typeof errno === 'string' && Object.hasOwn(SYSTEM_ERRORS, errno) ? SYSTEM_ERRORS[errno] : undefined;
  if (system) return { code: system, message };
  if (error.name === 'AbortError') return { code: 'cancelled', message };
  return { code: 'internal', message, detail: printable(error.stack ?? `${error.name}: ${error.message}`, 8000) };
}
