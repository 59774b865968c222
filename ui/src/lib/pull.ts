// The state of one pull, built from Ollama's progress lines.

import type { ProgressResponse } from './api.gen'

export type PullPhase = 'running' | 'success' | 'error' | 'cancelled'

export interface PullState {
  model: string
  phase: PullPhase
  /** The last status line, e.g. "pulling 1a2b3c4d5e6f" or "verifying sha256 digest". */
  status: string
  /** Per blob digest: bytes done and total. */
  layers: Record<string, { total: number; completed: number }>
  error?: string
}

export function newPull(model: string): PullState {
  return { model, phase: 'running', status: 'starting', layers: {} }
}

/** Applies one progress line (or an `{error}` line) and returns the new state. */
export function applyLine(state: PullState, line: ProgressResponse & { error?: string }): PullState {
  if (line.error) return { ...state, phase: 'error', error: line.error, status: 'failed' }
  const next: PullState = { ...state, status: line.status || state.status, layers: state.layers }
  if (line.digest && line.total) {
    next.layers = { ...state.layers, [line.digest]: { total: line.total, completed: line.completed ?? 0 } }
  }
  if (line.status === 'success') next.phase = 'success'
  return next
}

/** Bytes done and total over every blob seen so far. */
export function totals(state: PullState): { completed: number; total: number } {
  let completed = 0
  let total = 0
  for (const l of Object.values(state.layers)) {
    completed += Math.min(l.completed, l.total)
    total += l.total
  }
  return { completed, total }
}

/** Whole percent; 100 only once the pull has succeeded. */
export function pullPercent(state: PullState): number {
  if (state.phase === 'success') return 100
  const { completed, total } = totals(state)
  if (total === 0) return 0
  return Math.min(99, Math.floor((completed / total) * 100))
}

/** A stopped pull can be resumed: the server keeps its partial files. */
export function canResume(state: PullState): boolean {
  return state.phase === 'cancelled' || state.phase === 'error'
}
