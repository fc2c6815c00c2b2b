import { readFile } from 'node:fs/promises'

/**
 * A JSON file the user named (a request, an account file, a capacity search): its value, or
 * `problem` called with why not, in the words every such flag uses: `cannot read PATH: ENOENT`,
 * or `cannot read PATH: not valid JSON`. `problem` throws the caller's own error.
 */
export async function readJsonFile(path: string, problem: (why: string) => never): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as unknown
  } catch (e) {
    return problem(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? 'not valid JSON'}`)
  }
}
