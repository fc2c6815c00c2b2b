import { describe, expect, it } from 'vitest'
import { CircuitBreaker } from '../shared/breaker.js'
import { breakerSignal, circuitIsOpen, circuitLevel, opensCircuit } from '../shared/breakerRule.js'

describe('the breaker rule', () => {
  it('an answer, even a permanent error, says the server is up; a retryable failure that it is failing; an abandoned attempt nothing', () => {
    expect(breakerSignal('acknowledged')).toBe('up')
    expect(breakerSignal('rejected')).toBe('up')
    expect(breakerSignal('retryable')).toBe('failing')
    expect(breakerSignal('stopped')).toBe('none')
  })

  it('a failed probe opens the circuit at once; otherwise `threshold` failures in a row do', () => {
    expect(opensCircuit(1, true, 5)).toBe(true)
    expect(opensCircuit(4, false, 5)).toBe(false)
    expect(opensCircuit(5, false, 5)).toBe(true)
    expect(opensCircuit(6, false, 5)).toBe(true)
    expect(opensCircuit(1, false, 1)).toBe(true)
  })

  it('only an open circuit refuses writes; charts rank closed < half-open < open', () => {
    expect(circuitIsOpen('open')).toBe(true)
    expect(circuitIsOpen('half-open')).toBe(false)
    expect(circuitIsOpen('closed')).toBe(false)
    expect([circuitLevel('closed'), circuitLevel('half-open'), circuitLevel('open')]).toEqual([0, 1, 2])
  })

  it('the shared breaker follows it: threshold failures open it, a failed probe reopens it, an answer closes it', () => {
    let now = 1000
    const b = CircuitBreaker.create({ threshold: 3, cooldownMs: 100, probeTimeoutMs: 1000 }, () => now)
    b.failed(false)
    b.failed(false)
    expect(b.stats().state).toBe('closed')
    b.failed(false)
    expect(b.stats()).toMatchObject({ state: 'open', opens: 1 })
    expect(b.gate().pass).toBe(false)
    now += 100
    expect(b.gate()).toEqual({ pass: true, probe: true })
    expect(b.stats().state).toBe('half-open')
    b.failed(true)
    expect(b.stats()).toMatchObject({ state: 'open', opens: 1 })
    now += 100
    expect(b.gate()).toEqual({ pass: true, probe: true })
    b.succeeded()
    expect(b.stats()).toMatchObject({ state: 'closed', consecutiveFailures: 0 })
  })
})
