import { Type, type Static } from 'typebox'
import { LoadSpecSchema } from '../model/request.js'
import { LoadStatusSchema } from '../model/status.js'
import { LoadSummarySchema } from '../model/summary.js'
import { LoadViewSchema as ModelLoadViewSchema } from '../model/view.js'

/** Where a load's actions live (HAL-ish `links` in every answer about it; see summary.ts). */
const LinksSchema = Type.Object({ self: Type.String(), cancel: Type.String(), resume: Type.String(), verify: Type.String(), events: Type.String() })

/** GET /loads/:id: the model's view with its links. */
export const LoadViewSchema = Type.Object({ ...ModelLoadViewSchema.properties, links: LinksSchema })
export type LoadView = Static<typeof LoadViewSchema>

// links before `damaged`, where the list has always had them
const { damaged, ...brief } = LoadSummarySchema.properties
const LoadListItemSchema = Type.Object({ ...brief, links: LinksSchema, damaged })

export const LoadListQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 50, description: 'loads per page' })),
    before: Type.Optional(Type.String({ maxLength: 64, description: 'the id of a load: list only those created before it (the next page)' })),
    status: Type.Optional(LoadStatusSchema),
  },
  { additionalProperties: false },
)

export const LoadListSchema = Type.Object({
  loads: Type.Array(LoadListItemSchema, { description: 'newest first' }),
  next: Type.Union([Type.String(), Type.Null()], { description: 'the next page, or null when this is the last' }),
})

export const LoadCreatedSchema = Type.Object({
  id: Type.String(),
  status: LoadStatusSchema,
  seed: Type.Union([Type.String(), Type.Integer()]),
  shards: Type.Integer(),
  request: LoadSpecSchema,
  links: LinksSchema,
  warnings: Type.Optional(Type.Array(Type.String(), { description: 'earlier loads on this sink whose measurement and range this one overlaps (verify of either counts both); the load starts anyway' })),
})

export const LoadDeleteQuery = Type.Object(
  { forget: Type.Optional(Type.Boolean({ description: 'remove a finished load from the history instead of cancelling a running one' })) },
  { additionalProperties: false },
)

export const LoadIdParams = Type.Object({ id: Type.String({ maxLength: 64 }) }, { additionalProperties: false })
