/** `.ci/debian-mirror`: CI adds bookworm-backports from the mirror the machine's apt already uses, in either format. */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { repoRoot } from './matchers';

const script = join(repoRoot, '.ci/debian-mirror');
let dir: string;

function aptDir(files: Record<string, string>): string {
  dir = mkdtempSync(join(tmpdir(), 'tsuzuki-apt-'));
  mkdirSync(join(dir, 'sources.list.d'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const mirror = (apt: string) => execFileSync('bash', [script, 'bookworm', apt], { encoding: 'utf8' }).trim();

afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('.ci/debian-mirror', () => {
  it('reads the one-line format, options in brackets included, and skips the security archive', () => {
    const apt = aptDir({
      'sources.list': [
        '# a comment',
        'deb [arch=amd64 signed-by=/usr/share/keyrings/debian.gpg] http://security.example.org/debian-security bookworm-security main',
        'deb-src http://src.example.org/debian bookworm main',
        'deb [arch=amd64 signed-by=/usr/share/keyrings/debian.gpg] http://mirror.example.org/debian bookworm main contrib',
      ].join('\n'),
    });
    expect(mirror(apt)).toBe('http://mirror.example.org/debian');
  });

  it('reads the deb822 format, paragraph by paragraph', () => {
    const apt = aptDir({
      'sources.list.d/debian.sources': [
        'Types: deb',
        'URIs: http://security.example.org/debian-security',
        'Suites: bookworm-security',
        'Components: main',
        '',
        'Types: deb deb-src',
        '# a comment inside the paragraph',
        'URIs: https://mirror.example.net/debian http://second.example.net/debian',
        'Suites: bookworm bookworm-updates',
        'Components: main',
      ].join('\n'),
    });
    expect(mirror(apt)).toBe('https://mirror.example.net/debian');
  });

  it('falls back to deb.debian.org when no source names the release', () => {
    const apt = aptDir({ 'sources.list': 'deb http://mirror.example.org/debian trixie main\n' });
    expect(mirror(apt)).toBe('http://deb.debian.org/debian');
  });

  it('is what .ci/run writes into the backports source', () => {
    const run = readFileSync(join(repoRoot, '.ci/run'), 'utf8');
    expect(run).toContain('"deb $(.ci/debian-mirror bookworm) bookworm-backports main"');
    expect(run).not.toContain('deb http://deb.debian.org/debian bookworm-backports');
  });
});
