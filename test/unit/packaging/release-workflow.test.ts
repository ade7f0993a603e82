/** The release workflow: pinned actions, the three platforms, secrets wired in, signing forced, e2e before release. */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './matchers';

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  env?: Record<string, string>;
}
interface Job {
  'runs-on': string;
  needs?: string;
  strategy?: { matrix: { os: string[] } };
  permissions?: Record<string, string>;
  env?: Record<string, string>;
  steps: Step[];
}
const { load } = createRequire(import.meta.url)('js-yaml') as { load(text: string): unknown };
const text = readFileSync(join(repoRoot, '.github/workflows/release.yml'), 'utf8');
const workflow = load(text) as { on: object; permissions: Record<string, string>; env?: object; jobs: Record<string, Job> };
const release = workflow.jobs.release!;
const steps = release.steps;
const index = (pattern: RegExp) => steps.findIndex((s) => pattern.test(s.run ?? ''));

describe('release workflow', () => {
  it('pins every action to a full commit SHA', () => {
    const uses = Object.values(workflow.jobs).flatMap((job) => job.steps.flatMap((s) => (s.uses ? [s.uses] : [])));
    expect(uses.length).toBeGreaterThan(3);
    for (const action of uses) expect(action).toMatch(/^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/);
  });

  it('builds on Windows, macOS and Linux after the test suite passes, on version tags', () => {
    expect(release.strategy?.matrix.os.map((os) => os.split('-')[0]).sort()).toEqual(['macos', 'ubuntu', 'windows']);
    expect(release.needs).toBe('verify');
    expect(workflow.jobs.verify!.steps.some((s) => s.run === '.ci/run')).toBe(true);
    expect(workflow.on).toMatchObject({ push: { tags: ['v*'] } });
    expect(workflow.permissions).toEqual({ contents: 'read' });
    expect(release.permissions).toEqual({ contents: 'write' });
  });

  it('lets hosted runners download Electron and runs the Electron end-to-end tests before releasing', () => {
    expect(text).not.toContain('ELECTRON_SKIP_BINARY_DOWNLOAD');
    const packaged = index(/vitest run test\/e2e\/packaged\.electron\.test\.ts/);
    const shell = index(/vitest run electron\.test/);
    const dist = index(/npm run dist -- --publish always/);
    expect(packaged).toBeGreaterThan(index(/npm ci/));
    expect(shell).toBe(packaged);
    expect(dist).toBeGreaterThan(packaged);
  });

  it('signs, notarizes and forces signing only in the publishing step', () => {
    const dist = steps[index(/npm run dist -- --publish always/)]!;
    expect(dist.env).toMatchObject({
      TSUZUKI_RELEASE: '1',
      GH_TOKEN: '${{ secrets.GITHUB_TOKEN }}',
      CSC_LINK: '${{ secrets.CSC_LINK }}',
      CSC_KEY_PASSWORD: '${{ secrets.CSC_KEY_PASSWORD }}',
      WIN_CSC_LINK: '${{ secrets.WIN_CSC_LINK }}',
      AZURE_CLIENT_SECRET: '${{ secrets.AZURE_CLIENT_SECRET }}',
      APPLE_API_KEY_ID: '${{ secrets.APPLE_API_KEY_ID }}',
      APPLE_API_ISSUER: '${{ secrets.APPLE_API_ISSUER }}',
    });
    expect(steps.filter((s) => s.env?.TSUZUKI_RELEASE !== undefined)).toEqual([dist]);
    expect(release.env?.TSUZUKI_RELEASE).toBeUndefined();
    expect(steps.some((s) => /APPLE_API_KEY=\$RUNNER_TEMP\/AuthKey\.p8/.test(s.run ?? ''))).toBe(true);
  });
});
