import { Ajv, type ErrorObject } from 'ajv'
import { InvalidRequestError } from '../errors.js'
import { LoadRequestSchema, type LoadRequestInput } from '../model/request.js'

/**
 * Ajv options shared with the Fastify routes (see api/app.ts) so the CLI and HTTP reject exactly
 * the same inputs: no type coercion ("1000" is not a number), unknown fields are an error rather
 * than silently dropped.
 */
export const AJV_OPTIONS = {
  coerceTypes: false,
  removeAdditional: false,
  useDefaults: false,
  allErrors: false,
  // `seed` is "string or integer": a type list, which Ajv's strict mode wants spelled out.
  allowUnionTypes: true,
} as const

/** Turns one Ajv error into "field: problem" with the JSON path written the way users type it. */
export function describeSchemaError(err: ErrorObject, root: string): InvalidRequestError {
  const path = err.instancePath
    .split('/')
    .slice(1)
    .map((p) => (/^\d+$/.test(p) ? `[${p}]` : `.${p}`))
    .join('')
  let field = `${root}${path}`
  let problem = err.message ?? 'is invalid'
  const params = err.params as Record<string, unknown>
  if (err.keyword === 'additionalProperties') {
    field = `${field}.${String(params.additionalProperty)}`
    problem = 'is not a known field'
  } else if (err.keyword === 'required') {
    field = `${field}.${String(params.missingProperty)}`
    problem = 'is required'
  } else if (err.keyword === 'enum') {
    problem = `must be one of ${(params.allowedValues as unknown[]).join(', ')}`
  } else if (err.keyword === 'pattern') {
    problem = `must match ${String(params.pattern)}`
  } else if (err.keyword === 'uniqueItems') {
    problem = `must not repeat items (items ${String(params.j)} and ${String(params.i)} are equal)`
  }
  return new InvalidRequestError(field.replace(/^\./, ''), problem)
}

const ajv = new Ajv(AJV_OPTIONS)
const check = ajv.compile<LoadRequestInput>(LoadRequestSchema)

/** Validates an untrusted object against the request schema (what the CLI uses; HTTP uses Fastify). */
export function validateLoadRequest(raw: unknown, root = ''): LoadRequestInput {
  if (check(raw)) return raw
  const first = check.errors?.[0]
  throw first ? describeSchemaError(first, root) : new InvalidRequestError(root, 'is invalid')
}
