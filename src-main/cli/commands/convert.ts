import { resolve } from 'node:path';
import { convertInWorker } from '../../model/convert/convert-job';
import type { ConvertProgress } from '../../model/convert/convert';
import { DEFAULT_BLOCK_SIZE, SCALE_SEARCHES, TOKEN_TABLE_BLOCK_SIZE, type ScaleSearch } from '../../model/convert/quantize';
import { PRECISIONS, type Precision } from '../../model/convert/weights';
import { TsuzukiError } from '../../contract/errors';
import { parseCommandArgs } from '../args';
import type { Command } from '../command';
import { progressBar } from '../progress';

const usage = `tsuzuki convert <hf-dir> <out-dir> [--precision fp32|fp16|int8|int4] [--block-size ${DEFAULT_BLOCK_SIZE}] [--table-block-size ${TOKEN_TABLE_BLOCK_SIZE}] [--scales ${SCALE_SEARCHES.join('|')}] [--activation-weights]`;

export const convert: Command = {
  name: 'convert',
  summary: 'Convert a Hugging Face GPT-2 checkpoint (e.g. rinna/japanese-gpt-1b) into an ONNX decoder folder (default int4)',
  usage,
  async run(args) {
    const { values, positionals } = parseCommandArgs(usage, args, {
      precision: { type: 'string', default: 'int4' },
      'block-size': { type: 'string' },
      'table-block-size': { type: 'string' },
      scales: { type: 'string', default: 'fitted' },
      'activation-weights': { type: 'boolean', default: false },
    });
    if (positionals.length !== 2) {
      throw new TsuzukiError('invalid_argument', `Expected <hf-dir> and <out-dir>.\nUsage: ${usage}`);
    }
    const precision = values.precision as Precision;
    if (!PRECISIONS.includes(precision)) {
      throw new TsuzukiError('invalid_argument', `--precision must be one of ${PRECISIONS.join(', ')}, got ${values.precision}.\nUsage: ${usage}`);
    }
    const scales = values.scales as ScaleSearch;
    if (!SCALE_SEARCHES.includes(scales)) {
      throw new TsuzukiError('invalid_argument', `--scales must be one of ${SCALE_SEARCHES.join(', ')}, got ${values.scales}.\nUsage: ${usage}`);
    }
    const blockSize = values['block-size'] === undefined ? undefined : Number(values['block-size']);
    const tableBlockSize = values['table-block-size'] === undefined ? undefined : Number(values['table-block-size']);
    const [hfDir, outDir] = positionals as [string, string];

    const bar = await progressBar();
    const onProgress = (p: ConvertProgress) => bar.step(p.phase, p.done, p.total, p.detail);
    const started = performance.now();
    const controller = new AbortController();
    const cancel = () => controller.abort();
    process.once('SIGINT', cancel);
    try {
      const manifest = await convertInWorker(hfDir, outDir, {
        precision,
        ...(blockSize !== undefined ? { blockSize } : {}),
        ...(tableBlockSize !== undefined ? { tableBlockSize } : {}),
        scales,
        activationWeights: values['activation-weights'],
        onProgress,
        signal: controller.signal,
      });
      bar.stop();
      const seconds = Math.round((performance.now() - started) / 100) / 10;
      process.stdout.write(JSON.stringify({ out: resolve(outDir), seconds, ...manifest }, null, 2) + '\n');
      return 0;
    } finally {
      bar.stop();
      process.off('SIGINT', cancel);
    }
  },
};
