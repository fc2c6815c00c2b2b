/**
 * Escaping for InfluxDB line protocol, following influxdb-client-js (`util/escape.ts`):
 * measurement: comma and space are backslash-escaped; tag keys/values and field keys: comma,
 * equals sign and space; newline, carriage return and tab become the two characters `\n`, `\r`,
 * `\t` (line protocol cannot carry them raw). String field values: double quote and backslash.
 * Tested against a table of expected lines (test/lineprotocol.test.ts).
 */
const CONTROL: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' }

function escaper(special: RegExp): (s: string) => string {
  return (s) => s.replace(special, (c) => CONTROL[c] ?? `\\${c}`)
}

export const escapeMeasurement = escaper(/[, \n\r\t]/g)
export const escapeTag = escaper(/[,= \n\r\t]/g)
export const escapeStringField = (s: string): string => `"${s.replace(/["\\]/g, (c) => `\\${c}`)}"`
