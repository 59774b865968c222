// Fixed-length series for the live charts.

/** Appends `value`, dropping the oldest beyond `max` points. */
export function pushBounded(series: number[], value: number, max: number): number[] {
  const next = series.length >= max ? series.slice(series.length - max + 1) : series.slice()
  next.push(value)
  return next
}

/** An SVG polyline `points` string for values in [0, top], drawn in a w×h box. */
export function polyline(series: number[], top: number, w: number, h: number, max: number): string {
  if (series.length === 0 || !(top > 0)) return ''
  const step = max > 1 ? w / (max - 1) : w
  const offset = (max - series.length) * step
  return series
    .map((v, i) => {
      const y = h - (Math.min(Math.max(v, 0), top) / top) * h
      return `${(offset + i * step).toFixed(1)},${y.toFixed(1)}`
    })
    .join(' ')
}
