/**
 * A continuation still proposed when its run ended (a crash, a closed window, a killed server) can never be accepted
 * any more: the next open of the database marks it interrupted, on a real SQLite file, and nothing else.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Store } from '../../../src-main/store/store';
import { generation, useTempDir } from '../../unit/store/helpers';
import { startChild } from './spawn';

const tmp = useTempDir();

describe('continuations left proposed by an earlier run', () => {
  it('are interrupted at the next open, in one go; one proposed after that open stays proposed', async () => {
    const path = join(tmp.dir(), 'tsuzuki.db');
    const first = await Store.open(path);
    const left = first.generations.insert(generation({ groupId: 'a', text: '残された提案' }));
    const accepted = first.generations.insert(generation({ groupId: 'b' }));
    first.generations.setStatus(accepted.id, 'accepted', 1000);
    const rejected = first.generations.insert(generation({ groupId: 'c', status: 'rejected', statusChangedAt: 1000 }));
    first.close();

    const before = Date.now();
    const second = await Store.open(path);
    try {
      const interrupted = second.generations.get(left.id);
      expect(interrupted).toMatchObject({ status: 'interrupted', text: '残された提案' });
      expect(interrupted.statusChangedAt).toBeGreaterThanOrEqual(before);
      expect(second.generations.get(accepted.id)).toMatchObject({ status: 'accepted', statusChangedAt: 1000 });
      expect(second.generations.get(rejected.id)).toMatchObject({ status: 'rejected', statusChangedAt: 1000 });
      expect(second.generations.list({ status: 'interrupted' }, 10, null).map((g) => g.id)).toEqual([left.id]);

      const current = second.generations.insert(generation({ groupId: 'd' }));
      expect(second.generations.get(current.id).status).toBe('proposed');
      // Still this run's: accepting it works as ever.
      expect(second.generations.setStatus(current.id, 'accepted').status).toBe('accepted');
    } finally {
      second.close();
    }
  });

  it('of a process killed mid-run are left alone while it holds the file, and interrupted once it is gone', async () => {
    const path = join(tmp.dir(), 'tsuzuki.db');
    let ids: { pending: number; accepted: number } | null = null;
    let ready!: () => void;
    const started = new Promise<void>((resolve) => (ready = resolve));
    const { child, exited } = startChild(['propose', path], (m) => {
      if (m.kind !== 'ready') return;
      ids = { pending: m.pending as number, accepted: m.accepted as number };
      ready();
    });
    await started;
    // A second instance is refused while the first runs, so it can never mark the live run's proposals.
    await expect(Store.open(path, { busyTimeoutMs: 100 })).rejects.toMatchObject({ code: 'busy' });
    child.kill('SIGKILL');
    await exited;

    const store = await tmp.open();
    expect(store.generations.get(ids!.pending).status).toBe('interrupted');
    expect(store.generations.get(ids!.accepted).status).toBe('accepted');
    expect(store.check().ok).toBe(true);
  });
});
