import type Database from 'better-sqlite3';
import { countChars } from '../manuscript/counts';
import { chunkText } from './chunks';

/**
 * The schema's history, as data. Each migration runs in its own transaction and sets `PRAGMA user_version` to its
 * version, so `user_version` always names the last migration fully applied. Never edit a released migration:
 * append a new one.
 */
export interface Migration {
  version: number;
  name: string;
  up(db: Database.Database): void;
}

/** 'Tsuz' — marks the file as ours, so a foreign SQLite file is refused instead of being "migrated". */
export const APPLICATION_ID = 0x5473757a;

export const migrations: Migration[] = [
  {
    version: 1,
    name: 'documents, revisions and settings',
    up(db) {
      db.pragma(`application_id = ${APPLICATION_ID}`);
      db.exec(`
        CREATE TABLE documents (
          id INTEGER PRIMARY KEY,
          uuid TEXT NOT NULL UNIQUE,
          title TEXT NOT NULL,
          created_at INTEGER NOT NULL,
          updated_at INTEGER NOT NULL,
          deleted_at INTEGER,
          char_count INTEGER NOT NULL DEFAULT 0,
          preview TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX documents_recent ON documents (deleted_at, updated_at DESC, id DESC);
        -- The text lives apart from the metadata so that listing documents never reads a 200,000-character body.
        CREATE TABLE document_bodies (
          document_id INTEGER PRIMARY KEY REFERENCES documents (id) ON DELETE CASCADE,
          body TEXT NOT NULL
        );
        CREATE TABLE document_revisions (
          id INTEGER PRIMARY KEY,
          document_id INTEGER NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
          body TEXT NOT NULL,
          created_at INTEGER NOT NULL,
          reason TEXT NOT NULL
        );
        CREATE INDEX document_revisions_by_document ON document_revisions (document_id, id DESC);
        CREATE TABLE settings (
          key TEXT PRIMARY KEY,
          value TEXT NOT NULL,
          updated_at INTEGER NOT NULL
        );
      `);
    },
  },
  {
    version: 2,
    name: 'generations',
    up(db) {
      db.exec(`
        CREATE TABLE generations (
          id INTEGER PRIMARY KEY,
          uuid TEXT NOT NULL UNIQUE,
          document_id INTEGER REFERENCES documents (id) ON DELETE SET NULL,
          group_id TEXT NOT NULL,
          alt_index INTEGER NOT NULL DEFAULT 0,
          context_before TEXT NOT NULL,
          context_after TEXT NOT NULL,
          text TEXT NOT NULL,
          token_ids BLOB NOT NULL,
          params TEXT NOT NULL,
          seed INTEGER,
          model_id TEXT NOT NULL,
          precision TEXT NOT NULL,
          device TEXT NOT NULL,
          timings TEXT NOT NULL,
          finish_reason TEXT,
          status TEXT NOT NULL CHECK (status IN ('proposed', 'accepted', 'rejected', 'edited')),
          status_changed_at INTEGER,
          created_at INTEGER NOT NULL
        );
        CREATE INDEX generations_recent ON generations (created_at DESC, id DESC);
        CREATE INDEX generations_by_document ON generations (document_id, created_at DESC, id DESC);
        CREATE INDEX generations_by_status ON generations (status, created_at DESC, id DESC);
        CREATE INDEX generations_by_model ON generations (model_id, created_at DESC, id DESC);
        CREATE INDEX generations_by_group ON generations (group_id, alt_index);
      `);
    },
  },
  {
    version: 3,
    name: 'document memo and writing mode',
    up(db) {
      db.exec(`
        ALTER TABLE documents ADD COLUMN memo TEXT NOT NULL DEFAULT '';
        ALTER TABLE documents ADD COLUMN writing_mode TEXT NOT NULL DEFAULT 'horizontal'
          CHECK (writing_mode IN ('horizontal', 'vertical'));
      `);
    },
  },
  {
    version: 4,
    name: 'full-text search (trigram, plus 1–2 character grams)',
    up(db) {
      // Triggers call tsuzuki_grams(), which every connection registers before it migrates (see connection.ts).
      db.exec(`
        CREATE VIRTUAL TABLE generations_fts USING fts5 (text, content = 'generations', content_rowid = 'id', tokenize = 'trigram');
        CREATE VIRTUAL TABLE generations_grams USING fts5 (grams, content = '', contentless_delete = 1, tokenize = 'ascii', detail = 'none');
        CREATE TRIGGER generations_index_insert AFTER INSERT ON generations BEGIN
          INSERT INTO generations_fts (rowid, text) VALUES (new.id, new.text);
          INSERT INTO generations_grams (rowid, grams) VALUES (new.id, tsuzuki_grams(new.text));
        END;
        CREATE TRIGGER generations_index_delete AFTER DELETE ON generations BEGIN
          INSERT INTO generations_fts (generations_fts, rowid, text) VALUES ('delete', old.id, old.text);
          DELETE FROM generations_grams WHERE rowid = old.id;
        END;
        CREATE TRIGGER generations_index_update AFTER UPDATE OF text ON generations BEGIN
          INSERT INTO generations_fts (generations_fts, rowid, text) VALUES ('delete', old.id, old.text);
          INSERT INTO generations_fts (rowid, text) VALUES (new.id, new.text);
          DELETE FROM generations_grams WHERE rowid = old.id;
          INSERT INTO generations_grams (rowid, grams) VALUES (new.id, tsuzuki_grams(new.text));
        END;
        INSERT INTO generations_fts (rowid, text) SELECT id, text FROM generations;
        INSERT INTO generations_grams (rowid, grams) SELECT id, tsuzuki_grams(text) FROM generations;

        CREATE TABLE document_chunks (
          id INTEGER PRIMARY KEY,
          document_id INTEGER NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
          hash TEXT NOT NULL,
          body TEXT NOT NULL
        );
        CREATE INDEX document_chunks_by_document ON document_chunks (document_id);
        CREATE VIRTUAL TABLE document_chunks_fts USING fts5 (body, content = 'document_chunks', content_rowid = 'id', tokenize = 'trigram');
        CREATE VIRTUAL TABLE document_chunks_grams USING fts5 (grams, content = '', contentless_delete = 1, tokenize = 'ascii', detail = 'none');
        CREATE TRIGGER document_chunks_index_insert AFTER INSERT ON document_chunks BEGIN
          INSERT INTO document_chunks_fts (rowid, body) VALUES (new.id, new.body);
          INSERT INTO document_chunks_grams (rowid, grams) VALUES (new.id, tsuzuki_grams(new.body));
        END;
        CREATE TRIGGER document_chunks_index_delete AFTER DELETE ON document_chunks BEGIN
          INSERT INTO document_chunks_fts (document_chunks_fts, rowid, body) VALUES ('delete', old.id, old.body);
          DELETE FROM document_chunks_grams WHERE rowid = old.id;
        END;
      `);
      const insert = db.prepare('INSERT INTO document_chunks (document_id, hash, body) VALUES (?, ?, ?)');
      for (const row of db.prepare('SELECT document_id, body FROM document_bodies').all() as Array<{ document_id: number; body: string }>) {
        for (const chunk of chunkText(row.body)) insert.run(row.document_id, chunk.hash, chunk.body);
      }
    },
  },
  {
    version: 5,
    name: 'documents stored as paragraph chunks, indexed off the autosave path',
    up(db) {
      // A document's text is kept as its chunks (chunks.ts), so an autosave of a 200,000-character document writes
      // the one or two chunks that changed, not the whole text. Chunk texts live apart from the small chunk rows so
      // that a search grouping thousands of matching chunks by document reads small rows. An autosave only queues
      // the document; the search index catches up in the background (and before any document search).
      db.exec(`
        DROP TRIGGER document_chunks_index_insert;
        DROP TRIGGER document_chunks_index_delete;
        DROP TABLE document_chunks_fts;
        DROP TABLE document_chunks_grams;
        DROP TABLE document_chunks;
        ALTER TABLE documents ADD COLUMN chunk_ids TEXT NOT NULL DEFAULT '';
        CREATE TABLE document_chunks (
          id INTEGER PRIMARY KEY,
          document_id INTEGER NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
          hash TEXT NOT NULL,
          -- 0: replaced by a save; the indexer takes it out of the index and deletes it.
          live INTEGER NOT NULL DEFAULT 1,
          indexed INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX document_chunks_by_document ON document_chunks (document_id, live, hash);
        CREATE TABLE document_chunk_texts (
          chunk_id INTEGER PRIMARY KEY REFERENCES document_chunks (id) ON DELETE CASCADE,
          body TEXT NOT NULL
        );
        CREATE VIRTUAL TABLE document_chunks_fts USING fts5 (body, content = 'document_chunk_texts', content_rowid = 'chunk_id', tokenize = 'trigram');
        CREATE VIRTUAL TABLE document_chunks_grams USING fts5 (grams, content = '', contentless_delete = 1, tokenize = 'ascii', detail = 'none');
        CREATE TRIGGER document_chunks_unindex BEFORE DELETE ON document_chunks WHEN old.indexed = 1 BEGIN
          INSERT INTO document_chunks_fts (document_chunks_fts, rowid, body) SELECT 'delete', chunk_id, body FROM document_chunk_texts WHERE chunk_id = old.id;
          DELETE FROM document_chunks_grams WHERE rowid = old.id;
        END;
        -- stamp grows with every save, so the indexer can tell whether the text changed while it worked.
        CREATE TABLE document_index_queue (
          document_id INTEGER PRIMARY KEY REFERENCES documents (id) ON DELETE CASCADE,
          stamp INTEGER NOT NULL
        );
      `);
      const insertChunk = db.prepare('INSERT INTO document_chunks (document_id, hash) VALUES (?, ?)');
      const insertText = db.prepare('INSERT INTO document_chunk_texts (chunk_id, body) VALUES (?, ?)');
      const setOrder = db.prepare('UPDATE documents SET chunk_ids = ? WHERE id = ?');
      for (const row of db.prepare('SELECT document_id, body FROM document_bodies').all() as Array<{ document_id: number; body: string }>) {
        const ids = chunkText(row.body).map((chunk) => {
          const id = Number(insertChunk.run(row.document_id, chunk.hash).lastInsertRowid);
          insertText.run(id, chunk.body);
          return id;
        });
        setOrder.run(ids.join(','), row.document_id);
      }
      db.exec(`
        DROP TABLE document_bodies;
        INSERT INTO document_index_queue (document_id, stamp) SELECT id, 0 FROM documents;
      `);
    },
  },
  {
    version: 6,
    name: 'revisions share the chunks of the text they snapshot',
    up(db) {
      // A new revision lists the chunks its text is made of (those of the document at the time) instead of copying
      // 200,000 characters; chunks a revision still needs are kept when the document moves on. Older revisions keep
      // their copied text in `body`.
      db.exec(`
        ALTER TABLE document_revisions ADD COLUMN chunk_ids TEXT;
        ALTER TABLE document_revisions ADD COLUMN char_count INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE document_revisions ADD COLUMN preview TEXT NOT NULL DEFAULT '';
        UPDATE document_revisions SET char_count = length(body), preview = substr(body, 1, 240);
        -- Deleting a chunk a revision still needs fails the statement (NO ACTION), never a silent loss.
        CREATE TABLE revision_chunks (
          revision_id INTEGER NOT NULL REFERENCES document_revisions (id) ON DELETE CASCADE,
          chunk_id INTEGER NOT NULL REFERENCES document_chunks (id),
          PRIMARY KEY (revision_id, chunk_id)
        ) WITHOUT ROWID;
        CREATE INDEX revision_chunks_by_chunk ON revision_chunks (chunk_id);
      `);
    },
  },
  {
    version: 7,
    name: 'documents remember which text came from the model',
    up(db) {
      // [from, to) offsets into the body of the text accepted from the model (the editor's count of model vs
      // writer text); written with each autosave, as the editor knows them.
      db.exec(`ALTER TABLE documents ADD COLUMN generated_ranges TEXT NOT NULL DEFAULT '[]';`);
    },
  },
  {
    version: 8,
    name: 'a continuation left proposed when its run ended is interrupted',
    up(db) {
      // SQLite cannot change a CHECK constraint in place: the table is rebuilt with the same columns and ids (the
      // search indexes refer to rows by id, so they stay valid), and its indexes and triggers are made again.
      db.exec(`
        CREATE TABLE generations_v8 (
          id INTEGER PRIMARY KEY,
          uuid TEXT NOT NULL UNIQUE,
          document_id INTEGER REFERENCES documents (id) ON DELETE SET NULL,
          group_id TEXT NOT NULL,
          alt_index INTEGER NOT NULL DEFAULT 0,
          context_before TEXT NOT NULL,
          context_after TEXT NOT NULL,
          text TEXT NOT NULL,
          token_ids BLOB NOT NULL,
          params TEXT NOT NULL,
          seed INTEGER,
          model_id TEXT NOT NULL,
          precision TEXT NOT NULL,
          device TEXT NOT NULL,
          timings TEXT NOT NULL,
          finish_reason TEXT,
          status TEXT NOT NULL CHECK (status IN ('proposed', 'accepted', 'rejected', 'edited', 'interrupted')),
          status_changed_at INTEGER,
          created_at INTEGER NOT NULL
        );
        INSERT INTO generations_v8 SELECT id, uuid, document_id, group_id, alt_index, context_before, context_after, text, token_ids,
          params, seed, model_id, precision, device, timings, finish_reason, status, status_changed_at, created_at FROM generations;
        DROP TABLE generations;
        ALTER TABLE generations_v8 RENAME TO generations;
        CREATE INDEX generations_recent ON generations (created_at DESC, id DESC);
        CREATE INDEX generations_by_document ON generations (document_id, created_at DESC, id DESC);
        CREATE INDEX generations_by_status ON generations (status, created_at DESC, id DESC);
        CREATE INDEX generations_by_model ON generations (model_id, created_at DESC, id DESC);
        CREATE INDEX generations_by_group ON generations (group_id, alt_index);
        CREATE TRIGGER generations_index_insert AFTER INSERT ON generations BEGIN
          INSERT INTO generations_fts (rowid, text) VALUES (new.id, new.text);
          INSERT INTO generations_grams (rowid, grams) VALUES (new.id, tsuzuki_grams(new.text));
        END;
        CREATE TRIGGER generations_index_delete AFTER DELETE ON generations BEGIN
          INSERT INTO generations_fts (generations_fts, rowid, text) VALUES ('delete', old.id, old.text);
          DELETE FROM generations_grams WHERE rowid = old.id;
        END;
        CREATE TRIGGER generations_index_update AFTER UPDATE OF text ON generations BEGIN
          INSERT INTO generations_fts (generations_fts, rowid, text) VALUES ('delete', old.id, old.text);
          INSERT INTO generations_fts (rowid, text) VALUES (new.id, new.text);
          DELETE FROM generations_grams WHERE rowid = old.id;
          INSERT INTO generations_grams (rowid, grams) VALUES (new.id, tsuzuki_grams(new.text));
        END;
      `);
    },
  },
  {
    version: 9,
    name: 'per-document aids: steering, author\'s note, character book',
    up(db) {
      // JSON of contract/document-aids.ts's documentAidsSchema, checked on every read (a damaged value reads as the
      // defaults). '{}' is every part at its defaults.
      db.exec(`ALTER TABLE documents ADD COLUMN aids TEXT NOT NULL DEFAULT '{}';`);
    },
  },
  {
    version: 10,
    name: 'generations found by the point in the text they continue',
    up(db) {
      // The branch panel asks for the generations that continued the text at the cursor. Their context's last 32
      // characters (substr counts characters) find them: derived from what is stored, so no column to fill or keep.
      db.exec(`CREATE INDEX generations_by_point ON generations (document_id, substr(context_before, -32));`);
    },
  },
  {
    version: 11,
    name: '文字数 by the one rule of manuscript/counts.ts',
    up(db) {
      // Stored counts counted line breaks and ruby readings (and, for revisions from before v6, UTF-16 units): the
      // document list said 74 where the status bar said 61. Counted again from the stored text, once.
      const chunk = db.prepare('SELECT body FROM document_chunk_texts WHERE chunk_id = ?').pluck();
      const text = (ids: string | null) => (ids ?? '').split(',').filter(Boolean).map((id) => (chunk.get(Number(id)) as string | undefined) ?? '').join('');
      const setDocument = db.prepare('UPDATE documents SET char_count = ? WHERE id = ?');
      for (const { id, chunk_ids } of db.prepare('SELECT id, chunk_ids FROM documents').all() as Array<{ id: number; chunk_ids: string | null }>) {
        setDocument.run(countChars(text(chunk_ids)), id);
      }
      const revisionBody = db.prepare('SELECT body FROM document_revisions WHERE id = ?').pluck();
      const setRevision = db.prepare('UPDATE document_revisions SET char_count = ? WHERE id = ?');
      for (const { id, chunk_ids } of db.prepare('SELECT id, chunk_ids FROM document_revisions').all() as Array<{ id: number; chunk_ids: string | null }>) {
        setRevision.run(countChars(chunk_ids === null ? (revisionBody.get(id) as string) : text(chunk_ids)), id);
      }
    },
  },
];

export const LATEST_VERSION = migrations[migrations.length - 1]!.version;

/** Applies every migration above the database's `user_version`, each in one transaction. */
export function migrate(db: Database.Database, list: Migration[] = migrations): { from: number; to: number } {
  const from = db.pragma('user_version', { simple: true }) as number;
  for (const migration of list) {
    if (migration.version <= from) continue;
    db.transaction(() => {
      migration.up(db);
      db.pragma(`user_version = ${migration.version}`);
    }).immediate();
  }
  return { from, to: db.pragma('user_version', { simple: true }) as number };
}
