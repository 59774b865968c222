// Fixed-length series for the live charts.

/** Appends `value`, dropping the oldest beyond `max` points. */
export function pushBounded(series: number[], value: number, max: number): number[] {
  const next = series.length >= max ? series.slice(series.length - max + 1) : series.slice()
  next.push(value)
  return next
}

/**
 * An SVG polyline `points` string for values in [0, top], drawn in a w×h
 * box: `max` points fill the width; fewer (while the series is young)
 * are spread over it, so the chart never looks half empty.
 */
export function polyline(series: number[], top: number, w: number, h: number, max: number): string {
  if (series.length === 0 || !(top > 0)) return ''
  const n = Math.min(series.length, max)
  const step = n > 1 ? w / (n - 1) : 0
  return series
    .slice(-n)
    .map((v, i) => {
      const y = h - (Math.min(Math.max(v, 0), top) / top) * h
      const x = n > 1 ? i * step : w
      return `${x.toFixed(1)},${y.toFixed(1)}`
    })
    .join(' ')
}
