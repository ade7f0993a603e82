import { readFileSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { screen, type BrowserWindow, type Rectangle } from 'electron';
import { z } from 'zod';

const stateSchema = z.object({
  x: z.number().int(),
  y: z.number().int(),
  width: z.number().int().min(400).max(20000),
  height: z.number().int().min(300).max(20000),
  maximized: z.boolean(),
});
export type WindowState = z.infer<typeof stateSchema>;

const DEFAULT = { width: 1200, height: 800 };

/** The saved bounds, if they are valid and still on a connected display. */
export function loadWindowState(dir: string): Partial<WindowState> & { width: number; height: number } {
  try {
    const state = stateSchema.parse(JSON.parse(readFileSync(join(dir, 'window-state.json'), 'utf8')));
    const visible = screen.getAllDisplays().some((d) => intersects(d.workArea, state));
    return visible ? state : { ...DEFAULT, maximized: state.maximized };
  } catch {
    return DEFAULT;
  }
}

function intersects(a: Rectangle, b: Rectangle): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

/** Saves the window's normal (unmaximized) bounds when it closes; written atomically. */
export function rememberWindowState(window: BrowserWindow, dir: string): void {
  window.on('close', () => {
    const bounds = window.getNormalBounds();
    const state: WindowState = { ...bounds, maximized: window.isMaximized() };
    const file = join(dir, 'window-state.json');
    try {
      writeFileSync(`${file}.tmp`, JSON.stringify(state));
      renameSync(`${file}.tmp`, file);
    } catch {
      // Losing the window position is harmless; never block quitting on it.
    }
  });
}
