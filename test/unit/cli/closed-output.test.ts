import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../helpers/serve';

describe('output closed by the reader', () => {
  it('ends quietly when the reader stops early (tsuzuki tokenize … | head)', async () => {
    const tokenizer = join(repoRoot, 'test/fixtures/tokenizer/bytefb.model');
    const child = spawn(process.execPath, [join(repoRoot, 'bin/tsuzuki.js'), 'tokenize', '--tokenizer', tokenizer, '--lines'], { cwd: repoRoot });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // The command stops reading its input once its output is gone: that write may fail, as it should.
    child.stdin.on('error', () => {});
    child.stdin.end('国境の長いトンネルを抜けると雪国であった。\n'.repeat(20_000));
    // As `head -1` does: read the first line, then close the pipe while the command is still writing.
    await once(child.stdout, 'data');
    child.stdout.destroy();
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(stderr).toBe('');
    expect(code).toBe(0);
  }, 60_000);
});
