import { describe, expect, it } from 'vitest'
import { DATASET_FORMAT } from '../src/market/dataset.js'
import { canResume, describeBlocker, resumeBlocker } from '../src/load/resumable.js'

describe('the resumability rule', () => {
  it('a finished load that did not succeed, on a sink it can skip into, can be resumed', () => {
    for (const status of ['failed', 'cancelled', 'interrupted'] as const) {
      expect(resumeBlocker({ status, finished: true, sinkKind: 'influx-v1' })).toBeUndefined()
      expect(canResume(status, 'null')).toBe(true)
    }
  })

  it('one still running, one that succeeded, or one on a file sink cannot', () => {
    expect(resumeBlocker({ status: 'running', finished: false, sinkKind: 'influx-v2' })).toEqual({ reason: 'running', status: 'running' })
    expect(resumeBlocker({ status: 'queued', finished: false, sinkKind: 'influx-v2' })).toEqual({ reason: 'running', status: 'queued' })
    expect(resumeBlocker({ status: 'succeeded', finished: true, sinkKind: 'influx-v2' })).toEqual({ reason: 'succeeded' })
    expect(resumeBlocker({ status: 'failed', finished: true, sinkKind: 'file' })).toEqual({ reason: 'file-sink' })
    expect(canResume('succeeded', 'influx-v1')).toBe(false)
    expect(canResume('cancelled', 'file')).toBe(false)
  })

  it('nor one made with a dataset this version does not generate (format 2 is format 3 up to 1,000 symbols)', () => {
    expect(resumeBlocker({ dataset: { format: DATASET_FORMAT, symbols: 5000 } })).toBeUndefined()
    expect(resumeBlocker({ dataset: { format: 2, symbols: 1000 } })).toBeUndefined()
    expect(resumeBlocker({ dataset: { format: 2, symbols: 1001 } })).toEqual({ reason: 'other-dataset', format: 2 })
    expect(resumeBlocker({ dataset: { format: 1, symbols: 3 } })).toEqual({ reason: 'other-dataset', format: 1 })
  })

  it('checks in order: running, succeeded, file sink, dataset', () => {
    expect(resumeBlocker({ status: 'running', finished: false, sinkKind: 'file', dataset: { format: 1, symbols: 1 } })?.reason).toBe('running')
    expect(resumeBlocker({ status: 'succeeded', finished: true, sinkKind: 'file' })?.reason).toBe('succeeded')
    expect(resumeBlocker({ status: 'failed', finished: true, sinkKind: 'file', dataset: { format: 1, symbols: 1 } })?.reason).toBe('file-sink')
  })

  it('says why as the API always has', () => {
    expect(describeBlocker('L', { reason: 'running', status: 'running' })).toBe('load L is running')
    expect(describeBlocker('L', { reason: 'succeeded' })).toBe('load L has already succeeded')
    expect(describeBlocker('L', { reason: 'file-sink' })).toBe('a file sink cannot be resumed: run the load again')
    expect(describeBlocker('L', { reason: 'other-dataset', format: 1 })).toBe(
      `load L was made with dataset format 1 and this version generates format ${DATASET_FORMAT}: resuming would mix two datasets; finish it with the version that started it, or start it again`,
    )
  })
})
