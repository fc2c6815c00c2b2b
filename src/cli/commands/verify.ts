import { poolSize, sinkConfig } from '../../config.js'
import { readSettings } from '../../settings.js'
import { withPool } from '../../app/pool.js'
import { normalizeContext, requireFixedLoad, resolvePartition } from '../../app/runLoad.js'
import { UsageError } from '../../errors.js'
import { readJsonFile } from '../../jsonFile.js'
import { DATASET_FORMAT } from '../../market/dataset.js'
import { describePartition } from '../../partition/partition.js'
import { normalizeRequest } from '../../request/normalize.js'
import { validateLoadRequest } from '../../request/validate.js'
import type { ParsedArgs } from '../args.js'
import { EXIT_LOAD_FAILED, EXIT_OK, type Io } from '../exit.js'
import { verifyCapacityText, verifyText } from '../format.js'
import { requestOf } from '../request.js'

/** `ohlcv-loadgen verify`: the database against the dataset regenerated from the load's request and seed. */
export async function verifyCommand(args: ParsedArgs, io: Io): Promise<number> {
  if (args.query.capacity !== undefined) return verifyCapacitySearch(args, args.query.capacity, io)
  const input = await requestOf(args)
  const spec = normalizeRequest(validateLoadRequest(input), normalizeContext)
  if (input.seed === undefined) throw new UsageError('verify needs the --seed the load was made with')
  const text = args.query.interval ?? '1m'
  const [{ parseInterval }, { verifyLoad }] = await Promise.all([import('../../candles/candle.js'), import('../../candles/verify.js')])
  const interval = { text, ms: parseInterval('interval', text) }
  const settings = readSettings(args.settings, io.env)
  const sink = sinkConfig(settings)
  const partition = await resolvePartition(settings, io.env)
  if (partition.count > 1) requireFixedLoad(input, 'verify of a partition')
  const report = await withPool(poolSize(settings), (pool) => verifyLoad(spec, sink, pool, interval, partition))
  io.stdout.write(args.json ? `${JSON.stringify({ ...report, datasetFormat: DATASET_FORMAT })}\n` : verifyText(report, text, DATASET_FORMAT, partition.count > 1 ? describePartition(partition) : undefined))
  return report.ok ? EXIT_OK : EXIT_LOAD_FAILED
}

/** `verify --capacity FILE`: every slice a capacity search wrote, against the database. */
async function verifyCapacitySearch(args: ParsedArgs, path: string, io: Io): Promise<number> {
  const given = [...Object.keys(args.request), ...(args.run.requestFile !== undefined ? ['request'] : [])]
  if (given.length > 0) throw new UsageError(`verify --capacity takes the load from ${path}: drop --${given[0]!.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`)
  const output = await readJsonFile(path, (why) => {
    throw new UsageError(`invalid --capacity: ${why}`)
  })
  const [{ parseInterval }, { capacityDataset, verifyCapacity }] = await Promise.all([import('../../candles/candle.js'), import('../../capacity/verify.js')])
  let dataset
  try {
    dataset = capacityDataset(output, normalizeContext)
  } catch (e) {
    if (e instanceof UsageError) throw new UsageError(`invalid --capacity ${path}: ${e.message}`)
    throw e
  }
  const text = args.query.interval ?? '1m'
  const interval = { text, ms: parseInterval('interval', text) }
  const settings = readSettings(args.settings, io.env)
  const partition = await resolvePartition(settings, io.env)
  if (partition.count > 1) throw new UsageError('verify --capacity checks the whole search: drop --partition')
  const report = await withPool(poolSize(settings), (pool) => verifyCapacity(dataset, sinkConfig(settings), pool, interval))
  io.stdout.write(args.json ? `${JSON.stringify({ ...report, datasetFormat: DATASET_FORMAT })}\n` : verifyCapacityText(report))
  return report.ok ? EXIT_OK : EXIT_LOAD_FAILED
}
