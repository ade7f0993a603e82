/**
 * Renders resources/icon.svg into the icons electron-builder packs: build/icon.png (1024×1024, also the source of the
 * Linux icons), build/icon.ico (Windows, 16–256 px) and build/icon.icns (macOS, 16–1024 px). Each size is rendered from
 * the vector source, not scaled down. Needs Chromium and the Noto CJK fonts (Debian: chromium, fonts-noto-cjk); the
 * outputs are committed so builds need neither.
 *   npx tsx build/make-icons.ts [--chromium /usr/bin/chromium]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const root = join(import.meta.dirname, '..');
const ICO_SIZES = [16, 24, 32, 48, 64, 128, 256];
// ICNS element types holding PNG data, by pixel size (the @2x types reuse the larger renderings).
const ICNS_TYPES: Array<[string, number]> = [
  ['icp4', 16], ['icp5', 32], ['icp6', 64], ['ic07', 128], ['ic08', 256], ['ic09', 512], ['ic10', 1024],
  ['ic11', 32], ['ic12', 64], ['ic13', 256], ['ic14', 512],
];

/** ICO with PNG entries (Windows Vista and later); 256 is written as 0 in the one-byte size fields. */
export function encodeIco(pngs: Map<number, Buffer>): Buffer {
  const entries = [...pngs].sort(([a], [b]) => a - b);
  const header = Buffer.alloc(6 + 16 * entries.length);
  header.writeUInt16LE(0, 0);
  header.writeUInt16LE(1, 2);
  header.writeUInt16LE(entries.length, 4);
  let offset = header.length;
  entries.forEach(([size, png], i) => {
    const at = 6 + 16 * i;
    header.writeUInt8(size >= 256 ? 0 : size, at);
    header.writeUInt8(size >= 256 ? 0 : size, at + 1);
    header.writeUInt16LE(1, at + 4); // colour planes
    header.writeUInt16LE(32, at + 6); // bits per pixel
    header.writeUInt32LE(png.length, at + 8);
    header.writeUInt32LE(offset, at + 12);
    offset += png.length;
  });
  return Buffer.concat([header, ...entries.map(([, png]) => png)]);
}

/** ICNS: 'icns' + total length, then (type, length incl. 8-byte header, PNG) per element, big-endian. */
export function encodeIcns(pngs: Map<number, Buffer>): Buffer {
  const elements = ICNS_TYPES.map(([type, size]) => {
    const png = pngs.get(size);
    if (!png) throw new Error(`make-icons: no ${size}px rendering for ICNS element ${type}`);
    const head = Buffer.alloc(8);
    head.write(type, 0, 'ascii');
    head.writeUInt32BE(png.length + 8, 4);
    return Buffer.concat([head, png]);
  });
  const head = Buffer.alloc(8);
  head.write('icns', 0, 'ascii');
  head.writeUInt32BE(8 + elements.reduce((n, e) => n + e.length, 0), 4);
  return Buffer.concat([head, ...elements]);
}

async function render(svg: string, sizes: number[], executablePath: string): Promise<Map<number, Buffer>> {
  const browser = await chromium.launch({ executablePath, headless: true });
  try {
    const page = await browser.newPage({ deviceScaleFactor: 1 });
    const out = new Map<number, Buffer>();
    for (const size of sizes) {
      await page.setViewportSize({ width: size, height: size });
      const sized = svg.replace('width="1024" height="1024"', `width="${size}" height="${size}"`);
      await page.setContent(`<!doctype html><html><body style="margin:0;background:transparent">${sized}</body></html>`);
      await page.evaluate(() => document.fonts.ready);
      out.set(size, await page.screenshot({ omitBackground: true, clip: { x: 0, y: 0, width: size, height: size } }));
    }
    return out;
  } finally {
    await browser.close();
  }
}

async function main(): Promise<void> {
  const flag = process.argv.indexOf('--chromium');
  const executablePath = flag >= 0 ? process.argv[flag + 1]! : '/usr/bin/chromium';
  const svg = readFileSync(join(root, 'resources/icon.svg'), 'utf8');
  const sizes = [...new Set([...ICO_SIZES, ...ICNS_TYPES.map(([, s]) => s)])];
  const pngs = await render(svg, sizes, executablePath);
  writeFileSync(join(root, 'build/icon.png'), pngs.get(1024)!);
  writeFileSync(join(root, 'build/icon.ico'), encodeIco(new Map(ICO_SIZES.map((s) => [s, pngs.get(s)!]))));
  writeFileSync(join(root, 'build/icon.icns'), encodeIcns(pngs));
  console.error(`make-icons: wrote build/icon.png, build/icon.ico (${ICO_SIZES.join(', ')}), build/icon.icns`);
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
