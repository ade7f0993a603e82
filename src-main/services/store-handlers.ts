/** The documents, history, settings and db requests of the contract, over one open Store. */
import type { storeRequests } from '../contract/store';
import type { Handlers } from '../ipc/router';
import { listBackups } from '../store/backups';
import type { Store } from '../store/store';
import { TsuzukiError } from '../contract/errors';
import { DocumentsService } from './documents';
import { HistoryService } from './history';
import { ManuscriptsService } from './manuscripts';
import { SettingsService } from './settings';

export interface StoreDeps {
  /** The open database; absent when it could not be opened (`storeError` says why, and every request reports it). */
  store?: Store | null;
  storeError?: unknown;
}

/** The store requests need no events or caller: any contract that holds them can use these handlers. */
export type StoreHandlers = Handlers<{ requests: typeof storeRequests; events: Record<never, never> }>;

/** `deps` is read at each request, so that its holder may open the database later (the database worker does). */
export function createStoreHandlers(deps: StoreDeps): StoreHandlers {
  let services: { store: Store; documents: DocumentsService; manuscripts: ManuscriptsService; history: HistoryService; settings: SettingsService } | null = null;
  const need = () => {
    const store = deps.store ?? null;
    if (store) {
      if (services?.store !== store) {
        services = { store, documents: new DocumentsService(store), manuscripts: new ManuscriptsService(store), history: new HistoryService(store), settings: new SettingsService(store) };
      }
      return services;
    }
    if (deps.storeError instanceof TsuzukiError) throw deps.storeError;
    throw new TsuzukiError('not_found', `No database is open${deps.storeError instanceof Error ? `: ${deps.storeError.message}` : '.'}`);
  };
  return {
    'documents.list': (input) => need().documents.list(input),
    'documents.create': (input) => need().documents.create(input),
    'documents.rename': ({ id, title }) => need().documents.rename(id, title),
    'documents.get': ({ id }) => need().documents.get(id),
    'documents.save': (input) => need().documents.save(input),
    'documents.delete': ({ id, permanent }) => need().documents.delete(id, permanent),
    'documents.restore': ({ id }) => need().documents.restore(id),
    'documents.trash': ({ limit, offset }) => need().documents.trash(limit, offset),
    'documents.revisions': ({ id }) => need().documents.revisions(id),
    'documents.revision': ({ revisionId }) => need().documents.revision(revisionId),
    'documents.restoreRevision': ({ id, revisionId }) => need().documents.restoreRevision(id, revisionId),
    'documents.export': async ({ id, options }) => {
      const { filename, mimeType, bytes } = await need().manuscripts.export(id, options);
      return { filename, mimeType, base64: Buffer.from(bytes).toString('base64') };
    },
    'documents.import': ({ name, base64 }) => need().manuscripts.import(name, Buffer.from(base64, 'base64')),
    'history.list': (input) => need().history.list(input),
    'history.search': (input) => need().history.search(input),
    'history.get': ({ id }) => need().history.get(id),
    'history.setStatus': ({ id, status }) => need().history.setStatus(id, status),
    'history.branches': ({ documentId, before }) => need().history.branches(documentId, before),
    'history.delete': ({ ids }) => need().history.delete(ids),
    'history.export': (input) => need().history.export(input),
    'history.import': ({ content, name }) => need().history.import(content, name),
    'settings.get': () => need().settings.get(),
    'settings.set': (input) => need().settings.set(input),
    'db.status': () => {
      const { store } = need();
      const { created, migratedFrom, migratedTo, recovery } = store.report;
      return { path: store.path, schemaVersion: migratedTo, created, migratedFrom, recovery, backups: listBackups(store.path) };
    },
    'db.check': () => {
      const { store } = need();
      return { ...store.check(), recovery: store.report.recovery };
    },
    'db.backup': () => need().store.backup(),
  };
}
