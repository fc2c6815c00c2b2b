import { Type, type Static } from 'typebox'
import type { ErrorCode, FastifyCode } from './errors.js'

// Apart from the catalogue (errors.ts), which workers load: TypeBox costs a worker thread ~0.15 s
// of CPU to import, and only the API's answers need these schemas.

export const ErrorSchema = Type.Object({
  statusCode: Type.Integer(),
  code: Type.Unsafe<ErrorCode | FastifyCode>({ type: 'string' }),
  error: Type.String(),
  message: Type.String(),
  field: Type.Optional(Type.String({ description: 'the request field the message is about (400s): body.trades, from, market.tickSize, ...' })),
})

/** An error answer of the API. `field`: the request field a 400 is about, from the validator. */
export type ErrorBody = Static<typeof ErrorSchema>

export const ErrorInfoSchema = Type.Object({ code: Type.Unsafe<ErrorCode>({ type: 'string' }), message: Type.String(), status: Type.Optional(Type.Integer()) })
