import { createHash } from 'node:crypto'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { parseAllDocuments, parse as parseYaml } from 'yaml'
import { parseCommandLine } from '../src/cli/args.js'
import { partitionSource } from '../src/config.js'
import { readSettings } from '../src/settings.js'
import { InfluxV1Client } from '../src/influx/v1.js'
import { LoadRun } from '../src/load/run.js'
import { indexAmong, partitionFromDns, sortAddresses } from '../src/partition/dns.js'
import { ownedCount, parsePartition } from '../src/partition/partition.js'
import { normalizeRequest } from '../src/request/normalize.js'
import { validateLoadRequest } from '../src/request/validate.js'
import { ShardPool } from '../workers/pool.js'
import { runCli } from './harness/cli.js'
import { silent, spec } from './harness/load.js'
import { freePort } from './harness/servers.js'
import type { RunReport } from '../src/app/runLoad.js'

// 200,000 trades over 8 weeks: 8 shards (at most 7 days each), so 7 partitions own 1 or 2 each.
const LOAD = { trades: 200_000, seed: 'partitions', from: '2024-03-04T00:00:00Z', to: '2024-04-29T00:00:00Z', symbols: ['AAPL', 'MSFT', 'BRK.B'] }

describe('partitions: the union of N runs is the whole load', () => {
  let pool: ShardPool
  const dir = mkdtempSync(join(tmpdir(), 'ohlcv-part-'))
  beforeAll(() => {
    pool = new ShardPool(2)
  })
  afterAll(async () => {
    await pool.close()
  })

  const run = async (out: string, partition?: { index: number; count: number }) => {
    const load = new LoadRun({ id: 'p', spec: spec(LOAD), sink: { kind: 'file', out }, pool, log: silent, ...(partition ? { partition } : {}) })
    const r = await load.run()
    expect(r.status).toBe('succeeded')
    expect(r.pointsWritten).toBe(r.pointsPlanned)
    return { r, lines: readFileSync(out, 'utf8').split('\n').filter((l) => l !== '') }
  }
  const digest = (lines: string[]) => createHash('sha256').update([...lines].sort().join('\n')).digest('hex')

  it.each([1, 2, 3, 7])('N = %i: sorted lines identical to the whole run, none twice, planned counts add up', async (n) => {
    const whole = await run(join(dir, 'whole.lp'))
    expect(whole.r.shardsTotal).toBe(8)
    const parts = []
    for (let i = 0; i < n; i++) parts.push(await run(join(dir, `p${n}-${i}.lp`), { index: i, count: n }))
    const union = parts.flatMap((p) => p.lines)
    expect(union.length).toBe(whole.lines.length)
    expect(new Set(union).size).toBe(union.length)
    expect(digest(union)).toBe(digest(whole.lines))
    expect(parts.reduce((s, p) => s + p.r.pointsPlanned, 0)).toBe(200_000)
    expect(parts.map((p) => p.r.shardsTotal)).toEqual(Array.from({ length: n }, (_, i) => ownedCount({ index: i, count: n }, 8)))
  })
})

describe('partitions into a real influxd, started three ways, and verify per partition', () => {
  const url = inject('influxUrl')
  const base = ['--trades', String(LOAD.trades), '--seed', LOAD.seed, '--from', LOAD.from, '--to', LOAD.to, '--symbols', LOAD.symbols.join(','), '--pool-size', '2']
  const env = { INFLUX_URL: url, INFLUX_DB: 'partitions' }

  it('--partition, PARTITION and JOB_COMPLETION_INDEX + PARTITION_COUNT: the database counts the whole load; verify passes per partition and whole', async () => {
    const results = await Promise.all([
      runCli(['run', '--json', ...base, '--partition', '0/3'], env),
      runCli(['run', '--json', ...base], { ...env, PARTITION: '1/3' }),
      runCli(['run', '--json', ...base], { ...env, JOB_COMPLETION_INDEX: '2', PARTITION_COUNT: '3' }),
    ])
    const accounts = results.map((r) => {
      expect(r.code, r.stderr).toBe(0)
      return JSON.parse(r.stdout) as RunReport
    })
    expect(accounts.map((a) => a.partition)).toEqual([0, 1, 2].map((index) => ({ index, count: 3 })))
    expect(accounts.reduce((s, a) => s + a.pointsWritten, 0)).toBe(200_000)
    const c = new InfluxV1Client({ kind: 'influx-v1', url, db: 'partitions', timeoutMs: 10_000 })
    expect(await c.countPoints('trades')).toBe(200_000)

    const verify = (extra: string[], e: Record<string, string> = {}) => runCli(['verify', '--json', ...base, '--interval', '1h', ...extra], { ...env, ...e })
    for (const v of await Promise.all([verify([]), verify(['--partition', '0/3']), verify([], { PARTITION: '1/3' }), verify(['--partition', '2/3'])])) {
      expect(v.code, v.stdout + v.stderr).toBe(0)
      expect(JSON.parse(v.stdout)).toMatchObject({ ok: true, differencesTotal: 0 })
    }
    const p1 = JSON.parse((await verify(['--partition', '1/3'])).stdout) as { pointsExpected: number; pointsFound: number; candlesCompared: number }
    expect(p1.pointsFound).toBe(accounts[1]!.pointsWritten)
    expect(p1.pointsExpected).toBe(accounts[1]!.pointsWritten)
    expect(p1.candlesCompared).toBeGreaterThan(0)

    // delete one hour of shard 0 (partition 0's): its verify names the shard, the others stay clean
    await c.query(`DELETE FROM "trades" WHERE time >= '2024-03-04T14:00:00Z' AND time < '2024-03-04T15:00:00Z'`, 'POST')
    const [broken, fine] = await Promise.all([verify(['--partition', '0/3']), verify(['--partition', '1/3'])])
    c.close()
    expect(broken.code).toBe(1)
    const report = JSON.parse(broken.stdout) as { differences: { time?: string; field: string }[] }
    expect(report.differences).toContainEqual(expect.objectContaining({ time: '2024-03-04T00:00:00.000Z', field: 'count' }))
    expect(report.differences).toContainEqual(expect.objectContaining({ time: '2024-03-04T14:00:00.000Z', field: 'candle' }))
    expect(fine.code).toBe(0)
  }, 120_000)

  it.each([
    [['--partition', '3/3'], {}, /^ohlcv-loadgen: invalid --partition: the partition index must be 0\.\.2 \(got 3\)\n$/],
    [['--partition', 'half'], {}, /^ohlcv-loadgen: invalid --partition: must be I\/N/],
    [[], { PARTITION_COUNT: '4' }, /^ohlcv-loadgen: invalid --partition-count \/ PARTITION_COUNT: needs JOB_COMPLETION_INDEX or PARTITION_DNS/],
    [[], { JOB_COMPLETION_INDEX: '1' }, /^ohlcv-loadgen: invalid JOB_COMPLETION_INDEX: is set \(an Indexed Job\): set PARTITION_COUNT/],
    [['--seed', 'x', '--trades', '10'], { PARTITION: '1/2' }, /needs --to or --from/],
    [['--to', '2024-01-01T00:00:00Z', '--trades', '10'], { PARTITION: '1/2' }, /needs --seed/],
  ])('bad partition settings %j %j exit 2 with one line', async (args, e, message) => {
    const res = await runCli(['run', '--sink', 'null', ...(args.length > 0 && args[0] !== '--partition' ? args : [...args, '--seed', 's', '--to', '2024-01-01T00:00:00Z', '--trades', '10'])], e)
    expect(res.code).toBe(2)
    expect(res.stderr).toMatch(message)
    expect(res.stderr.split('\n').filter((l) => l !== '')).toHaveLength(1)
  })
})

describe('a partition that owns no shard', () => {
  it('says so on stderr, still creates its (empty) --out file, and --json shows it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ohlcv-empty-part-'))
    const out = join(dir, 'part.lp')
    // 200,000 trades in a day: 2 shards, so partition 2/3 owns none
    const r = await runCli(['run', '--sink', 'file', '--out', out, '--trades', '200000', '--seed', 'e', '--to', '2024-01-02', '--partition', '2/3', '--json'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).toBe('ohlcv-loadgen: partition 2/3 owns no shard: the load has 2 shard(s), and only shards with shard % 3 == 2 are its; nothing to write\n')
    expect(JSON.parse(r.stdout)).toMatchObject({ status: 'succeeded', pointsPlanned: 0, shardsTotal: 0, partitionOwnsNoShard: true, partition: { index: 2, count: 3 } })
    expect(readFileSync(out, 'utf8')).toBe('')
  })
})

describe('partition sources', () => {
  it('--partition over PARTITION over JOB_COMPLETION_INDEX over PARTITION_DNS', () => {
    const src = (flags: Record<string, string>, env: Record<string, string>) => partitionSource(readSettings(flags, env), env)
    expect(src({ partition: '1/4' }, { PARTITION: '2/4', JOB_COMPLETION_INDEX: '3', PARTITION_COUNT: '4' })).toEqual({ kind: 'fixed', partition: { index: 1, count: 4 } })
    expect(src({}, { PARTITION: '2/4', JOB_COMPLETION_INDEX: '3', PARTITION_COUNT: '4' })).toEqual({ kind: 'fixed', partition: { index: 2, count: 4 } })
    expect(src({}, { JOB_COMPLETION_INDEX: '3', PARTITION_COUNT: '4', PARTITION_DNS: 'gen' })).toEqual({ kind: 'fixed', partition: { index: 3, count: 4 } })
    expect(src({}, { PARTITION_DNS: 'gen', PARTITION_COUNT: '4' })).toEqual({ kind: 'dns', service: 'gen', count: 4 })
    expect(src({}, {})).toEqual({ kind: 'fixed', partition: { index: 0, count: 1 } })
    expect(() => parsePartition('0/0', 'partition')).toThrow(/count must be 1\.\./)
  })

  it('compose --scale: replicas sort the service addresses and each takes its own place', async () => {
    const replicas = ['172.18.0.10', '172.18.0.9', '172.18.0.101']
    expect(sortAddresses(replicas)).toEqual(['172.18.0.9', '172.18.0.10', '172.18.0.101'])
    expect(replicas.map((own) => indexAmong(replicas, ['127.0.0.1', own]))).toEqual([1, 0, 2])
    // the answer grows as replicas start; each waits for all of them
    let calls = 0
    const resolve = async () => replicas.slice(0, Math.min(3, ++calls))
    const found = await partitionFromDns('generator', 3, { resolve, ownAddresses: () => ['172.18.0.101'], timeoutMs: 10_000 })
    expect(found).toEqual({ index: 2, count: 3 })
    expect(calls).toBe(3)
    await expect(partitionFromDns('generator', 2, { resolve: async () => replicas, ownAddresses: () => ['172.18.0.9'], timeoutMs: 100 })).rejects.toThrow(/resolves to 3 addresses but PARTITION_COUNT is 2/)
    await expect(partitionFromDns('generator', 3, { resolve: async () => replicas, ownAddresses: () => ['10.0.0.1'], timeoutMs: 100 })).rejects.toThrow(/none of this container's addresses/)
    await expect(partitionFromDns('generator', 4, { resolve: async () => replicas, ownAddresses: () => [], timeoutMs: 100 })).rejects.toThrow(/resolved to 3 address\(es\)/)
  }, 15_000)
})

interface Container {
  args: string[]
  env: { name: string; value: string }[]
  envFrom: { secretRef: { name: string } }[]
  ports: { containerPort: number }[]
  resources: { requests: Record<string, string> }
  volumeMounts: { name: string; mountPath: string }[]
}
interface Doc {
  kind: string
  metadata: { name: string }
  data?: Record<string, string>
  stringData?: Record<string, string>
  spec?: {
    completionMode: string
    completions: number
    parallelism: number
    selector?: { matchLabels: Record<string, string> }
    template: {
      metadata: { labels: Record<string, string>; annotations: Record<string, string> }
      spec: { containers: Container[]; volumes: { configMap?: { name: string } }[] }
    }
  }
}

describe('Kubernetes manifests (deploy/k8s)', () => {
  const kustomization = parseYaml(readFileSync('deploy/k8s/kustomization.yaml', 'utf8')) as { resources: string[] }
  // "rendering" a kustomization without patches: every listed resource, every document in it
  const docs = kustomization.resources.flatMap((f) => parseAllDocuments(readFileSync(`deploy/k8s/${f}`, 'utf8')).map((d) => d.toJS() as Doc))
  const byKind = (kind: string) => docs.find((d) => d.kind === kind)!
  const job = byKind('Job').spec!
  const container = job.template.spec.containers[0]!
  const containerEnv = Object.fromEntries(container.env.map((e) => [e.name, e.value]))

  it('an Indexed Job whose completions, parallelism and PARTITION_COUNT agree, with resources and scrape annotations', () => {
    expect(docs.map((d) => d.kind).sort()).toEqual(['ConfigMap', 'Job', 'Namespace', 'Secret'])
    expect(job.completionMode).toBe('Indexed')
    expect(job.parallelism).toBe(job.completions)
    expect(Number(containerEnv.PARTITION_COUNT)).toBe(job.completions)
    expect(container.resources.requests.cpu).toBeDefined()
    expect(container.resources.requests.memory).toBeDefined()
    expect(job.template.metadata.annotations).toMatchObject({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9464' })
    expect(container.ports[0]!.containerPort).toBe(9464)
    expect(container.envFrom[0]!.secretRef.name).toBe(byKind('Secret').metadata.name)
    expect(job.template.spec.volumes.find((v) => v.configMap)?.configMap?.name).toBe(byKind('ConfigMap').metadata.name)
    const podMonitor = parseYaml(readFileSync('deploy/k8s/podmonitor.yaml', 'utf8')) as Doc
    expect(podMonitor.spec!.selector!.matchLabels).toEqual({ 'app.kubernetes.io/name': job.template.metadata.labels['app.kubernetes.io/name'] })
  })

  it('the container args are valid CLI args, and the ConfigMap holds a valid, fixed request; each index is a partition', () => {
    const parsed = parseCommandLine(container.args)
    expect(parsed.command).toBe('run')
    expect(parsed.run.requestFile).toBe('/etc/ohlcv/request.json')
    expect(parsed.settings.metricsPort).toBe('9464')
    expect(container.volumeMounts.find((m) => m.name === 'load')?.mountPath).toBe('/etc/ohlcv')
    const request = JSON.parse(byKind('ConfigMap').data!['request.json']!) as Record<string, unknown>
    const s = normalizeRequest(validateLoadRequest(request), { now: () => 0, newSeed: () => 'random' })
    expect(s.trades).toBe(1_000_000_000)
    expect(request.seed).toBeDefined()
    expect(request.to).toBeDefined()
    const env = { ...containerEnv, ...byKind('Secret').stringData }
    for (let i = 0; i < job.completions; i++) {
      const podEnv = { ...env, JOB_COMPLETION_INDEX: String(i) }
      expect(partitionSource(readSettings(parsed.settings, podEnv), podEnv)).toEqual({ kind: 'fixed', partition: { index: i, count: job.completions } })
    }
  })

  it('compose: the generator replicas find their partition through DNS with the same request', () => {
    const compose = parseYaml(readFileSync('docker-compose.yml', 'utf8')) as { services: Record<string, { profiles: string[]; environment: Record<string, string>; command: string[] }> }
    const g = compose.services.generator!
    expect(g.profiles).toEqual(['scale'])
    expect(g.environment.PARTITION_DNS).toBe('generator')
    expect(parseCommandLine(g.command).run.requestFile).toBe('/etc/ohlcv/request.json')
    const request = JSON.parse(readFileSync('deploy/request.json', 'utf8')) as Record<string, unknown>
    expect(() => validateLoadRequest(request)).not.toThrow()
    expect(request.seed).toBeDefined()
    expect(request.to).toBeDefined()
  })
})

describe('run as a Job pod runs it: --request FILE and --metrics-port', () => {
  it('takes the request from a file (flags override its fields) and serves /metrics while the load runs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ohlcv-req-'))
    const file = join(dir, 'request.json')
    writeFileSync(file, JSON.stringify({ trades: 999, seed: 'from-file', to: '2024-01-01T00:00:00Z', batchSize: 5000, ratePerSecond: 100_000 }))
    const port = await freePort()
    const running = runCli(['run', '--json', '--request', file, '--trades', '250000', '--sink', 'null', '--metrics-port', String(port), '--partition', '0/2'])
    let text = ''
    for (let i = 0; i < 50 && !/^ohlcv_points_written_total [1-9]/m.test(text); i++) {
      await new Promise((r) => setTimeout(r, 100))
      text = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text(), () => '')
    }
    const res = await running
    expect(res.code, res.stderr).toBe(0)
    const account = JSON.parse(res.stdout) as RunReport
    expect(account).toMatchObject({ seed: 'from-file', partition: { index: 0, count: 2 } })
    expect(account.pointsPlanned).toBeLessThan(250_000)
    expect(account.pointsWritten).toBe(account.pointsPlanned)
    expect(text).toMatch(/^ohlcv_points_written_total [1-9]/m)
    expect(text).toContain(`ohlcv_run_points_planned ${account.pointsPlanned}`)
    const bad = await runCli(['run', '--request', join(dir, 'missing.json')])
    expect(bad).toMatchObject({ code: 2, stderr: `ohlcv-loadgen: invalid --request: cannot read ${join(dir, 'missing.json')}: ENOENT\n` })
  }, 30_000)
})
