import { closeSync, openSync, readSync } from 'node:fs'

/** What a store's write-ahead log holds, up to its last committed transaction. */
interface WalContents {
  /** the database's size in pages after that transaction */
  dbPages: number
  /** the page numbers the log has a committed copy of */
  pages: Set<number>
}

const WAL_HEADER = 32
const FRAME_HEADER = 24

/**
 * Reads SQLite's WAL file (https://www.sqlite.org/fileformat2.html#walformat) without SQLite: which
 * pages it holds up to its last valid commit, and the database's size then. Undefined when there is
 * no log, or no committed frame in it. Frames count only while their salt and running checksum
 * hold, exactly as SQLite decides on recovery, so a torn tail is not counted.
 *
 * Why not ask SQLite: the pre-open check must leave a refused store untouched, and a connection
 * that reads a WAL database creates its `-shm` and checkpoints the log into the file when closed.
 */
export function readWal(path: string, pageSize: number): WalContents | undefined {
  let fd: number
  try {
    fd = openSync(path, 'r')
  } catch {
    return undefined
  }
  try {
    const head = Buffer.alloc(WAL_HEADER)
    if (readSync(fd, head, 0, WAL_HEADER, 0) < WAL_HEADER) return undefined
    const magic = head.readUInt32BE(0)
    if ((magic & 0xfffffffe) !== 0x377f0682 || head.readUInt32BE(8) !== pageSize) return undefined
    const bigEndian = (magic & 1) === 1
    let sum = checksum(head.subarray(0, 24), bigEndian, [0, 0])
    if (sum[0] !== head.readUInt32BE(24) || sum[1] !== head.readUInt32BE(28)) return undefined
    const frame = Buffer.alloc(FRAME_HEADER + pageSize)
    const pending: number[] = []
    const pages = new Set<number>()
    let dbPages = 0
    for (let at = WAL_HEADER; readSync(fd, frame, 0, frame.length, at) === frame.length; at += frame.length) {
      if (frame.readUInt32BE(8) !== head.readUInt32BE(16) || frame.readUInt32BE(12) !== head.readUInt32BE(20)) break
      sum = checksum(frame.subarray(0, 8), bigEndian, sum)
      sum = checksum(frame.subarray(FRAME_HEADER), bigEndian, sum)
      if (sum[0] !== frame.readUInt32BE(16) || sum[1] !== frame.readUInt32BE(20)) break
      pending.push(frame.readUInt32BE(0))
      const commitSize = frame.readUInt32BE(4) // non-zero on a transaction's last frame
      if (commitSize > 0) {
        for (const p of pending) pages.add(p)
        pending.length = 0
        dbPages = commitSize
      }
    }
    return dbPages > 0 ? { dbPages, pages } : undefined
  } finally {
    closeSync(fd)
  }
}

/** SQLite's WAL checksum: 32-bit words in the log's byte order, two running sums. */
function checksum(data: Buffer, bigEndian: boolean, [s0, s1]: [number, number]): [number, number] {
  for (let i = 0; i + 8 <= data.length; i += 8) {
    const x0 = bigEndian ? data.readUInt32BE(i) : data.readUInt32LE(i)
    const x1 = bigEndian ? data.readUInt32BE(i + 4) : data.readUInt32LE(i + 4)
    s0 = (s0 + x0 + s1) >>> 0
    s1 = (s1 + x1 + s0) >>> 0
  }
  return [s0, s1]
}
