/**
 * A second process for the fault tests: `writer` autosaves and inserts as fast as it can and prints one line per
 * write that returned (the parent kills it with SIGKILL mid-stream); `hold` opens the database and waits (another
 * running instance); `propose` leaves one continuation proposed and waits to be killed; `open` tries to open it and
 * prints the outcome.
 */
import { Store } from '../../../src-main/store/store';

const [mode, path] = process.argv.slice(2) as [string, string];
const print = (value: unknown) => process.stdout.write(JSON.stringify(value) + '\n');

if (mode === 'writer') {
  const store = await Store.open(path);
  const doc = store.documents.create({ title: 'crash test' });
  print({ kind: 'doc', id: doc.id });
  for (let i = 0; ; i++) {
    // The text grows each save, like typing; every fifth write is a generation insert.
    const body = `第${i}版。` + '吾輩は猫である。'.repeat(50 + (i % 200));
    store.documents.save(doc.id, body);
    print({ kind: 'save', i, length: body.length });
    if (i % 5 === 0) {
      const g = store.generations.insert({
        documentId: doc.id, groupId: `g${i}`, contextBefore: body.slice(-100), contextAfter: '', text: `続き${i}`, tokenIds: [i],
        params: {}, seed: i, modelId: 'm', precision: 'fp32', device: 'cpu', timings: {},
      });
      print({ kind: 'gen', i, id: g.id, uuid: g.uuid });
    }
  }
} else if (mode === 'propose') {
  // A run that proposes a continuation, accepts another and is then killed before the first is resolved.
  const store = await Store.open(path);
  const base = { documentId: null, contextBefore: '国境の', contextAfter: '', tokenIds: [1], params: {}, seed: 1, modelId: 'm', precision: 'fp32', device: 'cpu', timings: {} };
  const pending = store.generations.insert({ ...base, groupId: 'pending', text: '長いトンネル' });
  const accepted = store.generations.insert({ ...base, groupId: 'accepted', text: '雪国であった' });
  store.generations.setStatus(accepted.id, 'accepted');
  print({ kind: 'ready', pending: pending.id, accepted: accepted.id });
  setInterval(() => {}, 60_000); // keep running until killed
} else if (mode === 'hold') {
  const store = await Store.open(path);
  store.documents.list(1, null);
  print({ kind: 'ready' });
  setInterval(() => {}, 60_000); // keep running (holding the lock) until killed
} else {
  try {
    const store = await Store.open(path);
    store.documents.create({ title: 'written' });
    store.close();
    print({ ok: true });
  } catch (error) {
    print({ ok: false, code: (error as { code?: string }).code, message: (error as Error).message });
  }
}
