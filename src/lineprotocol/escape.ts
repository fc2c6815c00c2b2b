/**
 * Escaping for InfluxDB line protocol, following influxdb-client-js (`util/escape.ts`):
 * measurement: comma and space are backslash-escaped; tag keys/values and field keys: comma,
 * equals sign and space; newline, carriage return and tab become the two characters `\n`, `\r`,
 * `\t` (line protocol cannot carry them raw). String field values: double quote and backslash.
 *
 * One case line protocol cannot carry at all: a measurement or tag ending in a backslash. InfluxDB
 * treats a separator after a backslash as escaped (it looks at the byte before, and `\\` does not
 * help), so the separator we write next would be swallowed and the line would change meaning. Such
 * names are refused here; the request patterns already keep them out of symbols and measurements.
 * Tested with a table and with random hostile strings (test/lineprotocol.test.ts, test/hardening.test.ts).
 */
const CONTROL: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' }

function escaper(what: string, special: RegExp): (s: string) => string {
  return (s) => {
    if (s.endsWith('\\')) throw new RangeError(`a line protocol ${what} cannot end with a backslash: ${JSON.stringify(s.slice(-40))}`)
    return s.replace(special, (c) => CONTROL[c] ?? `\\${c}`)
  }
}

export const escapeMeasurement = escaper('measurement', /[, \n\r\t]/g)
export const escapeTag = escaper('tag', /[,= \n\r\t]/g)
export const escapeStringField = (s: string): string => `"${s.replace(/["\\]/g, (c) => `\\${c}`)}"`
