/** Debian's Chromium, headless, driven by playwright-core (no browser download). */
import { mkdirSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { repoRoot } from './serve';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const artifactsDir = `${repoRoot}test-results`;

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

export function artifactPath(name: string): string {
  mkdirSync(artifactsDir, { recursive: true });
  return `${artifactsDir}/${name}`;
}
