// Newline-delimited JSON from a streaming response (/api/pull, /api/chat).

/** Splits text chunks into complete lines, keeping the unfinished tail. */
export class LineSplitter {
  private tail = ''

  push(chunk: string): string[] {
    const text = this.tail + chunk
    const lines = text.split('\n')
    this.tail = lines.pop() ?? ''
    return lines.map((l) => l.trim()).filter((l) => l.length > 0)
  }

  /** What is left at the end of the stream. */
  flush(): string[] {
    const rest = this.tail.trim()
    this.tail = ''
    return rest ? [rest] : []
  }
}

/** Yields each JSON object of an NDJSON body. */
export async function* readNdjson<T>(body: ReadableStream<Uint8Array>): AsyncGenerator<T> {
  const reader = body.getReader()
  const decoder = new TextDecoder()
  const lines = new LineSplitter()
  try {
    for (;;) {
      const { value, done } = await reader.read()
      if (done) break
      for (const line of lines.push(decoder.decode(value, { stream: true }))) yield JSON.parse(line) as T
    }
    for (const line of lines.flush()) yield JSON.parse(line) as T
  } finally {
    reader.releaseLock()
  }
}
