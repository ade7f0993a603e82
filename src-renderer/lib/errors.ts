/**
 * Errors from the services, as a writer should read them: what happened and what to do, in the UI language. The
 * service's own message (English, precise: file names, numbers) follows as the detail.
 */
import { t, type MessageKey } from '../i18n/index.svelte';
import { ApiError } from './api';

const BY_CODE: Record<string, MessageKey> = {
  no_model: 'errors.no_model',
  not_found: 'errors.not_found',
  disk_full: 'errors.disk_full',
  corrupt_file: 'errors.corrupt_file',
  foreign_file: 'errors.corrupt_file',
  network: 'errors.network',
  unauthorized: 'errors.unauthorized',
  busy: 'errors.busy',
  read_only: 'errors.read_only',
  unsupported: 'errors.unsupported',
  invalid_argument: 'errors.invalid',
  invalid_payload: 'errors.invalid',
  cancelled: 'errors.cancelled',
  disconnected: 'error.disconnected',
};

export function describeError(error: unknown): string {
  if (error instanceof ApiError) {
    const key = BY_CODE[error.code];
    return key ? `${t(key)}(${error.message})` : `${t('errors.internal')}(${error.message})`;
  }
  return `${t('errors.internal')}(${error instanceof Error ? error.message : String(error)})`;
}
