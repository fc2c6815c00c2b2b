import { writeFile } from 'node:fs/promises'

/**
 * Writes a file a command leaves behind (a report, a chart, a capacity search) and says where, in
 * one line for its summary: `WHAT in PATH` (then `after`), or `WHAT not written: cannot write PATH
 * (ENOENT)`. A file that cannot be written never changes the command's outcome or exit code.
 */
export async function writeOutput(path: string, body: string, what: string, after = ''): Promise<string> {
  try {
    await writeFile(path, body)
    return `${what} in ${path}${after}`
  } catch (e) {
    return `${what} not written: cannot write ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`
  }
}
