// Hash routes (#/models, #/chat?model=x): the page works from any path,
// including the server's /ui/ and a Tauri window, without server routing.

export const PAGES = ['models', 'running', 'hardware', 'server', 'chat'] as const
export type Page = (typeof PAGES)[number]

export interface Route {
  page: Page
  params: URLSearchParams
}

export function parseRoute(hash: string): Route {
  const h = hash.replace(/^#\/?/, '')
  const [path, query = ''] = h.split('?', 2)
  const page = (PAGES as readonly string[]).includes(path) ? (path as Page) : 'models'
  return { page, params: new URLSearchParams(query) }
}

export function href(page: Page, params?: Record<string, string>): string {
  const q = params ? new URLSearchParams(params).toString() : ''
  return `#/${page}${q ? `?${q}` : ''}`
}
