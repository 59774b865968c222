// Pulls in progress, kept outside the Models page so they keep running
// (and stay visible) while the person looks at other pages.

import { api, errorText } from './api.svelte'
import { applyLine, newPull, type PullState } from './pull'

export interface ActivePull {
  state: PullState
  insecure: boolean
  abort: AbortController | null
}

export const pulls: ActivePull[] = $state([])

/** Listeners told when a pull succeeds (the model list reloads). */
const done = new Set<() => void>()
export function onPullDone(f: () => void): () => void {
  done.add(f)
  return () => done.delete(f)
}

/** Starts (or resumes: the server continues from its partial files) a pull. */
export async function startPull(model: string, insecure: boolean) {
  let entry = pulls.find((p) => p.state.model === model)
  if (entry?.abort) return
  if (!entry) {
    pulls.unshift({ state: newPull(model), insecure, abort: null })
    entry = pulls[0]
  }
  entry.state = { ...newPull(model), layers: entry.state.layers }
  entry.insecure = insecure
  const abort = new AbortController()
  entry.abort = abort
  try {
    for await (const line of api.pull(model, insecure, abort.signal)) entry.state = applyLine(entry.state, line)
    if (entry.state.phase === 'success') done.forEach((f) => f())
  } catch (e) {
    if ((e as Error).name === 'AbortError') entry.state = { ...entry.state, phase: 'cancelled', status: 'cancelled' }
    else entry.state = { ...entry.state, phase: 'error', error: errorText(e) }
  } finally {
    entry.abort = null
  }
}

export function cancelPull(model: string) {
  pulls.find((p) => p.state.model === model)?.abort?.abort()
}

export function dismissPull(model: string) {
  const i = pulls.findIndex((p) => p.state.model === model)
  if (i >= 0 && !pulls[i].abort) pulls.splice(i, 1)
}
