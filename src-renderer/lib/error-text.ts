/**
 * An error as the writer reads it: a sentence in the UI's language that says what happened and what to do, chosen
 * by the error's code. The service's own message (English, precise: file names, numbers) is only the detail, shown
 * apart from the sentence, never inside it. Plain TypeScript, so it runs (and is tested) without Svelte.
 */
import type { ErrorCode } from '../../src-main/contract/errors';
import type { MessageKey } from '../i18n/ja';

/** One message per code; a code without one is a type error, and a test checks both languages. */
export const ERROR_MESSAGES: Record<ErrorCode, MessageKey> = {
  invalid_payload: 'errors.invalid_payload',
  unknown_channel: 'errors.unknown_channel',
  unauthorized: 'errors.unauthorized',
  not_found: 'errors.not_found',
  no_model: 'errors.no_model',
  invalid_argument: 'errors.invalid',
  corrupt_file: 'errors.corrupt_file',
  unsupported: 'errors.unsupported',
  disk_full: 'errors.disk_full',
  read_only: 'errors.read_only',
  foreign_file: 'errors.foreign_file',
  cancelled: 'errors.cancelled',
  busy: 'errors.busy',
  network: 'errors.network',
  internal: 'errors.internal',
  disconnected: 'error.disconnected',
};

export interface ErrorText {
  code: ErrorCode;
  /** What happened and what to do, in the UI's language. */
  message: string;
  /** The service's message, for the curious and for bug reports; null when there is none. */
  detail: string | null;
}

/**
 * `translate`: the UI language's message for a key (i18n's `t`). `error`: an ApiError, a `{code, message}` from an
 * event, or anything thrown; one without a known code (a bug, a newer server) is `internal`.
 */
export function errorText(error: unknown, translate: (key: MessageKey) => string): ErrorText {
  const fields = typeof error === 'object' && error !== null ? (error as { code?: unknown; message?: unknown }) : { message: error };
  const code = typeof fields.code === 'string' && Object.hasOwn(ERROR_MESSAGES, fields.code) ? (fields.code as ErrorCode) : 'internal';
  const detail = typeof fields.message === 'string' ? fields.message.trim() : fields.message == null ? '' : String(fields.message);
  return { code, message: translate(ERROR_MESSAGES[code]), detail: detail === '' ? null : detail };
}
