/**
 * `npm run bench -- <name> [args]` runs test/bench/<name>.bench.ts, whose default export returns a JSON-able
 * report; the report is printed as JSON on stdout (progress goes to stderr).
 */
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('.', import.meta.url));
const available = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .map((f) => f.slice(0, -'.bench.ts'.length));

const [name, ...args] = process.argv.slice(2);
if (!name || !existsSync(`${dir}/${name}.bench.ts`)) {
  process.stderr.write(`Usage: npm run bench -- <${available.join('|')}> [args]\n`);
  process.exit(2);
}
const bench = (await import(`./${name}.bench.ts`)) as { default: (args: string[]) => Promise<unknown> };
const report = await bench.default(args);
process.stdout.write(JSON.stringify({ bench: name, date: new Date().toISOString(), ...(report as object) }, null, 2) + '\n');
