// What the browser tests stand on, all real: Debian's docker-registry on a
// free loopback port, a `hearth serve` with its own store, key file and
// config file, a tiny GGUF (scripts/make_tiny_gguf.py) pushed to that
// registry so the UI can pull it, and Debian's Chromium driven by
// playwright-core (no browser download).
//
// Environment: HEARTH_BIN (default ../target/debug/hearth), HEARTH_PYTHON
// (default ../.venv/bin/python, made by `make test`), CHROMIUM (default
// /usr/bin/chromium).

import { execFile, spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, isAbsolute, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { chromium } from 'playwright-core'

const HERE = dirname(fileURLToPath(import.meta.url))
export const UI_ROOT = resolve(HERE, '..')
export const REPO_ROOT = resolve(UI_ROOT, '..')
const fromRoot = (p) => (isAbsolute(p) ? p : resolve(REPO_ROOT, p))
const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms))
const REGISTRY_BIN = '/usr/bin/docker-registry'

export function freePort() {
  return new Promise((ok, fail) => {
    const srv = createServer()
    srv.unref()
    srv.on('error', fail)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address()
      srv.close(() => ok(port))
    })
  })
}

async function waitFor(url, what, proc, logPath) {
  const deadline = Date.now() + 60_000
  while (Date.now() < deadline) {
    if (proc.spawnError) throw new Error(`cannot start ${what}: ${proc.spawnError.message}`)
    if (proc.exitCode !== null) throw new Error(`${what} exited early:\n${readFileSync(logPath, 'utf8').slice(-4000)}`)
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(2000) })
      if (r.ok) return
    } catch {
      // not yet
    }
    await sleep(100)
  }
  throw new Error(`${what} did not answer ${url}:\n${readFileSync(logPath, 'utf8').slice(-4000)}`)
}

/** Spawns a child in its own process group, killed with the test process. */
function spawnGroup(cmd, args, env, logPath) {
  const log = openSync(logPath, 'w')
  const proc = spawn(cmd, args, { env, stdio: ['ignore', log, log], detached: true })
  closeSync(log)
  proc.on('error', (e) => (proc.spawnError = e))
  const kill = () => {
    try {
      process.kill(-proc.pid, 'SIGKILL')
    } catch {
      // gone
    }
  }
  process.once('exit', kill)
  proc.stopGroup = async () => {
    if (proc.exitCode !== null || proc.signalCode !== null) return
    const exited = new Promise((ok) => proc.once('exit', ok))
    try {
      process.kill(-proc.pid, 'SIGTERM')
    } catch {
      return
    }
    const t = setTimeout(kill, 10_000)
    await exited
    clearTimeout(t)
    process.off('exit', kill)
  }
  return proc
}

export class Stack {
  constructor() {
    this.work = mkdtempSync(join(tmpdir(), 'hearth-ui-'))
    this.binary = fromRoot(process.env.HEARTH_BIN || 'target/debug/hearth')
    this.python = fromRoot(process.env.HEARTH_PYTHON || '.venv/bin/python')
    this.procs = []
  }

  /** docker-registry on a free port; sets this.registry ("127.0.0.1:PORT"). */
  async startRegistry() {
    if (!existsSync(REGISTRY_BIN)) {
      throw new Error(`${REGISTRY_BIN} is missing: install Debian's docker-registry (make test does)`)
    }
    this.registry = `127.0.0.1:${await freePort()}`
    const dir = join(this.work, 'registry')
    mkdirSync(dir)
    const config = join(dir, 'config.yml')
    writeFileSync(
      config,
      `version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: ${dir}/data\n  delete:\n    enabled: true\nhttp:\n  addr: ${this.registry}\n`,
    )
    const logPath = join(dir, 'registry.log')
    const proc = spawnGroup(REGISTRY_BIN, ['serve', config], process.env, logPath)
    this.procs.push(proc)
    await waitFor(`http://${this.registry}/v2/`, 'docker-registry', proc, logPath)
  }

  /**
   * A slow path to the registry: an HTTP proxy on a free port that passes
   * everything through but sends blob bodies at `bytesPerSecond`, so a
   * pull lasts long enough to be cancelled. Returns "127.0.0.1:PORT";
   * `this.blobBytes` counts the blob bytes it has sent.
   */
  async startSlowRegistry(bytesPerSecond) {
    this.blobBytes = 0
    const [rhost, rport] = this.registry.split(':')
    const server = http.createServer((req, res) => {
      const up = http.request(
        { host: rhost, port: rport, method: req.method, path: req.url, headers: { ...req.headers, host: this.registry } },
        async (upRes) => {
          res.writeHead(upRes.statusCode, upRes.headers)
          const slow = req.url.includes('/blobs/') && req.method === 'GET'
          for await (const chunk of upRes) {
            if (!slow) {
              res.write(chunk)
              continue
            }
            for (let i = 0; i < chunk.length; i += 16384) {
              const piece = chunk.subarray(i, i + 16384)
              if (res.destroyed) return
              res.write(piece)
              this.blobBytes += piece.length
              await sleep((piece.length / bytesPerSecond) * 1000)
            }
          }
          res.end()
        },
      )
      up.on('error', () => res.destroy())
      req.pipe(up)
    })
    await new Promise((ok) => server.listen(0, '127.0.0.1', ok))
    this.slowServer = server
    return `127.0.0.1:${server.address().port}`
  }

  /** `hearth serve` on a free port; sets this.url. */
  async startHearth(extraEnv = {}) {
    const port = await freePort()
    this.url = `http://127.0.0.1:${port}`
    this.home = join(this.work, 'home')
    mkdirSync(this.home, { recursive: true })
    // An explicit HEARTH_CONFIG must exist; the UI saves settings into it.
    writeFileSync(join(this.home, 'config.toml'), '')
    this.serverLog = join(this.work, 'server.log')
    const env = {
      ...process.env,
      HEARTH_HOST: `127.0.0.1:${port}`,
      HEARTH_MODELS: join(this.work, 'models'),
      HEARTH_HOME: this.home,
      HEARTH_CONFIG: join(this.home, 'config.toml'),
      HEARTH_NUM_THREADS: '1',
      ...extraEnv,
    }
    const proc = spawnGroup(this.binary, ['serve'], env, this.serverLog)
    this.procs.push(proc)
    await waitFor(`${this.url}/`, 'hearth serve', proc, this.serverLog)
  }

  serverLogTail() {
    try {
      return readFileSync(this.serverLog, 'utf8').slice(-6000)
    } catch {
      return ''
    }
  }

  /** A call to the server, with `this.key` when one is set. */
  async api(method, path, body) {
    const headers = body ? { 'content-type': 'application/json' } : {}
    if (this.key) headers.authorization = `Bearer ${this.key}`
    const r = await fetch(this.url + path, {
      method,
      headers,
      body: body ? JSON.stringify(body) : undefined,
    })
    if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`)
    return r
  }

  /** Creates `name` from a GGUF file on disk, as `hearth create` does. */
  async createFromFile(name, path, extra = {}) {
    const data = readFileSync(path)
    const digest = 'sha256:' + createHash('sha256').update(data).digest('hex')
    const up = await fetch(`${this.url}/api/blobs/${digest}`, { method: 'POST', body: data })
    if (!up.ok) throw new Error(`upload: ${up.status} ${await up.text()}`)
    await this.api('POST', '/api/create', { model: name, files: { 'model.gguf': digest }, stream: false, ...extra })
  }

  async makeTinyGguf(file, ...args) {
    const out = join(this.work, file)
    await promisify(execFile)(this.python, [join(REPO_ROOT, 'scripts', 'make_tiny_gguf.py'), out, ...args], {
      timeout: 120_000,
    })
    return out
  }

  /**
   * Puts a tiny model into the registry as `<registry>/<repo>:latest`
   * by pushing it from this server, then removes it locally, so the UI
   * pulls it for real.
   */
  async seedRegistry(repo = 'test/tiny', ...ggufArgs) {
    const file = `${repo.replace('/', '-')}.gguf`
    const gguf = await this.makeTinyGguf(file, ...ggufArgs)
    const remote = `${this.registry}/${repo}:latest`
    await this.createFromFile('seed', gguf)
    await this.api('POST', '/api/copy', { source: 'seed', destination: remote })
    await this.api('POST', '/api/push', { model: remote, insecure: true, stream: false })
    await this.api('DELETE', '/api/delete', { model: remote })
    await this.api('DELETE', '/api/delete', { model: 'seed' })
    return remote
  }

  /** Debian's Chromium, headless, with an empty profile. */
  async browser(options = {}) {
    const profile = join(this.work, `chromium-${Date.now()}`)
    this.context = await chromium.launchPersistentContext(profile, {
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      headless: true,
      viewport: { width: 1280, height: 860 },
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      ...options,
    })
    return this.context
  }

  async stop() {
    await this.context?.close().catch(() => {})
    this.slowServer?.closeAllConnections()
    this.slowServer?.close()
    for (const p of this.procs.reverse()) await p.stopGroup()
    this.procs = []
  }

  cleanup() {
    rmSync(this.work, { recursive: true, force: true })
  }
}

const AXE = readFileSync(join(UI_ROOT, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8')

/**
 * Runs axe-core in the page (through the debugger protocol, which the
 * page's CSP does not govern) and returns its serious and critical
 * violations.
 */
export async function axeViolations(page) {
  await page.evaluate(AXE)
  const result = await page.evaluate(() =>
    // eslint-disable-next-line no-undef
    axe.run(document, { resultTypes: ['violations'] }),
  )
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)
}
