/**
 * CI runs the README's quick start as written (test/fresh-install/quick-start.sh, called by .ci/run): the script's
 * npm commands are the README's, it runs them with no ELECTRON_* or ONNXRUNTIME_* switch, and it refuses a tree
 * that is no fresh clone, where an earlier install would hide what a new user meets.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './matchers';

const script = join(repoRoot, 'test/fresh-install/quick-start.sh');
const text = readFileSync(script, 'utf8');
const ci = readFileSync(join(repoRoot, '.ci/run'), 'utf8');

/** The commands of the README's "Quick start" section, from its sh blocks. */
function quickStart(): string[] {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const section = readme.split(/^## /m).find((s) => s.startsWith('Quick start'))!;
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((m) => m[1]!.trim().split('\n'));
}

describe('the fresh-install script', () => {
  it("runs each command of the README's quick start, in the scrubbed environment, and .ci/run runs it", () => {
    const commands = quickStart();
    expect(commands).toEqual(expect.arrayContaining(['npm install', 'npm start', 'npm test']));
    const run = [...text.matchAll(/^\s*clean (?:timeout [^n]*)?(npm \w+)/gm)].map((m) => m[1]);
    expect(run.sort()).toEqual([...commands].sort());
    // `clean` starts from an empty environment, and of npm's own settings passes none that names Electron or onnxruntime.
    expect(text).toMatch(/^clean\(\) \{ env -i "\$\{env_args\[@\]\}" "\$@"; \}$/m);
    expect(text).toMatch(/^\s+\*electron\* \| \*onnxruntime\*\) ;;$/m);
    expect(ci).toMatch(/^test\/fresh-install\/quick-start\.sh$/m);
    // CI installs only through the quick start, with no switch of its own.
    expect(ci).not.toMatch(/ELECTRON_SKIP_BINARY_DOWNLOAD|npm ci|ONNXRUNTIME_NODE_INSTALL/);
  });

  it('refuses a tree that already has installed or built files, saying to use a fresh clone', () => {
    // The tests run from a checkout with node_modules: no fresh clone.
    const run = spawnSync('bash', [script], { encoding: 'utf8', timeout: 60_000 });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/^quick start: run this in a fresh clone \(git clone, then this script\): this tree already has\n./);
    expect(run.stdout).toBe('');
  });
});
