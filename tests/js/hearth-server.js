// Starts a real `hearth serve` for the JS client tests and creates the tiny
// models they use. How to run the suite: see ollama-client.test.js.
//
// Environment:
//   HEARTH_BIN     server binary (default: ../../target/debug/hearth relative
//                  to this file; relative paths are taken from the repo root)
//   HEARTH_PYTHON  Python that runs scripts/make_tiny_gguf.py (default: the
//                  repo's .venv/bin/python, which `make test` creates)

import { spawn, execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtempSync, openSync, closeSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, isAbsolute, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const HERE = dirname(fileURLToPath(import.meta.url))
export const REPO_ROOT = resolve(HERE, '..', '..')
const STARTUP_TIMEOUT_MS = 60_000
const LOG_TAIL_CHARS = 20_000

function fromRoot(p) {
  return isAbsolute(p) ? p : resolve(REPO_ROOT, p)
}

function freePort() {
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

const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms))

export class HearthServer {
  constructor() {
    this.binary = fromRoot(process.env.HEARTH_BIN || 'target/debug/hearth')
    this.python = fromRoot(process.env.HEARTH_PYTHON || '.venv/bin/python')
    this.work = mkdtempSync(join(tmpdir(), 'hearth-js-'))
    this.logPath = join(this.work, 'server.log')
    this.proc = null
    this.url = null
    this.exited = null
  }

  /**
   * Starts the server on a free port and waits for `GET /` to answer 200.
   * On failure the error does not include the log: see logSection().
   */
  async start() {
    const port = await freePort()
    const host = `127.0.0.1:${port}`
    this.url = `http://${host}`
    const modelsDir = join(this.work, 'models')
    const log = openSync(this.logPath, 'w')
    try {
      this.proc = spawn(this.binary, ['serve'], {
        cwd: this.work,
        env: {
          ...process.env,
          HEARTH_HOST: host,
          HEARTH_MODELS: modelsDir,
          // A developer's ~/.hearth/config.toml must not change the tests.
          HEARTH_CONFIG: '/dev/null',
          HEARTH_NUM_THREADS: '1',
        },
        stdio: ['ignore', log, log],
        detached: true, // its own process group, stopped as a whole
      })
    } finally {
      closeSync(log)
    }
    // If this process ends before stop() (an interrupt, a crash), take the
    // server and its runner processes down with it.
    const killGroup = () => {
      try {
        process.kill(-this.proc.pid, 'SIGKILL')
      } catch {
        // already gone
      }
    }
    const onSignal = (sig) => {
      killGroup()
      process.exit(sig === 'SIGINT' ? 130 : 143)
    }
    process.once('exit', killGroup)
    process.once('SIGINT', onSignal)
    process.once('SIGTERM', onSignal)
    this.exited = new Promise((ok) => {
      this.proc.on('exit', (code, signal) => {
        process.off('exit', killGroup)
        process.off('SIGINT', onSignal)
        process.off('SIGTERM', onSignal)
        ok({ code, signal })
      })
      this.proc.on('error', (err) => ok({ code: null, signal: null, err }))
    })
    let exitInfo = null
    this.exited.then((info) => {
      exitInfo = info
    })

    const deadline = Date.now() + STARTUP_TIMEOUT_MS
    let last = 'no attempt yet'
    while (Date.now() < deadline) {
      if (exitInfo) {
        const why = exitInfo.err ? exitInfo.err.message : `status ${exitInfo.code}, signal ${exitInfo.signal}`
        throw new Error(`hearth (${this.binary}) exited before answering GET / (${why})`)
      }
      try {
        const res = await fetch(`${this.url}/`, { signal: AbortSignal.timeout(2000) })
        if (res.status === 200) return
        last = `GET / answered ${res.status}`
      } catch (e) {
        last = `GET / failed: ${e.message}`
      }
      await sleep(100)
    }
    await this.stop()
    throw new Error(`hearth did not answer GET / with 200 within ${STARTUP_TIMEOUT_MS / 1000} s (${last})`)
  }

  /** Stops the server (SIGTERM, then SIGKILL after 10 s) and waits for it. */
  async stop() {
    if (!this.proc || this.proc.exitCode !== null || this.proc.signalCode !== null) return
    const kill = (sig) => {
      try {
        process.kill(-this.proc.pid, sig)
      } catch {
        // already gone
      }
    }
    kill('SIGTERM')
    const timer = setTimeout(() => kill('SIGKILL'), 10_000)
    await this.exited
    clearTimeout(timer)
  }

  /** Removes the temporary store and log. */
  cleanup() {
    rmSync(this.work, { recursive: true, force: true })
  }

  logTail(limit = LOG_TAIL_CHARS) {
    let text
    try {
      text = readFileSync(this.logPath, 'utf8')
    } catch (e) {
      return `<cannot read ${this.logPath}: ${e.message}>`
    }
    return text.length > limit ? '...[earlier output cut]...\n' + text.slice(-limit) : text
  }

  logSection() {
    return `--- hearth server log (${this.logPath}) ---\n${this.logTail()}`
  }

  /** Writes the tiny random-weight llama GGUF (scripts/make_tiny_gguf.py). */
  async makeTinyGguf(name, ...extra) {
    const out = join(this.work, name)
    try {
      await promisify(execFile)(this.python, [join(REPO_ROOT, 'scripts', 'make_tiny_gguf.py'), out, ...extra], {
        timeout: 120_000,
      })
    } catch (e) {
      throw new Error(`make_tiny_gguf.py failed with ${this.python}: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`)
    }
    return out
  }

  /**
   * Uploads a file as a blob the way `ollama create` does: POST
   * /api/blobs/sha256:<hex> (ollama-js has no blob upload). Returns the digest.
   */
  async uploadBlob(path) {
    const data = readFileSync(path)
    const digest = 'sha256:' + createHash('sha256').update(data).digest('hex')
    const res = await fetch(`${this.url}/api/blobs/${digest}`, { method: 'POST', body: data })
    if (res.status !== 201 && res.status !== 200) {
      throw new Error(`upload ${path}: ${res.status} ${await res.text()}`)
    }
    return digest
  }
}
