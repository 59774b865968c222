// The web UI end to end, in Debian's Chromium against a real `hearth serve`
// and a real registry: pull a model and watch the progress reach 100 %
// (and cancel and resume another pull through a slow proxy), see
// it listed and open its details, chat with it and see the text stream in,
// see it under Running and unload it, create and revoke an API key (and be
// asked for one), save settings, copy and delete the model, import a GGUF,
// and a narrow window. Every step saves a screenshot (ui/test-results/)
// and runs axe-core (no serious or critical violations); the page must
// never trip its Content-Security-Policy.
//
// Run: `make test`, or `npm run e2e` in ui/ after `make build`.

import assert from 'node:assert/strict'
import { mkdirSync } from 'node:fs'
import http from 'node:http'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { Stack, UI_ROOT, axeViolations } from './harness.js'

const SHOTS = join(UI_ROOT, 'test-results')
mkdirSync(SHOTS, { recursive: true })

const stack = new Stack()
let page
let model
const problems = []

before(async () => {
  await stack.startRegistry()
  await stack.startHearth()
  model = await stack.seedRegistry()
  // Other weights (no blob in common with `model`), pulled slowly later.
  await stack.seedRegistry('test/slow', '--seed', '5')
  const context = await stack.browser()
  page = await context.newPage()
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content.Security.Policy/i.test(m.text())) problems.push(m.text())
  })
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`))
})

after(async () => {
  await stack.stop()
  stack.cleanup()
})

/** Follows a link of the navigation. */
const go = (name) => page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name, exact: true }).click()

/** Screenshot + accessibility check of the page as it is now. */
async function check(name) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true })
  const violations = await axeViolations(page)
  assert.deepEqual(violations, [], `axe-core found serious violations on ${name}`)
  assert.deepEqual(problems, [], 'CSP violations or page errors')
}

test('the UI is served with its caching and security headers', async () => {
  const index = await fetch(`${stack.url}/ui/`)
  assert.equal(index.status, 200)
  assert.equal(index.headers.get('cache-control'), 'no-cache')
  const csp = index.headers.get('content-security-policy')
  assert.match(csp, /script-src 'self'/)
  // Framed only by itself and the desktop app's webview.
  assert.match(csp, /frame-ancestors 'self' tauri:\/\/localhost http:\/\/tauri\.localhost https:\/\/tauri\.localhost$/)
  const html = await index.text()
  const asset = /src="\.\/(assets\/[^"]+\.js)"/.exec(html)
  assert.ok(asset, `no script in index.html:\n${html}`)
  const js = await fetch(`${stack.url}/ui/${asset[1]}`)
  assert.equal(js.status, 200)
  assert.match(js.headers.get('content-type'), /javascript/)
  assert.equal(js.headers.get('cache-control'), 'public, max-age=31536000, immutable')
  const redirect = await fetch(`${stack.url}/ui`, { redirect: 'manual' })
  assert.equal(redirect.status, 308)
  assert.equal(redirect.headers.get('location'), '/ui/')
  // A rebinding page (foreign Host) gets nothing, UI included.
  const foreign = await new Promise((ok, fail) =>
    http.get(`${stack.url}/ui/`, { headers: { host: 'evil.example' } }, (res) => ok(res.statusCode)).on('error', fail),
  )
  assert.equal(foreign, 403)
})

test('an empty server says so', async () => {
  await page.goto(`${stack.url}/ui/`)
  await page.getByText('No models yet — pull one').waitFor()
  await check('01-models-empty')
})

test('pull a model from the registry and watch it reach 100%', async () => {
  await page.getByLabel('Model name to pull').fill(model)
  await page.getByLabel('Allow plain HTTP registry').check()
  await page.getByRole('button', { name: 'Will it fit?' }).click()
  await page.getByText('estimated from the manifest').waitFor()
  await page.getByRole('button', { name: 'Pull', exact: true }).click()
  const bar = page.getByRole('progressbar', { name: `Pull progress of ${model}` })
  await bar.waitFor()
  await page.waitForFunction(
    (name) => document.querySelector(`[aria-label="Pull progress of ${name}"]`)?.getAttribute('aria-valuenow') === '100',
    model,
    { timeout: 60_000 },
  )
  assert.equal(await page.getByTestId('pull-percent').textContent(), '100%')
  await page.getByRole('button', { name: `Details of ${model}` }).waitFor()
  await check('02-models-pulled')
})

test('cancel a pull half way, then resume it where it stopped', async () => {
  // Through a proxy that sends blob bytes at 400 kB/s (the weights are
  // 1.9 MB), so there is time to cancel.
  const slow = await stack.startSlowRegistry(400_000)
  const name = `${slow}/test/slow:latest`
  await page.getByLabel('Model name to pull').fill(name)
  await page.getByRole('button', { name: 'Pull', exact: true }).click()
  const value = () =>
    page.evaluate((n) => Number(document.querySelector(`[aria-label="Pull progress of ${n}"]`)?.getAttribute('aria-valuenow') ?? -1), name)
  await page.waitForFunction(
    (n) => Number(document.querySelector(`[aria-label="Pull progress of ${n}"]`)?.getAttribute('aria-valuenow')) >= 20,
    name,
    { timeout: 30_000 },
  )
  await page.getByRole('button', { name: `Cancel pull of ${name}` }).click()
  await page.getByRole('button', { name: `Resume pull of ${name}` }).waitFor()
  const stoppedAt = await value()
  assert.ok(stoppedAt >= 20 && stoppedAt < 100, `cancelled at ${stoppedAt}%`)
  const sentBefore = stack.blobBytes
  await page.getByRole('button', { name: `Resume pull of ${name}` }).click()
  await page.waitForFunction(
    (n) => document.querySelector(`[aria-label="Pull progress of ${n}"]`)?.getAttribute('aria-valuenow') === '100',
    name,
    { timeout: 60_000 },
  )
  // Resumed, not restarted: the second run sent less than the whole blob again.
  const resent = stack.blobBytes - sentBefore
  assert.ok(resent < 1_869_696, `the resumed pull downloaded ${resent} bytes again`)
  await page.getByRole('button', { name: `Delete ${name}` }).click()
  await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click()
  await page.getByRole('button', { name: `Details of ${name}` }).waitFor({ state: 'detached' })
  await page.getByRole('button', { name: `Dismiss ${name}` }).click()
  await check('02b-pull-resumed')
})

test('the model is listed with its facts, and its details open', async () => {
  const row = page.getByTestId('model-row').filter({ hasText: model })
  await row.waitFor()
  const text = await row.textContent()
  assert.match(text, /llama/)
  assert.match(text, /F32/)
  await page.getByRole('button', { name: `Details of ${model}` }).click()
  const details = page.getByTestId('details')
  await details.getByText('GGUF metadata').click()
  await details.getByText('general.architecture').waitFor()
  await details.getByText('Template').waitFor()
  await check('03-model-details')
})

test('chat with it and see the answer stream in', async () => {
  await page.getByRole('link', { name: `Chat with ${model}` }).click()
  // The model list loads after the page; the link's model is then picked.
  await page.waitForFunction((m) => document.querySelector('select[aria-label="Model"]')?.value === m, model)
  await page.getByRole('button', { name: 'Options' }).click()
  await page.getByLabel('Maximum tokens').fill('96')
  await page.getByLabel('Temperature').fill('0')
  // Record every length the answer bubble goes through.
  await page.evaluate(() => {
    window.__lengths = []
    new MutationObserver(() => {
      const b = document.querySelector('[data-testid="msg-assistant"] .bubble')
      if (b) window.__lengths.push(b.textContent.length)
    }).observe(document.querySelector('[data-testid="chat-log"]'), {
      subtree: true,
      childList: true,
      characterData: true,
    })
  })
  await page.getByRole('textbox', { name: 'Message' }).fill('Hello there')
  await page.keyboard.press('Enter')
  await page.getByTestId('chat-stats').waitFor({ timeout: 60_000 })
  const stats = await page.getByTestId('chat-stats').textContent()
  assert.match(stats, /96 tokens · [\d.]+ tokens\/s/)
  const answer = await page.locator('[data-testid="msg-assistant"] .bubble').textContent()
  assert.ok(answer.trim().length > 0, 'empty answer')
  const lengths = await page.evaluate(() => [...new Set(window.__lengths.filter((n) => n > 0))])
  assert.ok(lengths.length >= 2, `the answer arrived in one piece (lengths ${lengths}), not streamed`)
  await check('04-chat')
})

test('the model is under Running, and unloads', async () => {
  await go('Running')
  const row = page.getByTestId('running-row').filter({ hasText: model })
  await row.waitFor()
  assert.match(await row.textContent(), /unloads in \d/)
  await check('05-running')
  await page.getByRole('button', { name: `Unload ${model}` }).click()
  await page.getByText('Nothing is loaded').waitFor({ timeout: 30_000 })
  const ps = await (await fetch(`${stack.url}/api/ps`)).json()
  assert.deepEqual(ps.models, [])
})

test('hardware shows the machine and the fit of the model', async () => {
  await go('Hardware')
  await page.getByTestId('cpu-usage').waitFor()
  const fit = page.getByTestId('fit-row').filter({ hasText: model })
  await fit.waitFor()
  assert.match(await fit.textContent(), /Fits|Tight|Won't fit/)
  await check('06-hardware')
})

test('create an API key, which turns authentication on, and revoke it', async () => {
  await go('Server')
  await page.getByLabel('New key name').fill('e2e-admin')
  await page.getByLabel('New key scope').selectOption('admin')
  await page.getByRole('button', { name: 'Create key' }).click()
  const shown = await page.locator('.banner.info pre').textContent()
  assert.match(shown, /^hth_[0-9a-f]{64}$/)
  await page.getByTestId('key-row').filter({ hasText: 'e2e-admin' }).waitFor()
  // Keys are on now: the API refuses a caller without one, and the UI
  // keeps working with the key it was just given.
  assert.equal((await fetch(`${stack.url}/api/tags`)).status, 401)
  assert.equal((await fetch(`${stack.url}/hearth/keys`)).status, 401)
  assert.equal((await fetch(`${stack.url}/api/tags`, { headers: { authorization: `Bearer ${shown}` } })).status, 200)
  await page.getByRole('button', { name: 'Done' }).click()
  // A browser without the key is asked for one, and keeps it for the tab.
  await page.evaluate(() => sessionStorage.clear())
  await page.reload()
  const prompt = page.getByRole('dialog', { name: 'API key needed' })
  await prompt.waitFor()
  await check('07-key-prompt')
  await prompt.getByLabel('API key').fill(shown)
  await prompt.getByRole('button', { name: 'Use key' }).click()
  await page.getByTestId('key-row').filter({ hasText: 'e2e-admin' }).waitFor()
  assert.equal(await page.evaluate(() => sessionStorage.getItem('hearth.apiKey')), shown)
  await check('07-server-key')
  await page.getByRole('button', { name: 'Revoke key e2e-admin' }).click()
  await page.getByRole('dialog').getByRole('button', { name: 'Revoke' }).click()
  await page.getByText('No keys yet.').waitFor()
  assert.equal((await fetch(`${stack.url}/api/tags`)).status, 200)
})

test('settings are saved for the next start, and LAN needs a key', async () => {
  await page.getByLabel('Default keep-alive').fill('10m')
  await page.getByRole('button', { name: 'Save settings' }).click()
  await page.getByText('Saved. Changes apply when the server restarts.').waitFor()
  await page.getByText('Waiting for a restart: keep_alive.').waitFor()
  await page.getByLabel('Share on the local network').check()
  await page.getByRole('button', { name: 'Save settings' }).click()
  await page.getByText('add an API key before exposing the server').waitFor()
  await page.getByLabel('Share on the local network').uncheck()
  await page.getByRole('button', { name: 'Save settings' }).click()
  await page.getByText('Saved. Changes apply when the server restarts.').waitFor()
  // The request log shows the UI's own calls.
  await page.getByText('PUT /hearth/settings').first().waitFor()
  await check('08-server-settings')
})

test('copy the model under a new name', async () => {
  await go('Models')
  await page.getByRole('button', { name: `Copy ${model}` }).click()
  const dialog = page.getByRole('dialog', { name: `Copy ${model}` })
  await dialog.getByLabel('New name').fill('tiny-copy')
  await dialog.getByRole('button', { name: 'Copy' }).click()
  await page.getByRole('button', { name: 'Details of tiny-copy:latest' }).waitFor()
  await page.getByRole('button', { name: 'Delete tiny-copy:latest' }).click()
  await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click()
  await page.getByRole('button', { name: 'Details of tiny-copy:latest' }).waitFor({ state: 'detached' })
})

test('delete the model, with confirmation', async () => {
  await go('Models')
  await page.getByRole('button', { name: `Delete ${model}` }).click()
  await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click()
  await page.getByText('No models yet — pull one').waitFor()
  const tags = await (await fetch(`${stack.url}/api/tags`)).json()
  assert.deepEqual(tags.models, [])
  await check('09-models-deleted')
})

test('import a local GGUF file', async () => {
  const file = await stack.makeTinyGguf('import-me.gguf', '--seed', '7')
  await page.getByLabel('GGUF file to import').setInputFiles(file)
  assert.equal(await page.getByLabel('Name of the imported model').inputValue(), 'import-me')
  await page.getByRole('button', { name: 'Import', exact: true }).click()
  await page.getByText('Imported import-me').waitFor({ timeout: 60_000 })
  await page.getByRole('button', { name: 'Details of import-me:latest' }).waitFor()
  const tags = await (await fetch(`${stack.url}/api/tags`)).json()
  assert.deepEqual(
    tags.models.map((m) => m.name),
    ['import-me:latest'],
  )
  await check('10-imported')
})

test('a narrow window still shows every page', async () => {
  await page.setViewportSize({ width: 390, height: 800 })
  for (const name of ['Models', 'Running', 'Chat', 'Hardware', 'Server']) {
    await go(name)
    await page.getByRole('heading', { level: 1, name }).waitFor()
    const overflow = await page.evaluate(() => {
      const over = document.documentElement.scrollWidth - window.innerWidth
      // Name the widest culprits, for the failure message.
      const wide = [...document.querySelectorAll('body *')]
        .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1 && !e.closest('.table-wrap, nav'))
        .slice(0, 5)
        .map((e) => `${e.tagName.toLowerCase()}.${e.className}`)
      return { over, wide }
    })
    assert.ok(overflow.over <= 1, `${name} scrolls sideways by ${overflow.over}px at 390px: ${overflow.wide}`)
  }
  await check('11-narrow')
})
