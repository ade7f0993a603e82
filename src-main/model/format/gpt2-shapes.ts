import type { Gpt2Config } from './config';

/**
 * Every tensor a GPT-2 LM needs, in model order, with the shape the config implies. Names carry no
 * `transformer.` prefix; Conv1D weights are `[in, out]` as Hugging Face stores them.
 */
export function expectedGpt2Shapes(config: Gpt2Config): Map<string, number[]> {
  const { vocabSize: v, nPositions: p, nEmbd: e, nInner: inner } = config;
  const shapes = new Map<string, number[]>([
    ['wte.weight', [v, e]],
    ['wpe.weight', [p, e]],
  ]);
  for (let i = 0; i < config.nLayer; i++) {
    const h = `h.${i}.`;
    shapes.set(`${h}ln_1.weight`, [e]);
    shapes.set(`${h}ln_1.bias`, [e]);
    shapes.set(`${h}attn.c_attn.weight`, [e, 3 * e]);
    shapes.set(`${h}attn.c_attn.bias`, [3 * e]);
    shapes.set(`${h}attn.c_proj.weight`, [e, e]);
    shapes.set(`${h}attn.c_proj.bias`, [e]);
    shapes.set(`${h}ln_2.weight`, [e]);
    shapes.set(`${h}ln_2.bias`, [e]);
    shapes.set(`${h}mlp.c_fc.weight`, [e, inner]);
    shapes.set(`${h}mlp.c_fc.bias`, [inner]);
    shapes.set(`${h}mlp.c_proj.weight`, [inner, e]);
    shapes.set(`${h}mlp.c_proj.bias`, [e]);
  }
  shapes.set('ln_f.weight', [e]);
  shapes.set('ln_f.bias', [e]);
  shapes.set('lm_head.weight', [v, e]);
  return shapes;
}
