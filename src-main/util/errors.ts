/**
 * The one error type that crosses layers. `code` is stable (the UI maps it to a Japanese message);
 * `message` says what went wrong and what the user can do about it.
 */
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
