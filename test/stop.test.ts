import { describe, expect, it } from 'vitest'
import { IN_FLIGHT, isStopped, RUN, signalStop, STOP_CANCELLED, STOP_FAILED } from '../shared/control.js'
import { LoadStopper } from '../src/load/stop.js'

describe('LoadStopper: one AbortSignal on the main thread, the shared flag for the workers', () => {
  it('aborting the signal sets the flag the workers read, with its reason', () => {
    const s = new LoadStopper()
    expect(s.stopped()).toBe(false)
    expect(isStopped(s.control)).toBe(false)
    s.stop('cancelled')
    expect(s.signal.aborted).toBe(true)
    expect(Atomics.load(s.control, 0)).toBe(STOP_CANCELLED)
    expect(s.outcome()).toBe('cancelled')
  })

  it('the first reason wins, on the signal and on the flag', () => {
    const s = new LoadStopper()
    s.stop('failed')
    s.stop('cancelled')
    expect(s.signal.reason).toBe('failed')
    expect(Atomics.load(s.control, 0)).toBe(STOP_FAILED)
    expect(s.outcome()).toBe('failed')
  })

  it("a worker's failed write (the flag set from a worker) is carried over into the signal", () => {
    const s = new LoadStopper()
    let heard: unknown
    s.signal.addEventListener('abort', () => {
      heard = s.signal.reason as unknown
    })
    signalStop(s.control, STOP_FAILED)
    expect(s.signal.aborted).toBe(false) // nobody asked yet
    expect(s.stopped()).toBe(true)
    expect(heard).toBe('failed')
    // a cancel afterwards changes nothing: the load failed
    s.stop('cancelled')
    expect(s.outcome()).toBe('failed')
  })

  it('abandon stops (cancelled) and tells the workers not to wait for their writes', () => {
    const s = new LoadStopper()
    s.abandon()
    expect(s.outcome()).toBe('cancelled')
    expect(Atomics.load(s.control, 2)).toBe(1)
  })

  it('rearm gives the next run a fresh signal and flag, and forgets points lost in flight', () => {
    const s = new LoadStopper()
    const first = s.signal
    Atomics.store(s.control, IN_FLIGHT, 7)
    s.stop('cancelled')
    s.rearm()
    expect(first.aborted).toBe(true)
    expect(s.signal).not.toBe(first)
    expect(s.signal.aborted).toBe(false)
    expect(Atomics.load(s.control, 0)).toBe(RUN)
    expect(Atomics.load(s.control, IN_FLIGHT)).toBe(0)
    expect(s.outcome()).toBeUndefined()
    s.stop('failed')
    expect(s.outcome()).toBe('failed')
  })
})
