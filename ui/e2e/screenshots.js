// Screenshots of every page in light and dark themes for the README
// (docs/screenshots/), taken against a real `hearth serve` with Gemma 3
// 270M (GEMMA_GGUF, from scripts/fetch-test-model.sh) and a pull in the
// registry. Run with `make screenshots`; not part of `make test`.

import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { REPO_ROOT, Stack } from './harness.js'

const OUT = join(REPO_ROOT, 'docs', 'screenshots')
mkdirSync(OUT, { recursive: true })
const gemma = process.env.GEMMA_GGUF
if (!gemma) throw new Error('set GEMMA_GGUF to the Gemma 3 270M GGUF (make screenshots does)')

const stack = new Stack()
try {
  await stack.startRegistry()
  await stack.startHearth({ HEARTH_NUM_THREADS: '2' })
  const remote = await stack.seedRegistry()
  // As `make run` creates it: a base model, so discourage loops.
  await stack.createFromFile('gemma3:270m', gemma, { parameters: { repeat_penalty: 1.1, num_predict: 256 } })
  await stack.api('POST', '/api/copy', { source: 'gemma3:270m', destination: 'gemma3:270m-tutor' })
  // Two keys, so the Server page shows the list; the browser uses the admin one.
  const admin = await (await stack.api('POST', '/hearth/keys', { name: 'desktop', scope: 'admin' })).json()
  stack.key = admin.key
  await stack.api('POST', '/hearth/keys', { name: 'vscode-continue', scope: 'inference' })
  const context = await stack.browser({ viewport: { width: 1280, height: 860 } })
  await context.addInitScript((k) => sessionStorage.setItem('hearth.apiKey', k), admin.key)
  const page = await context.newPage()
  const nav = (name) => page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name, exact: true }).click()
  const shot = (name) => page.screenshot({ path: join(OUT, `${name}.png`) })

  for (const theme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme: theme })
    await page.goto(`${stack.url}/ui/#/chat?model=gemma3:270m`)
    await page.getByRole('button', { name: 'Options' }).click()
    await page.getByLabel('Maximum tokens').fill('48')
    await page.getByLabel('Temperature').fill('0')
    await page.getByRole('button', { name: 'Options' }).click()
    await page.getByRole('textbox', { name: 'Message' }).fill('What is the capital of France? Answer in one sentence.')
    await page.keyboard.press('Enter')
    await page.getByTestId('chat-stats').waitFor({ timeout: 300_000 })
    await shot(`chat-${theme}`)

    await nav('Models')
    await page.getByLabel('Model name to pull').fill(remote)
    await page.getByLabel('Allow plain HTTP registry').check()
    await page.getByRole('button', { name: 'Will it fit?' }).click()
    await page.getByText('estimated from the manifest').waitFor()
    await page.getByRole('button', { name: 'Pull', exact: true }).click()
    await page.getByText('success').first().waitFor({ timeout: 60_000 })
    await page.getByRole('button', { name: 'Details of gemma3:270m', exact: true }).click()
    await page.getByTestId('details').waitFor()
    await page.getByText('Template').first().waitFor()
    await shot(`models-${theme}`)
    await stack.api('DELETE', '/api/delete', { model: remote })
    await page.getByRole('button', { name: `Dismiss ${remote}` }).click()

    await nav('Running')
    await page.getByTestId('running-row').first().waitFor()
    await shot(`running-${theme}`)

    await nav('Hardware')
    await page.getByTestId('fit-row').first().waitFor()
    await page.waitForTimeout(9000) // a few points on the live charts
    await shot(`hardware-${theme}`)

    await nav('Server')
    await page.getByTestId('key-row').first().waitFor()
    await shot(`server-${theme}`)
  }
  await page.emulateMedia({ colorScheme: 'light' })
  await page.setViewportSize({ width: 390, height: 844 })
  await nav('Models')
  await page.getByTestId('model-row').first().waitFor()
  await shot('models-narrow-light')
  console.log(`screenshots in ${OUT}`)
} finally {
  await stack.stop()
  stack.cleanup()
}
