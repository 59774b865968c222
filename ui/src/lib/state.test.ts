// Unit tests of the UI's state logic (vitest): formatting, NDJSON lines,
// pull progress, metrics, chart series, routes, chat options, SHA-256.

import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { countdown, formatBytes, formatDuration, percent, relativeTime } from './format'
import { LineSplitter, readNdjson } from './ndjson'
import { applyLine, canResume, newPull, pullPercent, totals } from './pull'
import { parseMetrics, rateBetween, throughput } from './metrics'
import { polyline, pushBounded } from './history'
import { href, parseRoute } from './router'
import { buildOptions, tokensPerSecond } from './chat'
import { Sha256, hashBlob } from './sha256'
import { KeyStore } from './keys'

describe('format', () => {
  it('sizes', () => {
    expect(formatBytes(0)).toBe('0 B')
    expect(formatBytes(1536)).toBe('1.54 KB')
    expect(formatBytes(291_000_000)).toBe('291 MB')
    expect(formatBytes(4_700_000_000)).toBe('4.70 GB')
    expect(formatBytes(undefined)).toBe('—')
  })
  it('durations and countdowns', () => {
    expect(formatDuration(45)).toBe('45 s')
    expect(formatDuration(245)).toBe('4 min 05 s')
    expect(formatDuration(7380)).toBe('2 h 03 min')
    const now = Date.parse('2026-01-01T00:00:00Z')
    expect(countdown('2026-01-01T00:04:05Z', now)).toBe('unloads in 4 min 05 s')
    expect(countdown('2025-12-31T23:59:00Z', now)).toBe('unloading')
    expect(countdown('2318-01-01T00:00:00Z', now)).toBe('stays loaded')
    expect(relativeTime('2025-12-31T23:55:00Z', now)).toBe('5 min ago')
  })
  it('percent clamps', () => {
    expect(percent(5, 10)).toBe(50)
    expect(percent(11, 10)).toBe(100)
    expect(percent(1, 0)).toBe(0)
  })
})

describe('ndjson', () => {
  it('joins lines split across chunks', () => {
    const s = new LineSplitter()
    expect(s.push('{"a":1}\n{"b"')).toEqual(['{"a":1}'])
    expect(s.push(':2}\n\n')).toEqual(['{"b":2}'])
    expect(s.push('{"c":3}')).toEqual([])
    expect(s.flush()).toEqual(['{"c":3}'])
  })
  it('reads a stream', async () => {
    const enc = new TextEncoder()
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(enc.encode('{"status":"a"}\n{"sta'))
        c.enqueue(enc.encode('tus":"b"}'))
        c.close()
      },
    })
    const got: unknown[] = []
    for await (const x of readNdjson(body)) got.push(x)
    expect(got).toEqual([{ status: 'a' }, { status: 'b' }])
  })
})

describe('pull progress', () => {
  it('sums layers and reaches 100 only on success', () => {
    let s = newPull('tiny')
    s = applyLine(s, { status: 'pulling manifest' })
    s = applyLine(s, { status: 'pulling aaa', digest: 'sha256:aaa', total: 100, completed: 50 })
    s = applyLine(s, { status: 'pulling bbb', digest: 'sha256:bbb', total: 100 })
    expect(totals(s)).toEqual({ completed: 50, total: 200 })
    expect(pullPercent(s)).toBe(25)
    s = applyLine(s, { status: 'pulling aaa', digest: 'sha256:aaa', total: 100, completed: 100 })
    s = applyLine(s, { status: 'pulling bbb', digest: 'sha256:bbb', total: 100, completed: 100 })
    expect(pullPercent(s)).toBe(99)
    s = applyLine(s, { status: 'success' })
    expect(s.phase).toBe('success')
    expect(pullPercent(s)).toBe(100)
    expect(canResume(s)).toBe(false)
  })
  it('keeps errors', () => {
    const s = applyLine(newPull('x'), { status: '', error: 'pull model manifest: file does not exist' })
    expect(s.phase).toBe('error')
    expect(s.error).toContain('file does not exist')
    expect(canResume(s)).toBe(true)
  })
})

describe('metrics', () => {
  const text = `# HELP llamacpp:predicted_tokens_seconds x
# TYPE llamacpp:predicted_tokens_seconds gauge
llamacpp:predicted_tokens_seconds 42.5
llamacpp:requests_processing 1
hearth_model_memory_bytes{model="a",memory="ram"} 100
hearth_model_memory_bytes{model="b",memory="ram"} 50
llamacpp:tokens_predicted_total 1000
`
  it('parses and sums labels', () => {
    const m = parseMetrics(text)
    expect(m.get('hearth_model_memory_bytes')).toBe(150)
    expect(throughput(m)).toEqual({ tokensPerSecond: 42.5, processing: 1, waiting: 0 })
  })
  it('rates between samples', () => {
    expect(rateBetween(null, { tokens: 10, at: 1000 })).toBeNull()
    expect(rateBetween({ tokens: 10, at: 1000 }, { tokens: 30, at: 2000 })).toBe(20)
    expect(rateBetween({ tokens: 10, at: 1000 }, { tokens: 5, at: 2000 })).toBeNull()
  })
})

describe('chart series', () => {
  it('keeps the last points', () => {
    let s: number[] = []
    for (let i = 0; i < 5; i++) s = pushBounded(s, i, 3)
    expect(s).toEqual([2, 3, 4])
  })
  it('spreads the points over the width', () => {
    expect(polyline([0, 100], 100, 100, 50, 3)).toBe('0.0,50.0 100.0,0.0')
    expect(polyline([0, 50, 100], 100, 100, 50, 3)).toBe('0.0,50.0 50.0,25.0 100.0,0.0')
    expect(polyline([20], 100, 100, 50, 3)).toBe('100.0,40.0')
    expect(polyline([], 100, 100, 50, 3)).toBe('')
  })
})

describe('routes', () => {
  it('parses hashes', () => {
    expect(parseRoute('').page).toBe('models')
    expect(parseRoute('#/chat?model=tiny').params.get('model')).toBe('tiny')
    expect(parseRoute('#/nope').page).toBe('models')
    expect(href('chat', { model: 'a:b' })).toBe('#/chat?model=a%3Ab')
  })
})

describe('chat', () => {
  it('builds options', () => {
    expect(buildOptions({ temperature: '0.2', top_p: '', num_ctx: '2048', num_predict: '', seed: '' })).toEqual({
      options: { temperature: 0.2, num_ctx: 2048 },
    })
    expect(buildOptions({ temperature: '', top_p: '', num_ctx: '1.5', num_predict: '', seed: '' }).error).toBe(
      'num_ctx must be a whole number',
    )
  })
  it('computes speed', () => {
    expect(tokensPerSecond(50, 2e9)).toBe(25)
    expect(tokensPerSecond(0, 1)).toBeNull()
  })
})

describe('sha256', () => {
  it('matches node:crypto across chunk boundaries', async () => {
    for (const n of [0, 3, 55, 56, 63, 64, 65, 1000, 70_000]) {
      const data = new Uint8Array(n).map((_, i) => (i * 31 + 7) & 255)
      const want = createHash('sha256').update(data).digest('hex')
      const sha = new Sha256()
      sha.update(data.subarray(0, n >> 1)).update(data.subarray(n >> 1))
      expect(sha.hex()).toBe(want)
    }
    const blob = new Blob([new Uint8Array(5 << 20).fill(7)])
    expect(await hashBlob(blob)).toBe(createHash('sha256').update(new Uint8Array(5 << 20).fill(7)).digest('hex'))
  })
})

describe('key storage', () => {
  class Mem implements Storage {
    m = new Map<string, string>()
    get length() {
      return this.m.size
    }
    clear() {
      this.m.clear()
    }
    getItem(k: string) {
      return this.m.get(k) ?? null
    }
    key(i: number) {
      return [...this.m.keys()][i] ?? null
    }
    removeItem(k: string) {
      this.m.delete(k)
    }
    setItem(k: string, v: string) {
      this.m.set(k, v)
    }
  }
  it('keeps the key for the session unless remembered', () => {
    const session = new Mem()
    const local = new Mem()
    const keys = new KeyStore(session, local)
    expect(keys.get()).toBeNull()
    keys.set('hth_a', false)
    expect(session.getItem('hearth.apiKey')).toBe('hth_a')
    expect(local.length).toBe(0)
    keys.set('hth_b', true)
    expect(local.getItem('hearth.apiKey')).toBe('hth_b')
    expect(session.length).toBe(0)
    expect(keys.get()).toBe('hth_b')
    keys.clear()
    expect(keys.get()).toBeNull()
  })
})
