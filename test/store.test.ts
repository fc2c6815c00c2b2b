import Database from 'better-sqlite3'
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import type { LoadView } from '../src/api/schemas.js'
import type { LoadSummary } from '../src/model/summary.js'
import { StoreError, StoreLockedError } from '../src/errors.js'
import { LoadStore } from '../src/store/loadStore.js'
import { openStore, STORE_FILE } from '../src/store/open.js'
import { MIGRATIONS } from '../src/store/schema.js'
import { startServe } from './harness/cli.js'
import { call, finished, writing } from './harness/http.js'
import { startCoordinator } from './harness/coordinator.js'
import { pino } from 'pino'
import { Writable } from 'node:stream'

// The load store (STATE_DIR): refusals that leave a file untouched, migrations, the lock between
// two coordinators, and history across restarts of real `serve` processes (null sink).

const dirs: string[] = []
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'ohlcv-store-'))
  dirs.push(d)
  return d
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex')



/** A store with one real load in it, made by a serve that then stopped. */
async function storeWithALoad(): Promise<string> {
  const dir = tempDir()
  const s = startServe({ SINK: 'null', POOL_SIZE: '1', STATE_DIR: dir, LOG_LEVEL: 'warn' })
  const url = await s.listening
  const { body } = await call<{ id: string }>(url, 'POST', '/loads', { trades: 20_000, seed: 'stored' })
  await finished(url, body.id)
  s.child.kill('SIGTERM')
  expect(await s.exited).toBe(0)
  return dir
}

/** serve on `dir` must refuse to start: exit 2, one line naming the file, no stack trace. */
async function expectRefusal(dir: string, pattern: RegExp): Promise<void> {
  const s = startServe({ SINK: 'null', POOL_SIZE: '1', STATE_DIR: dir })
  expect(await s.exited).toBe(2)
  const out = s.output().trim()
  expect(out.split('\n')).toHaveLength(1)
  expect(out).toContain(join(dir, STORE_FILE))
  expect(out).toMatch(pattern)
  expect(out).not.toMatch(/^\s+at /m)
}

describe('a store that cannot be used is refused with one line, and left as it was', () => {
  it('garbage in place of the store', async () => {
    const dir = tempDir()
    const file = join(dir, STORE_FILE)
    writeFileSync(file, Buffer.from(Array.from({ length: 8192 }, (_, i) => (i * 7919) % 251)))
    const before = sha(file)
    await expectRefusal(dir, /is not a load store \(not an SQLite database\); it was left untouched/)
    expect(sha(file)).toBe(before)
    expect(() => LoadStore.open(dir)).toThrow(StoreError)
    expect(sha(file)).toBe(before)
  })

  it('a store truncated (a disk that filled up, a copy cut short)', async () => {
    const dir = await storeWithALoad()
    const file = join(dir, STORE_FILE)
    const size = readFileSync(file).length
    expect(size).toBeGreaterThan(4096)
    truncateSync(file, Math.floor(size / 2))
    const before = sha(file)
    await expectRefusal(dir, /is truncated|is damaged/)
    expect(sha(file)).toBe(before)
  }, 30_000)

  it("another program's SQLite database", async () => {
    const dir = tempDir()
    const file = join(dir, STORE_FILE)
    const other = new Database(file)
    other.exec('CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES (\'keep me\')')
    other.close()
    const before = sha(file)
    await expectRefusal(dir, /is an SQLite database of another program/)
    expect(sha(file)).toBe(before)
  })

  it('a store from a newer version', async () => {
    const dir = await storeWithALoad()
    const file = join(dir, STORE_FILE)
    const db = new Database(file)
    db.pragma(`user_version = ${MIGRATIONS.length + 1}`)
    db.close()
    const before = sha(file)
    await expectRefusal(dir, new RegExp(`was written by a newer ohlcv-loadgen \\(store schema ${MIGRATIONS.length + 1}; this version reads up to ${MIGRATIONS.length}\\)`))
    expect(sha(file)).toBe(before)
  }, 30_000)
})

describe('a store whose last checkpoint ran out of disk space', () => {
  /**
   * What a checkpoint on a full disk leaves: page 1 (with the new page count) written into the
   * file, the file not grown, the -wal not reset and holding every page. Made from a real store:
   * the last committed copy of page 1 in its -wal is written over the file's page 1.
   */
  function checkpointCutShort(file: string): void {
    const wal = readFileSync(`${file}-wal`)
    const pageSize = wal.readUInt32BE(8)
    let page1 = -1
    let lastCommit = -1
    for (let at = 32; at + 24 + pageSize <= wal.length; at += 24 + pageSize) {
      if (wal.readUInt32BE(at + 8) !== wal.readUInt32BE(16) || wal.readUInt32BE(at + 12) !== wal.readUInt32BE(20)) break
      if (wal.readUInt32BE(at) === 1) page1 = at
      if (wal.readUInt32BE(at + 4) > 0) lastCommit = at
    }
    expect(page1).toBeGreaterThan(0)
    expect(page1).toBeLessThanOrEqual(lastCommit)
    const main = readFileSync(file)
    wal.copy(main, 0, page1 + 24, page1 + 24 + pageSize)
    writeFileSync(file, main)
  }

  it('copied with its -wal to a roomy disk, it opens: history is there and a resume goes on', async () => {
    const dir = tempDir()
    const env = { SINK: 'null', POOL_SIZE: '1', STATE_DIR: dir, SHUTDOWN_GRACE_MS: '0', LOG_LEVEL: 'warn' }
    let s = startServe(env)
    let url = await s.listening
    const small = (await call<{ id: string }>(url, 'POST', '/loads', { trades: 10_000, seed: 'wal-1' })).body.id
    await finished(url, small)
    const big = (await call<{ id: string }>(url, 'POST', '/loads', { trades: 2_000_000_000, seed: 'wal-2' })).body.id
    await writing(url, big)
    expect((await call(url, 'DELETE', `/loads/${big}`)).status).toBe(202)
    const cancelled = await finished(url, big)
    // killed: nothing checkpoints the -wal into the file
    s.child.kill('SIGKILL')
    await s.exited
    const copy = tempDir()
    const file = join(copy, STORE_FILE)
    copyFileSync(join(dir, STORE_FILE), file)
    copyFileSync(join(dir, `${STORE_FILE}-wal`), `${file}-wal`)
    checkpointCutShort(file)
    const head = readFileSync(file).subarray(0, 100)
    expect(head.readUInt32BE(28) * head.readUInt16BE(16)).toBeGreaterThan(statSync(file).size) // the header says more than the file has

    s = startServe({ ...env, STATE_DIR: copy })
    url = await s.listening // before: exit 2, "is truncated (4096 bytes; its header says 28672)"
    try {
      const list = (await call<{ loads: LoadSummary[] }>(url, 'GET', '/loads')).body.loads
      expect(list.map((l) => [l.id, l.status])).toEqual([[big, 'cancelled'], [small, 'succeeded']])
      expect(list[0]!.account.pointsWritten).toBe(cancelled.result.pointsWritten)
      expect((await call(url, 'POST', `/loads/${big}/resume`)).status).toBe(202)
      await writing(url, big, cancelled.result.pointsWritten)
      await call(url, 'DELETE', `/loads/${big}`)
      const resumed = await finished(url, big)
      expect(resumed).toMatchObject({ status: 'cancelled', resumes: 1 })
      expect(resumed.result.pointsWritten).toBeGreaterThan(cancelled.result.pointsWritten)
    } finally {
      s.child.kill('SIGTERM')
      await s.exited
    }
  }, 30_000)
})

describe('one damaged record costs only its load', () => {
  it('history lists it as damaged with the reason; GET answers OHLCV_LOAD_DAMAGED naming the column; the others read, report and resume; forget removes it', async () => {
    const dir = tempDir()
    const env = { SINK: 'null', POOL_SIZE: '1', STATE_DIR: dir, SHUTDOWN_GRACE_MS: '0', LOG_LEVEL: 'warn' }
    let s = startServe(env)
    let url = await s.listening
    const post = async (body: unknown) => (await call<{ id: string }>(url, 'POST', '/loads', body)).body.id
    const badRequest = await post({ trades: 10_000, seed: 'dmg-1' })
    await finished(url, badRequest)
    const badSummary = await post({ trades: 10_000, seed: 'dmg-2' })
    await finished(url, badSummary)
    const good = await post({ trades: 2_000_000_000, seed: 'dmg-3' })
    await writing(url, good)
    await call(url, 'DELETE', `/loads/${good}`)
    const cancelled = await finished(url, good)
    s.child.kill('SIGTERM')
    expect(await s.exited).toBe(0)
    // SQLite's structure stays sound; one JSON value of each of two rows does not parse
    const db = new Database(join(dir, STORE_FILE))
    db.prepare('UPDATE loads SET request = substr(request, 1, 40) WHERE id = ?').run(badRequest)
    db.prepare("UPDATE loads SET summary = '{\"id\": tru' WHERE id = ?").run(badSummary)
    db.close()

    s = startServe(env)
    url = await s.listening
    try {
      // before: 500 {"code":"OHLCV_INTERNAL","message":"Unexpected end of JSON input"} on each of these
      const list = await call<{ loads: LoadSummary[] }>(url, 'GET', '/loads')
      expect(list.status).toBe(200)
      expect(list.body.loads.map((l) => [l.id, l.status, l.damaged?.replace(/:.*/, '')])).toEqual([
        [good, 'cancelled', undefined],
        [badSummary, 'succeeded', 'summary'],
        [badRequest, 'succeeded', 'request'],
      ])
      expect(list.body.loads[1]!.damaged).toMatch(/^summary: .*JSON/)
      // the summary rebuilt from what still reads: the request and the account
      expect(list.body.loads[1]).toMatchObject({ request: { trades: 10_000 }, account: { pointsWritten: 10_000 } })
      const one = await call<{ code: string; message: string }>(url, 'GET', `/loads/${badRequest}`)
      expect(one.status).toBe(500)
      expect(one.body.code).toBe('OHLCV_LOAD_DAMAGED')
      expect(one.body.message).toMatch(new RegExp(`^load ${badRequest} cannot be read from the load store .*: its request is damaged \\(.*JSON.*\\); the other loads are unaffected`))
      for (const path of [`/loads/${badSummary}/report`, `/loads/${badRequest}/resume`]) {
        const r = await call<{ code: string }>(url, path.endsWith('resume') ? 'POST' : 'GET', path)
        expect([r.status, r.body.code]).toEqual([500, 'OHLCV_LOAD_DAMAGED'])
      }
      // the rest works: read, report, resume
      expect((await call<LoadView>(url, 'GET', `/loads/${good}`)).body.result?.pointsWritten).toBe(cancelled.result.pointsWritten)
      expect((await fetch(`${url}/loads/${good}/report`)).status).toBe(200)
      expect((await call(url, 'POST', `/loads/${good}/resume`)).status).toBe(202)
      await writing(url, good, cancelled.result.pointsWritten)
      await call(url, 'DELETE', `/loads/${good}`)
      expect(await finished(url, good)).toMatchObject({ status: 'cancelled', resumes: 1 })
      // and the damaged one can be removed
      expect((await call(url, 'DELETE', `/loads/${badRequest}?forget=true`)).status).toBe(204)
      expect((await call<{ loads: LoadSummary[] }>(url, 'GET', '/loads')).body.loads.map((l) => l.id)).toEqual([good, badSummary])
    } finally {
      s.child.kill('SIGTERM')
      await s.exited
    }
  }, 30_000)
})

describe('a STATE_DIR on a read-only file system', () => {
  // root ignores permission bits, so the test makes the file system itself read-only: a tmpfs it
  // mounts, fills with a real store, and remounts read-only
  const mounts: string[] = []
  afterAll(() => {
    for (const m of mounts) execFileSync('umount', [m])
  })

  it('is refused at start with one line that says read-only, not "disk I/O error"', async () => {
    const dir = tempDir()
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', dir])
    mounts.push(dir)
    const s = startServe({ SINK: 'null', POOL_SIZE: '1', STATE_DIR: dir, LOG_LEVEL: 'warn' })
    const url = await s.listening
    await finished(url, (await call<{ id: string }>(url, 'POST', '/loads', { trades: 10_000, seed: 'ro' })).body.id)
    s.child.kill('SIGTERM')
    expect(await s.exited).toBe(0)
    execFileSync('mount', ['-o', 'remount,ro', dir])
    // before: "load store …/loads.sqlite cannot be used (disk I/O error)"
    await expectRefusal(dir, /cannot be written: .* is on a read-only file system \(EROFS\)/)
    // a new directory under it cannot even be made
    await expectRefusal(join(dir, 'sub'), /cannot be written: .* is on a read-only file system \(EROFS\)/)
  }, 30_000)
})

describe('schema migrations', () => {
  it('a store of an older schema opens with the later steps applied, its loads kept', () => {
    const path = join(tempDir(), STORE_FILE)
    const first = openStore(path, MIGRATIONS)
    first.prepare("INSERT INTO loads (id, status, seed, dataset, request, sink, account, attempts, summary, created_at, updated_at) VALUES ('old', 'succeeded', 's', 3, '{}', '{}', '{}', '[]', '{}', 'x', 'x')").run()
    first.close()
    const next = [...MIGRATIONS, { about: 'a note per load', up: (db: Database.Database) => db.exec('ALTER TABLE loads ADD COLUMN note TEXT') }]
    const db = openStore(path, next)
    expect(db.pragma('user_version', { simple: true })).toBe(next.length)
    expect(db.prepare('SELECT id, note FROM loads').all()).toEqual([{ id: 'old', note: null }])
    db.close()
  })

  it('a store of schema 1 (before timelines) is migrated when serve opens it, and new loads keep their timelines in it', async () => {
    const dir = tempDir()
    const v1 = openStore(join(dir, STORE_FILE), MIGRATIONS.slice(0, 1))
    v1.close()
    // a serve of this version opens it (migrating it), runs a load, and a later one reads both
    const s = startServe({ SINK: 'null', POOL_SIZE: '1', STATE_DIR: dir, LOG_LEVEL: 'warn' })
    const url = await s.listening
    const { body } = await call<{ id: string }>(url, 'POST', '/loads', { trades: 10_000, seed: 'migrated' })
    await finished(url, body.id)
    const timeline = (await call<{ samples: unknown[] }>(url, 'GET', `/loads/${body.id}/timeline`)).body
    expect(timeline.samples.length).toBeGreaterThan(0)
    s.child.kill('SIGTERM')
    expect(await s.exited).toBe(0)
    const db = new Database(join(dir, STORE_FILE), { readonly: true })
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length)
    db.close()
    const store = LoadStore.open(dir)
    expect(store.get(body.id)?.timeline?.samples.length).toBe(timeline.samples.length)
    store.close()
  }, 30_000)

  it('a migration that fails leaves the store at its version', () => {
    const path = join(tempDir(), STORE_FILE)
    openStore(path, MIGRATIONS).close()
    const broken = [...MIGRATIONS, { about: 'broken', up: (db: Database.Database) => db.exec('ALTER TABLE nowhere ADD COLUMN x') }]
    expect(() => openStore(path, broken)).toThrow(/cannot be used \(no such table: nowhere\)/)
    const db = openStore(path, MIGRATIONS)
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length)
    db.close()
  })
})

describe('one coordinator per state directory', () => {
  it('a second serve on the same STATE_DIR refuses to start with one line; the first goes on', async () => {
    const dir = tempDir()
    const first = startServe({ SINK: 'null', POOL_SIZE: '1', STATE_DIR: dir, LOG_LEVEL: 'warn' })
    const url = await first.listening
    try {
      const second = startServe({ SINK: 'null', POOL_SIZE: '1', STATE_DIR: dir })
      expect(await second.exited).toBe(2)
      expect(second.output().trim()).toBe(
        `ohlcv-loadgen: load store ${join(dir, STORE_FILE)} is in use by another coordinator (pid ${first.child.pid}): stop it, or give this one another STATE_DIR (--state-dir)`,
      )
      expect((await call(url, 'POST', '/loads', { trades: 1000 })).status).toBe(202)
      // in one process too: SQLite's lock, not only the pid file
      expect(() => LoadStore.open(dir)).toThrow(StoreLockedError)
    } finally {
      first.child.kill('SIGTERM')
      await first.exited
    }
    // The lock goes with the process (even a SIGKILLed one): the next one starts.
    const killed = startServe({ SINK: 'null', POOL_SIZE: '1', STATE_DIR: dir })
    await killed.listening
    killed.child.kill('SIGKILL')
    await killed.exited
    const store = LoadStore.open(dir)
    expect(store.count()).toBe(1)
    store.close()
  }, 30_000)
})

describe('history across restarts', () => {
  it('three restarts: loads listed newest first, paged, filtered; retention trims the oldest; a cancelled load resumes after a restart; forget removes one', async () => {
    const dir = tempDir()
    const env = { SINK: 'null', POOL_SIZE: '1', STATE_DIR: dir, LOAD_HISTORY: '4', SHUTDOWN_GRACE_MS: '0', LOG_LEVEL: 'warn' }
    const ids: string[] = []
    const post = async (url: string, body: unknown) => {
      const r = await call<{ id: string }>(url, 'POST', '/loads', body)
      expect(r.status).toBe(202)
      ids.push(r.body.id)
      return r.body.id
    }
    const list = async (url: string, query = '') => (await call<{ loads: LoadSummary[]; next: string | null }>(url, 'GET', `/loads${query}`)).body

    // 1st run: two loads that finish, one cancelled part-way
    let s = startServe(env)
    let url = await s.listening
    for (const seed of ['h1', 'h2']) await finished(url, await post(url, { trades: 10_000, seed }))
    const cancelled = await post(url, { trades: 2_000_000_000, seed: 'h3' })
    await writing(url, cancelled)
    expect((await call(url, 'DELETE', `/loads/${cancelled}`)).status).toBe(202)
    const cancelledView = await finished(url, cancelled)
    expect(cancelledView.status).toBe('cancelled')
    s.child.kill('SIGTERM')
    expect(await s.exited).toBe(0)
    // on disk: a finished load has each shard that ran as its result, and no shard left "running"
    const store = LoadStore.open(dir)
    const rows = store.shards(cancelled)
    expect(rows.length).toBeGreaterThan(0)
    expect(rows.filter((r) => r.status === 'running')).toEqual([])
    expect(rows.reduce((t, r) => t + (r.status === 'running' ? 0 : r.result.written), 0)).toBe(cancelledView.result.pointsWritten)
    store.close()

    // 2nd run: the three are there, newest first; the cancelled one shows what it wrote, and resumes
    s = startServe(env)
    url = await s.listening
    let page = await list(url)
    expect(page.loads.map((l) => l.id)).toEqual([ids[2], ids[1], ids[0]])
    expect(page.loads.map((l) => l.status)).toEqual(['cancelled', 'succeeded', 'succeeded'])
    const wasWritten = page.loads[0]!.account.pointsWritten
    expect(wasWritten).toBeGreaterThan(0)
    const full = (await call<LoadView>(url, 'GET', `/loads/${ids[0]}`)).body
    expect(full).toMatchObject({ status: 'succeeded', seed: 'h1', request: { trades: 10_000 }, result: { pointsWritten: 10_000 } })
    // resuming a 2-billion-trade load would take long: cancel the resumed run again, it keeps its account
    expect((await call(url, 'POST', `/loads/${cancelled}/resume`)).status).toBe(202)
    await writing(url, cancelled, wasWritten)
    await call(url, 'DELETE', `/loads/${cancelled}`)
    const resumed = await finished(url, cancelled)
    expect(resumed).toMatchObject({ status: 'cancelled', resumes: 1 })
    expect(resumed.result.pointsWritten).toBeGreaterThan(wasWritten)
    expect(resumed.result.attempts).toHaveLength(2)
    await finished(url, await post(url, { trades: 10_000, seed: 'h4' }))
    s.child.kill('SIGTERM')
    expect(await s.exited).toBe(0)

    // 3rd run: a fifth load; LOAD_HISTORY 4 trims the oldest
    s = startServe(env)
    url = await s.listening
    await finished(url, await post(url, { trades: 10_000, seed: 'h5' }))
    page = await list(url)
    expect(page.loads.map((l) => l.id)).toEqual([ids[4], ids[3], ids[2], ids[1]])
    expect((await call(url, 'GET', `/loads/${ids[0]}`)).status).toBe(404)
    // paged, and filtered by status
    const first = await list(url, '?limit=3')
    expect(first.loads.map((l) => l.id)).toEqual([ids[4], ids[3], ids[2]])
    expect(first.next).toBe(`/loads?limit=3&before=${ids[2]}`)
    expect((await list(url, first.next!.slice('/loads'.length))).loads.map((l) => l.id)).toEqual([ids[1]])
    expect((await list(url, '?status=cancelled')).loads.map((l) => l.id)).toEqual([ids[2]])
    // forget: a finished load's record goes; a later list and GET do not have it
    expect((await call(url, 'DELETE', `/loads/${ids[3]}?forget=true`)).status).toBe(204)
    expect((await call(url, 'GET', `/loads/${ids[3]}`)).status).toBe(404)
    s.child.kill('SIGTERM')
    expect(await s.exited).toBe(0)

    // and it stays forgotten after the last restart
    s = startServe(env)
    url = await s.listening
    expect((await list(url)).loads.map((l) => l.id)).toEqual([ids[4], ids[2], ids[1]])
    // forgetting a running load is refused: cancel it first
    const running = await post(url, { trades: 2_000_000_000, seed: 'h6' })
    const refused = await call<{ code: string; message: string }>(url, 'DELETE', `/loads/${running}?forget=true`)
    expect(refused.status).toBe(409)
    expect(refused.body.code).toBe('OHLCV_LOAD_RUNNING')
    // SIGTERM (no grace): the running load is cancelled, and recorded so
    s.child.kill('SIGTERM')
    expect(await s.exited).toBe(0)
    const last = LoadStore.open(dir)
    expect(last.get(running)).toMatchObject({ status: 'cancelled', result: { status: 'cancelled' } })
    last.close()
  }, 60_000)
})

describe('a store that stops taking writes', () => {
  it('does not stop the loads: they end with exact accounts, and the log says what a crash would now lose', async () => {
    const lines: { msg: string; level: number }[] = []
    const sink = new Writable({ write: (c: Buffer, _e, cb) => (lines.push(JSON.parse(c.toString()) as { msg: string; level: number }), cb()) })
    const co = await startCoordinator({ kind: 'null' }, 1, undefined, { logger: pino({ level: 'info' }, sink) })
    try {
      const { body } = await co.json<{ id: string }>('POST', '/loads', { trades: 3_000_000, seed: 'full-disk' })
      co.manager.store.close() // every write from now on throws, as on a full or vanished disk
      const done = await co.waitDone(body.id)
      expect(done.status).toBe('succeeded')
      expect(done.result.pointsWritten).toBe(3_000_000)
      const errors = lines.filter((l) => l.msg.startsWith('cannot write the load store'))
      expect(errors.length).toBeGreaterThanOrEqual(1)
      expect(errors.length).toBeLessThanOrEqual(2) // at most one per 10 s
      // a new load is refused, not half-started
      const refused = await co.json<{ code: string; message: string }>('POST', '/loads', { trades: 1000 })
      expect(refused.status).toBe(500)
      expect(refused.body).toMatchObject({ code: 'OHLCV_STATE_STORE', message: 'load store :memory: cannot be written (The database connection is not open): the load was not started' })
      expect(co.manager.runningCount).toBe(0)
    } finally {
      await co.app.close()
    }
  }, 30_000)
})
