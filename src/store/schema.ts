import type Database from 'better-sqlite3'

/**
 * The load store's schema, as migrations: `MIGRATIONS[v]` takes a store from version v to v + 1
 * (`PRAGMA user_version`). Append, never edit one that has shipped: a store written by any
 * earlier version then opens with every later step applied, each in its own transaction.
 */
export interface Migration {
  /** what the step adds, for the log */
  about: string
  up(db: Database.Database): void
}

export const MIGRATIONS: readonly Migration[] = [
  {
    about: 'loads and their shards',
    up(db) {
      db.exec(`
        -- One row per load. JSON columns hold what the API shows; seq orders history (newest first).
        CREATE TABLE loads (
          seq INTEGER PRIMARY KEY AUTOINCREMENT,
          id TEXT NOT NULL UNIQUE,
          status TEXT NOT NULL,
          seed TEXT NOT NULL,
          dataset INTEGER NOT NULL,
          request TEXT NOT NULL,      -- the normalized request (LoadSpec), range and seed included
          sink TEXT NOT NULL,         -- where it writes, without secrets
          account TEXT NOT NULL,      -- as last recorded
          error TEXT,
          result TEXT,                -- once finished
          attempts TEXT NOT NULL,     -- each finished run (the first, and every resume)
          current_attempt TEXT,       -- the run in progress, as last recorded
          summary TEXT NOT NULL,      -- the load as GET /loads lists it
          resumes INTEGER NOT NULL DEFAULT 0,
          created_at TEXT NOT NULL,
          started_at TEXT,
          finished_at TEXT,
          updated_at TEXT NOT NULL
        );
        CREATE INDEX loads_by_status ON loads (status, seq);
        -- Per shard: its final result, or while it runs the line ranges acknowledged so far.
        CREATE TABLE shards (
          load_seq INTEGER NOT NULL REFERENCES loads (seq) ON DELETE CASCADE,
          shard INTEGER NOT NULL,
          status TEXT NOT NULL,       -- running | completed | stopped | failed
          result TEXT NOT NULL,
          PRIMARY KEY (load_seq, shard)
        ) WITHOUT ROWID;
      `)
    },
  },
  {
    about: 'each load keeps its timeline (charts, reports)',
    up(db) {
      db.exec('ALTER TABLE loads ADD COLUMN timeline TEXT')
    },
  },
]
