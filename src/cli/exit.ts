/** The process's exit codes, and what a command writes to: the CLI's contract with scripts. */
export const EXIT_OK = 0
export const EXIT_LOAD_FAILED = 1
export const EXIT_USAGE = 2
export const EXIT_INTERRUPTED = 130

export interface Io {
  stdout: NodeJS.WritableStream
  stderr: NodeJS.WritableStream
  env: NodeJS.ProcessEnv
}
