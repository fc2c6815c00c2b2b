import type { CapacityReport } from './run.js'

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;')

/**
 * The steps as an SVG bar chart: target (outline) and achieved (filled, green when the step
 * passed, red when it failed) per step in order, p99 as text, the sustainable rate as a line. A
 * few dozen elements: no chart library for a static file.
 */
export function capacityChart(r: Pick<CapacityReport, 'steps' | 'sustainablePointsPerSecond' | 'confirmed' | 'slo'>): string {
  const w = 760
  const h = 340
  const pad = { l: 90, r: 20, t: 40, b: 60 }
  const steps = r.steps
  const top = Math.max(1, ...steps.map((s) => Math.max(s.targetPointsPerSecond, s.achievedPointsPerSecond))) * 1.1
  const bw = (w - pad.l - pad.r) / Math.max(1, steps.length)
  const y = (v: number) => pad.t + (h - pad.t - pad.b) * (1 - v / top)
  const n = (v: number) => Math.round(v).toLocaleString('en-US')
  const bars = steps.map((s, i) => {
    const x = pad.l + i * bw + bw * 0.15
    const bwi = bw * 0.7
    return `<rect x="${x.toFixed(1)}" y="${y(s.targetPointsPerSecond).toFixed(1)}" width="${bwi.toFixed(1)}" height="${(y(0) - y(s.targetPointsPerSecond)).toFixed(1)}" fill="none" stroke="#6b7280"/>` +
      `<rect x="${x.toFixed(1)}" y="${y(s.achievedPointsPerSecond).toFixed(1)}" width="${bwi.toFixed(1)}" height="${(y(0) - y(s.achievedPointsPerSecond)).toFixed(1)}" fill="${s.passed ? '#16a34a' : '#dc2626'}" opacity="0.75"><title>${esc(`step ${i + 1} (${s.phase}): target ${n(s.targetPointsPerSecond)}, achieved ${n(s.achievedPointsPerSecond)} points/s, p99 ${s.p99Ms} ms, ${s.passed ? 'passed' : `failed: ${s.reasons.join('; ')}`}`)}</title></rect>` +
      `<text x="${(x + bwi / 2).toFixed(1)}" y="${h - pad.b + 16}" font-size="11" text-anchor="middle">${i + 1}</text>` +
      `<text x="${(x + bwi / 2).toFixed(1)}" y="${h - pad.b + 30}" font-size="9" text-anchor="middle" fill="#6b7280">${s.p99Ms} ms</text>`
  })
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => `<text x="${pad.l - 8}" y="${(y(top * f) + 4).toFixed(1)}" font-size="11" text-anchor="end">${n(top * f)}</text><line x1="${pad.l}" x2="${w - pad.r}" y1="${y(top * f).toFixed(1)}" y2="${y(top * f).toFixed(1)}" stroke="#e5e7eb"/>`)
  const found = r.sustainablePointsPerSecond
  const line = found === undefined ? '' : `<line x1="${pad.l}" x2="${w - pad.r}" y1="${y(found).toFixed(1)}" y2="${y(found).toFixed(1)}" stroke="#2563eb" stroke-dasharray="6 4"/><text x="${w - pad.r}" y="${(y(found) - 6).toFixed(1)}" font-size="12" text-anchor="end" fill="#2563eb">sustainable ${n(found)} points/s${r.confirmed ? '' : ' (unconfirmed)'}</text>`
  const title = `capacity within p99 ${r.slo.p99Ms} ms, error rate ${(r.slo.maxErrorRate * 100).toFixed(2)} %: ${found === undefined ? 'not even the start rate' : `${n(found)} points/s`}`
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" font-family="sans-serif"><rect width="${w}" height="${h}" fill="#fff"/><text x="${pad.l}" y="24" font-size="14">${esc(title)}</text>${ticks.join('')}${bars.join('')}${line}<text x="${(pad.l + w - pad.r) / 2}" y="${h - 12}" font-size="11" text-anchor="middle">step (outline: target, fill: achieved, green passed, red failed; p99 below)</text></svg>\n`
}
