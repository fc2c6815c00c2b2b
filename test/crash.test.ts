import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, describe, expect, inject, it } from 'vitest'
import type { LoadView } from '../src/api/schemas.js'
import { startServe } from './harness/cli.js'
import { call } from './harness/http.js'
import { countInflux } from './harness/servers.js'
import { expectAccountBalances } from './harness/account.js'

// `serve` killed with SIGKILL mid-load (no shutdown, no last write to its store), restarted on
// the same STATE_DIR: the load is `interrupted` with an account the database bears out, and
// resume completes it to exactly the planned points. Real processes, Debian's influxd.

type Serve = ReturnType<typeof startServe>
type Progress = LoadView['progress']


const dirs: string[] = []
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

/** When to kill: a test on the load's progress as GET /loads/:id shows it. */
const MOMENTS: { name: string; when: (p: Progress) => boolean }[] = [
  { name: 'early', when: (p) => p.pointsWritten > 0 && p.pointsWritten < p.pointsPlanned * 0.2 },
  { name: 'middle', when: (p) => p.pointsWritten >= p.pointsPlanned * 0.45 },
  // every shard but the last is done, or the points left fit in one shard (two run side by side)
  { name: 'last shard', when: (p) => p.shardsDone >= p.shardsTotal - 1 || p.pointsPlanned - p.pointsWritten <= 60_000 },
]

describe('serve killed with SIGKILL in the middle of a 1M-trade load (10 shards)', () => {
  const influx = inject('influxUrl')

  for (const [n, moment] of MOMENTS.entries()) {
    it(`killed ${moment.name}: interrupted with an account the database bears out; resume ends with exactly the plan and verify ok`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'ohlcv-crash-'))
      dirs.push(dir)
      const db = `crash_${n}`
      const env = { INFLUX_URL: influx, INFLUX_DB: db, STATE_DIR: dir, POOL_SIZE: '2', LOG_LEVEL: 'warn' }
      let s: Serve = startServe(env)
      let url = await s.listening
      const created = await call<{ id: string }>(url, 'POST', '/loads', { trades: 1_000_000, seed: `crash-${n}`, from: '2024-01-01T00:00:00Z', to: '2024-01-08T00:00:00Z' })
      expect(created.status).toBe(202)
      const id = created.body.id
      let seen: LoadView | undefined
      for (;;) {
        const { body } = await call<LoadView>(url, 'GET', `/loads/${id}`)
        expect(body.status, 'the load ended before the moment came').toBe('running')
        if (moment.when(body.progress)) {
          seen = body
          break
        }
        await sleep(5)
      }
      s.child.kill('SIGKILL')
      await s.exited
      const atKill = await countInflux(influx, db)

      s = startServe(env)
      url = await s.listening
      try {
        const after = (await call<LoadView>(url, 'GET', `/loads/${id}`)).body
        expect(after.status).toBe('interrupted')
        const a = after.progress
        expectAccountBalances(a)
        expect(a.pointsWritten).toBeLessThanOrEqual(atKill)
        // at most a moment of acknowledgements lost: what GET showed before the kill is on disk
        expect(a.pointsWritten).toBeGreaterThanOrEqual(seen.progress.pointsWritten - 200_000)
        expect(after.error?.code).toBe('OHLCV_INTERRUPTED')
        expect(after.result?.status).toBe('interrupted')
        const listed = (await call<{ loads: { id: string; status: string }[] }>(url, 'GET', '/loads?status=interrupted')).body.loads
        expect(listed.map((l) => l.id)).toEqual([id])

        expect((await call(url, 'POST', `/loads/${id}/resume`)).status).toBe(202)
        let done: LoadView
        for (;;) {
          done = (await call<LoadView>(url, 'GET', `/loads/${id}`)).body
          if (done.result) break
          await sleep(100)
        }
        expect(done.status).toBe('succeeded')
        expect(done.resumes).toBe(1)
        const r = done.result
        expect(r.pointsWritten).toBe(r.pointsPlanned)
        expect(r.pointsFailed + r.pointsInDoubt + r.pointsUnsent).toBe(0)
        const final = await countInflux(influx, db)
        expect(final).toBe(1_000_000)
        const report = (await call<{ ok: boolean; pointsFound: number }>(url, 'POST', `/loads/${id}/verify`, { interval: '1h' })).body
        expect(report).toMatchObject({ ok: true, pointsFound: 1_000_000 })
        console.log(
          `killed ${moment.name}: GET before the kill said ${seen.progress.pointsWritten.toLocaleString('en-US')} written (${seen.progress.shardsDone}/${seen.progress.shardsTotal} shards); ` +
            `database at the kill ${atKill.toLocaleString('en-US')}; after restart written ${a.pointsWritten.toLocaleString('en-US')}, in doubt ${a.pointsInDoubt.toLocaleString('en-US')}, unsent ${a.pointsUnsent.toLocaleString('en-US')}; ` +
            `after resume database ${final.toLocaleString('en-US')}, verify ok`,
        )
      } finally {
        s.child.kill('SIGTERM')
        await s.exited
      }
    }, 120_000)
  }
})
