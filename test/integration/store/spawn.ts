import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const childScript = fileURLToPath(new URL('./child.ts', import.meta.url));

/** Starts child.ts under tsx; `onLine` gets each JSON line it prints. */
export function startChild(args: string[], onLine: (msg: Record<string, unknown>) => void, options: SpawnOptions = {}): { child: ChildProcess; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', childScript, ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], ...options });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  createInterface({ input: child.stdout! }).on('line', (line) => {
    try {
      onLine(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // a partial last line from a killed child
    }
  });
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      if (code !== 0 && code !== null && stderr) process.stderr.write(stderr);
      resolve(code);
    }),
  );
  return { child, exited };
}

/** Runs child.ts to completion and returns the JSON lines it printed. */
export async function runChild(args: string[], options: SpawnOptions = {}): Promise<Array<Record<string, unknown>>> {
  const lines: Array<Record<string, unknown>> = [];
  const { exited } = startChild(args, (m) => lines.push(m), options);
  await exited;
  return lines;
}
