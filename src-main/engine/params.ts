/**
 * The engine's door for generation parameters: the contract's bounds (and, given the model's positions, its window),
 * refused as `invalid_argument` with the contract's words, so the CLI, the services and the Generator say the same.
 */
import { TsuzukiError } from '../contract/errors';
import {
  checkGenerationParams,
  DEFAULT_GENERATION_PARAMS,
  paramIssuesMessage,
  type GenerationParams,
  type ParamName,
} from '../contract/generation-params';

/** `params`: the parameters given (from outside they may be anything); absent ones are not checked. */
export function assertGenerationParams(
  params: Partial<Record<ParamName, unknown>>,
  positions?: number,
): asserts params is Partial<GenerationParams> {
  const message = paramIssuesMessage(checkGenerationParams(params, positions));
  if (message !== null) throw new TsuzukiError('invalid_argument', message);
}

/** The parameters given (undefined: not given) over `base` (a preset, or the model card's), checked together. */
export function resolveGenerationParams(
  given: Partial<Record<ParamName, unknown>>,
  base: GenerationParams = DEFAULT_GENERATION_PARAMS,
): GenerationParams {
  const merged: Record<ParamName, unknown> = { ...base };
  for (const name of Object.keys(base) as ParamName[]) if (given[name] !== undefined) merged[name] = given[name];
  assertGenerationParams(merged);
  return merged as GenerationParams;
}
