/** Where a load's actions live (HAL-ish `links` in every answer about it). */
export function links(id: string) {
  return { self: `/loads/${id}`, cancel: `/loads/${id}`, resume: `/loads/${id}/resume`, verify: `/loads/${id}/verify`, events: `/loads/${id}/events` }
}
