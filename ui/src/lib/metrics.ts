// A small reader of the Prometheus text format of GET /metrics.

/** Sums each metric's samples over their labels: name → value. */
export function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>()
  for (const raw of text.split('\n')) {
    const line = raw.trim()
    if (!line || line.startsWith('#')) continue
    const m = /^([A-Za-z_:][A-Za-z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line)
    if (!m) continue
    const v = Number(m[3])
    if (!Number.isFinite(v)) continue
    out.set(m[1], (out.get(m[1]) ?? 0) + v)
  }
  return out
}

/** Generation speed and load as the Running page shows them. */
export function throughput(m: Map<string, number>): { tokensPerSecond: number; processing: number; waiting: number } {
  return {
    tokensPerSecond: m.get('llamacpp:predicted_tokens_seconds') ?? 0,
    processing: m.get('llamacpp:requests_processing') ?? 0,
    waiting: m.get('vllm:num_requests_waiting') ?? m.get('llamacpp:requests_deferred') ?? 0,
  }
}

/**
 * Tokens per second between two samples of the generated-token counter;
 * null when there is no earlier sample or no time passed.
 */
export function rateBetween(
  prev: { tokens: number; at: number } | null,
  next: { tokens: number; at: number },
): number | null {
  if (!prev || next.at <= prev.at || next.tokens < prev.tokens) return null
  return ((next.tokens - prev.tokens) * 1000) / (next.at - prev.at)
}
