/**
 * The zod schemas of the generation parameters (the contract's payloads, stored presets, the worker's requests), built
 * on generation-params.ts's checks: each refusal is a custom issue with that module's words and its `ParamIssue`,
 * which the router answers as `invalid_argument`, the same error every other door gives for the same values.
 */
import { z } from 'zod';
import { checkTogether, checkValue, describeParamIssue, paramIssuesMessage, type GenerationParams, type ParamIssue, type ParamName } from './generation-params';

/** Marks a zod issue as a parameter bound, so the router answers it as `invalid_argument` with its message. */
const PARAM_ISSUE = 'generationParam';

function field<T>(param: ParamName) {
  return z.custom<T>().superRefine((value, ctx) => {
    const issue = checkValue(param, value);
    if (issue) ctx.addIssue({ code: 'custom', message: describeParamIssue(issue), params: { [PARAM_ISSUE]: issue } });
  });
}

const shape = {
  doSample: field<boolean>('doSample'),
  temperature: field<number>('temperature'),
  topK: field<number>('topK'),
  topP: field<number>('topP'),
  repetitionPenalty: field<number>('repetitionPenalty'),
  maxNewTokens: field<number>('maxNewTokens'),
  minNewTokens: field<number>('minNewTokens'),
  numAlternatives: field<number>('numAlternatives'),
  seed: field<number | null>('seed'),
};

/** The rules between parameters (the model's window is the engine's to check: a payload does not know the model). */
function together(p: Partial<GenerationParams>, ctx: z.RefinementCtx): void {
  for (const issue of checkTogether(p)) {
    ctx.addIssue({ code: 'custom', path: [issue.param], message: describeParamIssue(issue), params: { [PARAM_ISSUE]: issue } });
  }
}

/** All the parameters (a stored preset). */
export const generationParamsSchema = z.object(shape).superRefine(together);

/** Some of the parameters (a request: the rest comes from the active preset). */
export const generationParamsPatchSchema = z.object(shape).partial().superRefine(together);

/** The sampler's part (what the generation worker is sent). */
export const samplingParamsSchema = z
  .object({
    doSample: shape.doSample,
    temperature: shape.temperature,
    topK: shape.topK,
    topP: shape.topP,
    repetitionPenalty: shape.repetitionPenalty,
    minNewTokens: shape.minNewTokens,
  })
  .superRefine(together);

/** The length alone (a prefill's). */
export const maxNewTokensSchema = shape.maxNewTokens;

/**
 * The message of a schema failure that is only parameter bounds (the same words every door uses), else null: a
 * failure with any other issue (a wrong type elsewhere in the payload) stays the router's `invalid_payload`.
 */
export function paramBoundsMessage(error: z.ZodError): string | null {
  const issues = error.issues.map((i) => (i.code === 'custom' ? (i.params?.[PARAM_ISSUE] as ParamIssue | undefined) : undefined));
  return issues.every((i) => i !== undefined) ? paramIssuesMessage(issues as ParamIssue[]) : null;
}
