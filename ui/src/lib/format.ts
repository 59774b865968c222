// Formatting of sizes, durations and times for people. Pure functions.

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB']

/** 1536 → "1.5 KB" (powers of 1000, as Ollama and disk vendors show sizes). */
export function formatBytes(n: number | undefined | null): string {
  if (n == null || !Number.isFinite(n) || n < 0) return '—'
  let i = 0
  let v = n
  while (v >= 1000 && i < UNITS.length - 1) {
    v /= 1000
    i++
  }
  const digits = i === 0 || v >= 100 ? 0 : v >= 10 ? 1 : 2
  return `${v.toFixed(digits)} ${UNITS[i]}`
}

/** Seconds → "45 s", "4 min 05 s", "2 h 03 min", "3 d 4 h". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return 'forever'
  const s = Math.max(0, Math.round(seconds))
  if (s < 60) return `${s} s`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, '0')} s`
  const h = Math.floor(m / 60)
  if (h < 24) return `${h} h ${String(m % 60).padStart(2, '0')} min`
  return `${Math.floor(h / 24)} d ${h % 24} h`
}

/** Time left until `expiresAt` (RFC 3339); far-future dates mean "forever". */
export function countdown(expiresAt: string, now: number): string {
  const t = Date.parse(expiresAt)
  if (Number.isNaN(t)) return '—'
  const left = (t - now) / 1000
  if (left > 10 * 365 * 24 * 3600) return 'stays loaded'
  if (left <= 0) return 'unloading'
  return `unloads in ${formatDuration(left)}`
}

/** "just now", "5 min ago", "3 h ago", "2 days ago", else the date. */
export function relativeTime(iso: string, now: number): string {
  const t = Date.parse(iso)
  if (Number.isNaN(t)) return '—'
  const s = (now - t) / 1000
  if (s < 45) return 'just now'
  if (s < 3600) return `${Math.round(s / 60)} min ago`
  if (s < 86400) return `${Math.round(s / 3600)} h ago`
  if (s < 30 * 86400) return `${Math.round(s / 86400)} days ago`
  return new Date(t).toISOString().slice(0, 10)
}

/** Whole percent, clamped to 0–100. */
export function percent(part: number, whole: number): number {
  if (!(whole > 0)) return 0
  return Math.min(100, Math.max(0, Math.floor((part / whole) * 100)))
}
