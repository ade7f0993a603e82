import type { Store } from '../store/store';
import type { NewGenerationInput } from './store-worker-contract';

/** Stores one generation's entries (the database worker, or a Store in this thread); answers their ids in order. */
export interface GenerationHistory {
  record(entries: NewGenerationInput[]): Promise<number[]> | number[];
}

/** A generation's entries in one transaction of `store`: all of them are kept, or none. */
export function storeHistory(store: Store): GenerationHistory {
  return {
    record: (entries) => store.run((s) => s.db.transaction(() => entries.map((entry) => s.generations.insert(entry).id))()),
  };
}
