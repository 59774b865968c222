// Chat playground logic: options from the form, speed from the answer.

export interface ChatOptions {
  temperature: string
  top_p: string
  num_ctx: string
  num_predict: string
  seed: string
}

export const EMPTY_OPTIONS: ChatOptions = { temperature: '', top_p: '', num_ctx: '', num_predict: '', seed: '' }

/** Only the filled-in fields, as numbers; errors name the bad field. */
export function buildOptions(o: ChatOptions): { options: Record<string, number>; error?: string } {
  const options: Record<string, number> = {}
  const ints = new Set(['num_ctx', 'num_predict', 'seed'])
  for (const [k, v] of Object.entries(o)) {
    const t = String(v).trim()
    if (!t) continue
    const n = Number(t)
    if (!Number.isFinite(n) || (ints.has(k) && !Number.isInteger(n))) {
      return { options: {}, error: `${k} must be ${ints.has(k) ? 'a whole number' : 'a number'}` }
    }
    options[k] = n
  }
  return { options }
}

/** Tokens per second from a final chunk's eval_count and eval_duration (ns). */
export function tokensPerSecond(evalCount?: number, evalDurationNs?: number): number | null {
  if (!evalCount || !evalDurationNs) return null
  return evalCount / (evalDurationNs / 1e9)
}
