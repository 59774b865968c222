// The UI's one door to the server: same-origin fetches with the API key
// (when one is kept), Ollama's `{"error": "..."}` turned into ApiError,
// and the connection state the shell shows ("server not reachable", "API
// key needed").

import type {
  ChatResponse,
  CreatedKey,
  FitReport,
  HearthSettings,
  KeyList,
  ListResponse,
  ProcessResponse,
  ProgressResponse,
  RequestLog,
  SettingsUpdate,
  ShowResponse,
  SystemInfo,
  VersionResponse,
} from './api.gen'
import { KeyStore } from './keys'
import { readNdjson } from './ndjson'

export class ApiError extends Error {
  constructor(
    public status: number,
    message: string,
  ) {
    super(message)
  }
}

export const keys = new KeyStore(sessionStorage, localStorage)

/** What the shell shows about the server; updated by every call. */
export const connection = $state({ reachable: true, needKey: false, forbidden: false })

async function request(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<Response> {
  const headers: Record<string, string> = {}
  const key = keys.get()
  if (key) headers.Authorization = `Bearer ${key}`
  if (body !== undefined && !(body instanceof Blob)) headers['Content-Type'] = 'application/json'
  let res: Response
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : body instanceof Blob ? body : JSON.stringify(body),
      signal,
      cache: 'no-store',
    })
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e
    connection.reachable = false
    throw new ApiError(0, 'server not reachable')
  }
  connection.reachable = true
  if (res.status === 401) connection.needKey = true
  if (!res.ok) {
    let message = `${res.status} ${res.statusText}`
    try {
      const j = await res.json()
      if (j && typeof j.error === 'string') message = j.error
    } catch {
      // not JSON
    }
    throw new ApiError(res.status, message)
  }
  if (res.status !== 401) connection.needKey = false
  return res
}

async function json<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await request(method, path, body)
  return (await res.json()) as T
}

/** Streams NDJSON lines; an `{"error"}` line mid-stream becomes an ApiError. */
async function* stream<T>(path: string, body: unknown, signal: AbortSignal): AsyncGenerator<T> {
  const res = await request('POST', path, body, signal)
  if (!res.body) return
  for await (const line of readNdjson<T & { error?: string }>(res.body)) {
    if (line.error) throw new ApiError(500, line.error)
    yield line as T
  }
}

export const api = {
  version: () => json<VersionResponse>('GET', '/api/version'),
  tags: () => json<ListResponse>('GET', '/api/tags'),
  ps: () => json<ProcessResponse>('GET', '/api/ps'),
  show: (model: string, verbose = true) => json<ShowResponse>('POST', '/api/show', { model, verbose }),
  copy: (source: string, destination: string) => request('POST', '/api/copy', { source, destination }),
  remove: (model: string) => request('DELETE', '/api/delete', { model }),
  unload: (model: string) => json<unknown>('POST', '/api/generate', { model, keep_alive: 0 }),
  pull: (model: string, insecure: boolean, signal: AbortSignal) =>
    stream<ProgressResponse>('/api/pull', { model, insecure, stream: true }, signal),
  chat: (body: unknown, signal: AbortSignal) => stream<ChatResponse>('/api/chat', body, signal),
  uploadBlob: async (digest: string, file: Blob) => {
    await request('POST', `/api/blobs/sha256:${digest}`, file)
  },
  create: (model: string, files: Record<string, string>, signal: AbortSignal) =>
    stream<ProgressResponse>('/api/create', { model, files, stream: true }, signal),
  metrics: async () => (await request('GET', '/metrics')).text(),
  system: () => json<SystemInfo>('GET', '/hearth/system'),
  fit: (model: string, numCtx: number, insecure = false) =>
    json<FitReport>(
      'GET',
      `/hearth/fit?${new URLSearchParams({ model, num_ctx: String(numCtx), insecure: String(insecure) })}`,
    ),
  settings: () => json<HearthSettings>('GET', '/hearth/settings'),
  saveSettings: (u: SettingsUpdate) => json<HearthSettings>('PUT', '/hearth/settings', u),
  keys: () => json<KeyList>('GET', '/hearth/keys'),
  createKey: (name: string, scope: string) => json<CreatedKey>('POST', '/hearth/keys', { name, scope }),
  revokeKey: (name: string) => request('DELETE', `/hearth/keys/${encodeURIComponent(name)}`),
  requests: () => json<RequestLog>('GET', '/hearth/requests'),
}

/** A message for people from any thrown value. */
export function errorText(e: unknown): string {
  if (e instanceof ApiError) {
    if (e.status === 403 && e.message.includes('scope')) return 'This needs an admin API key.'
    return e.message
  }
  return e instanceof Error ? e.message : String(e)
}
