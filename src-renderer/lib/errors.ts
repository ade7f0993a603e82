/**
 * Errors from the services, in the UI language (see error-text.ts). `describeError` is the sentence alone, for
 * places with room for one line; ErrorMessage.svelte shows the sentence with the service's message as a detail.
 */
import { t } from '../i18n/index.svelte';
import { errorText } from './error-text';

export function describeError(error: unknown): string {
  return errorText(error, t).message;
}
