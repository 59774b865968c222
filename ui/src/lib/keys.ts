// Where the UI keeps the API key it sends: sessionStorage by default (gone
// when the tab closes), localStorage when the person ticks "remember on
// this device". Never in a cookie, so the browser never sends it by itself
// (no CSRF), and never in a URL.

const NAME = 'hearth.apiKey'

export class KeyStore {
  constructor(
    private session: Storage,
    private local: Storage,
  ) {}

  get(): string | null {
    return this.session.getItem(NAME) ?? this.local.getItem(NAME)
  }

  set(key: string, remember: boolean) {
    this.clear()
    ;(remember ? this.local : this.session).setItem(NAME, key)
  }

  clear() {
    this.session.removeItem(NAME)
    this.local.removeItem(NAME)
  }
}
