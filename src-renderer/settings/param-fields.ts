/**
 * The Settings form's side of the generation parameters: each field's min/max/step from the contract's bounds (the
 * length's maximum from the model's window once it is known), and why a value is refused, in the UI's language —
 * the same check the engine, the router and the CLI run. Plain TypeScript, so it runs (and is tested) without Svelte.
 */
import {
  checkGenerationParams,
  maxLengthFor,
  PARAM_BOUNDS,
  type GenerationParams,
  type NumericParam,
  type ParamIssue,
  type ParamReason,
} from '../../src-main/contract/generation-params';
import type { MessageKey } from '../i18n/ja';

const REASONS: Record<ParamReason, MessageKey> = {
  integer: 'params.reason.integer',
  range: 'params.reason.range',
  openRange: 'params.reason.openRange',
  boolean: 'params.reason.boolean',
  window: 'params.reason.window',
  sampling: 'params.reason.sampling',
  order: 'params.reason.order',
};

/** The input's attributes; an open minimum (top-p, the penalty) starts one step above it. */
export function fieldBounds(param: NumericParam, positions: number | null): { min: number; max: number; step: number } {
  const b = PARAM_BOUNDS[param];
  return {
    min: b.minExclusive ? b.min + b.step : b.min,
    max: param === 'maxNewTokens' && positions !== null ? maxLengthFor(positions) : b.max,
    step: b.step,
  };
}

/**
 * The field that shows each issue of `params`: an issue's own parameter, except that a length shorter than the
 * preset's minimum (a field the form does not show) is the length's.
 */
export function fieldIssues(params: Record<keyof GenerationParams, unknown>, positions: number | null): Partial<Record<NumericParam, ParamIssue>> {
  const byField: Partial<Record<NumericParam, ParamIssue>> = {};
  for (const issue of checkGenerationParams(params, positions ?? undefined)) {
    const field = issue.reason === 'order' ? 'maxNewTokens' : issue.param;
    if (field !== 'doSample') byField[field] ??= issue;
  }
  return byField;
}

/** The reason shown beside the field. */
export function reasonText(issue: ParamIssue, translate: (key: MessageKey, values?: Record<string, string | number>) => string): string {
  const values: Record<string, string | number> = { got: String(issue.got) };
  for (const key of ['min', 'max', 'positions'] as const) if (issue[key] !== undefined) values[key] = issue[key];
  return translate(REASONS[issue.reason], values);
}
