// End-to-end tests: the official `ollama` npm client against `hearth serve`.
//
// Everything runs on the tiny random-weight llama model from
// scripts/make_tiny_gguf.py (`tiny`), its `--embedding` variant
// (`tiny-embed`) and `tiny-tools` (tiny with a template that renders tools).
// The model has no skills, so the tests that need an answer of a given shape
// force it with structured output: `format: <JSON schema>` makes Hearth
// constrain sampling with a grammar, so the answer always parses and
// validates. Without a format, greedy decoding of the tiny model never stops
// early: generations run to num_predict and end with done_reason "length".
//
// Run: npm ci && node --test   (HEARTH_BIN, HEARTH_PYTHON: see hearth-server.js)

import assert from 'node:assert/strict'
import { statSync } from 'node:fs'
import { after, before, describe, test } from 'node:test'

import { Ollama } from 'ollama'
import { z } from 'zod'

import { TOOLS_TEMPLATE, Verdict, WEATHER_TOOL, WeatherArgs } from './fixtures.js'
import { HearthServer } from './hearth-server.js'

const TINY = 'tiny:latest'
const EMBED = 'tiny-embed:latest'
const TOOLS = 'tiny-tools:latest'
const HEX64 = /^[0-9a-f]{64}$/
const GREEDY = { temperature: 0, num_thread: 1 }
const CONSTRAINED = { temperature: 0, num_predict: 300, num_thread: 1 }

// A Go template that knows tools (as in tests/tests/tools.rs).
// The shape of a get_weather call, used as `format` to force the model's
// answer into a tool call.
const WeatherCall = z.object({ name: z.literal('get_weather'), arguments: WeatherArgs })
const WEATHER = { Paris: '18 degrees, cloudy', Tokyo: '24 degrees, sunny' }

const server = new HearthServer()
/** @type {Ollama} */
let ollama
let tinyGgufSize = 0
let failed = false

// Runs a test and attaches the server log's tail to its failure.
function it(name, fn) {
  test(name, async (t) => {
    try {
      await fn(t)
    } catch (e) {
      failed = true
      if (e && typeof e === 'object') {
        try {
          e.message = `${e.message}\n${server.logSection()}`
        } catch {
          // read-only message: leave it
        }
      }
      throw e
    }
  })
}

async function createFromGguf(name, path) {
  const digest = await server.uploadBlob(path)
  const files = { [path.split('/').pop()]: digest }
  const res = await ollama.create({ model: name, files, parameters: { num_thread: 1 } })
  assert.equal(res.status, 'success', JSON.stringify(res))
}

async function collect(iterable) {
  const out = []
  for await (const part of iterable) out.push(part)
  return out
}

function assertFinalMetrics(resp, maxTokens) {
  assert.equal(resp.done, true)
  assert.ok(resp.total_duration > 0, `total_duration ${resp.total_duration}`)
  assert.ok(resp.load_duration >= 0)
  assert.ok(resp.prompt_eval_count >= 1, `prompt_eval_count ${resp.prompt_eval_count}`)
  assert.ok(resp.eval_count >= 1 && resp.eval_count <= maxTokens, `eval_count ${resp.eval_count}`)
  assert.ok(resp.eval_duration >= 0)
}

function assertWeatherCall(call, index = 0) {
  assert.match(call.id, /^call_[a-z0-9]{8}$/)
  assert.equal(call.function.index, index)
  assert.equal(call.function.name, 'get_weather')
  // arguments arrive as an object, and validate against the tool's schema
  return WeatherArgs.strict().parse(call.function.arguments).city
}

describe('ollama-js against hearth serve', { timeout: 120_000 }, () => {
  before(async () => {
    try {
      await server.start()
      ollama = new Ollama({ host: server.url })
      const [tiny, embed] = await Promise.all([
        server.makeTinyGguf('tiny.gguf'),
        server.makeTinyGguf('tiny-embed.gguf', '--embedding'),
      ])
      tinyGgufSize = statSync(tiny).size
      await createFromGguf('tiny', tiny)
      await createFromGguf('tiny-embed', embed)
      const res = await ollama.create({ model: 'tiny-tools', from: 'tiny', template: TOOLS_TEMPLATE })
      assert.equal(res.status, 'success', JSON.stringify(res))
    } catch (e) {
      failed = true
      e.message = `${e.message}\n${server.logSection()}`
      throw e
    }
  })

  after(async () => {
    await server.stop()
    // On failure keep the store and the full log for a look (path in the message).
    if (!failed) server.cleanup()
  })

  it('version', async () => {
    const { version } = await ollama.version()
    assert.equal(typeof version, 'string')
    assert.ok(version.length > 0)
  })

  it('list shows the created models', async () => {
    const { models } = await ollama.list()
    const byName = Object.fromEntries(models.map((m) => [m.model, m]))
    for (const name of [TINY, EMBED, TOOLS]) assert.ok(byName[name], `list: ${Object.keys(byName)}`)
    const m = byName[TINY]
    assert.equal(m.name, TINY)
    assert.match(m.digest, HEX64)
    assert.ok(m.size >= tinyGgufSize, `size ${m.size} < ${tinyGgufSize}`)
    assert.equal(m.details.format, 'gguf')
    assert.equal(m.details.family, 'llama')
    assert.ok(!Number.isNaN(Date.parse(m.modified_at)), m.modified_at)
  })

  it('show', async () => {
    const resp = await ollama.show({ model: TINY })
    assert.equal(resp.model_info['general.architecture'], 'llama')
    assert.equal(resp.model_info['llama.context_length'], 512)
    assert.equal(resp.model_info['llama.embedding_length'], 128)
    assert.ok(resp.template.includes('<|im_start|>'), resp.template)
    assert.equal(resp.details.format, 'gguf')
    assert.equal(resp.details.family, 'llama')
    assert.ok(resp.capabilities.includes('completion'), `capabilities: ${resp.capabilities}`)
    assert.ok(!resp.capabilities.includes('tools'), `capabilities: ${resp.capabilities}`)
    assert.match(resp.parameters, /num_thread\s+1/)
    assert.ok(resp.modelfile.includes('FROM '), resp.modelfile)

    const tools = await ollama.show({ model: TOOLS })
    assert.ok(tools.capabilities.includes('tools'), `capabilities: ${tools.capabilities}`)
    assert.equal(tools.template, TOOLS_TEMPLATE)

    const embed = await ollama.show({ model: EMBED })
    assert.ok(embed.capabilities.includes('embedding'), `capabilities: ${embed.capabilities}`)
  })

  it('streaming chat', async () => {
    const stream = await ollama.chat({
      model: TINY,
      messages: [
        { role: 'system', content: 'You answer in short sentences.' },
        { role: 'user', content: 'Tell me a story about the sea.' },
      ],
      options: { ...GREEDY, num_predict: 8 },
      stream: true,
    })
    const chunks = await collect(stream)
    assert.ok(chunks.length >= 3, `expected several chunks, got ${chunks.length}`)
    const final = chunks.at(-1)
    for (const c of chunks) {
      assert.equal(c.model, TINY)
      assert.equal(c.message.role, 'assistant')
    }
    for (const c of chunks.slice(0, -1)) assert.equal(c.done, false)
    assert.equal(final.done_reason, 'length')
    assertFinalMetrics(final, 8)
    assert.equal(final.eval_count, 8)
    const text = chunks.map((c) => c.message.content).join('')
    assert.ok(text.length > 0)

    // the same request unstreamed gives the same text (greedy)
    const whole = await ollama.chat({
      model: TINY,
      messages: [
        { role: 'system', content: 'You answer in short sentences.' },
        { role: 'user', content: 'Tell me a story about the sea.' },
      ],
      options: { ...GREEDY, num_predict: 8 },
    })
    assert.equal(whole.message.content, text)
  })

  it('generate, not streamed', async () => {
    const resp = await ollama.generate({
      model: TINY,
      prompt: 'The fire in the hearth',
      options: { ...GREEDY, num_predict: 4 },
    })
    assert.equal(resp.model, TINY)
    assert.equal(resp.done_reason, 'length')
    assert.equal(typeof resp.response, 'string')
    assertFinalMetrics(resp, 4)
    assert.ok(!Number.isNaN(Date.parse(resp.created_at)), resp.created_at)
  })

  it('structured output with a Zod schema (chat and generate)', async () => {
    const format = z.toJSONSchema(Verdict)
    const chat = await ollama.chat({
      model: TINY,
      messages: [{ role: 'user', content: 'Is the hearth warm? Answer in JSON.' }],
      format,
      options: CONSTRAINED,
    })
    assert.equal(chat.done_reason, 'stop', `grammar did not finish: ${JSON.stringify(chat.message.content)}`)
    const verdict = Verdict.strict().parse(JSON.parse(chat.message.content))
    assert.ok(['yes', 'no', 'maybe'].includes(verdict.answer))

    // sampled, not greedy: the grammar, not luck, makes it validate
    for (const seed of [1, 2, 3]) {
      const gen = await ollama.generate({
        model: TINY,
        prompt: 'Answer in JSON',
        format,
        options: { temperature: 1, seed, num_predict: 300, num_thread: 1 },
      })
      assert.equal(gen.done_reason, 'stop', `seed ${seed}: ${JSON.stringify(gen.response)}`)
      Verdict.strict().parse(JSON.parse(gen.response))
    }
  })

  it('structured output, streamed', async () => {
    const chunks = await collect(
      await ollama.chat({
        model: TINY,
        messages: [{ role: 'user', content: 'Answer in JSON.' }],
        format: z.toJSONSchema(Verdict),
        options: CONSTRAINED,
        stream: true,
      }),
    )
    assert.ok(chunks.length >= 2)
    assert.equal(chunks.at(-1).done_reason, 'stop')
    Verdict.strict().parse(JSON.parse(chunks.map((c) => c.message.content).join('')))
  })

  it('embed', async () => {
    const inputs = ['The fire in the hearth', 'warm bread', 'The fire in the hearth']
    const resp = await ollama.embed({ model: EMBED, input: inputs })
    assert.equal(resp.model, EMBED)
    assert.equal(resp.embeddings.length, 3)
    for (const v of resp.embeddings) {
      assert.equal(v.length, 128)
      const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0))
      assert.ok(Math.abs(norm - 1) < 1e-4, `norm ${norm}`)
    }
    const [a, b, c] = resp.embeddings
    assert.ok(Math.max(...a.map((x, i) => Math.abs(x - c[i]))) < 1e-3, 'same input, same vector')
    assert.ok(Math.max(...a.map((x, i) => Math.abs(x - b[i]))) > 1e-3, 'different inputs, different vectors')
    assert.ok(resp.prompt_eval_count >= 3)
    assert.ok(resp.total_duration > 0)

    const one = await ollama.embed({ model: EMBED, input: 'warm bread', dimensions: 8 })
    assert.equal(one.embeddings.length, 1)
    assert.equal(one.embeddings[0].length, 8)

    const legacy = await ollama.embeddings({ model: EMBED, prompt: 'warm bread' })
    assert.equal(legacy.embedding.length, 128)
  })

  it('embed refused by a completion model', async () => {
    await assert.rejects(ollama.embed({ model: TINY, input: 'hi' }), (e) => {
      assert.equal(e.name, 'ResponseError')
      assert.equal(e.status_code, 501)
      assert.match(e.error, /does not support embeddings/)
      return true
    })
  })

  it('tools round trip', async () => {
    const ask = { role: 'user', content: 'What is the weather in Paris?' }
    const first = await ollama.chat({
      model: TOOLS,
      messages: [ask],
      tools: [WEATHER_TOOL],
      format: z.toJSONSchema(WeatherCall),
      options: CONSTRAINED,
    })
    assert.equal(first.done, true)
    assert.equal(first.message.role, 'assistant')
    assert.equal(first.message.content, '')
    assert.equal(first.message.tool_calls?.length, 1, JSON.stringify(first.message))
    const city = assertWeatherCall(first.message.tool_calls[0])

    // the assistant message goes back as received, then the tool's result
    const second = await ollama.chat({
      model: TOOLS,
      messages: [ask, first.message, { role: 'tool', content: WEATHER[city], tool_name: 'get_weather' }],
      tools: [WEATHER_TOOL],
      options: { ...GREEDY, num_predict: 6 },
    })
    assert.equal(second.done, true)
    assert.equal(second.message.role, 'assistant')
    assert.equal(typeof second.message.content, 'string')
    assert.ok(second.eval_count >= 1)

    // a final answer forced into a non-call shape comes back as content
    const final = await ollama.chat({
      model: TOOLS,
      messages: [ask, first.message, { role: 'tool', content: WEATHER[city], tool_name: 'get_weather' }],
      tools: [WEATHER_TOOL],
      format: z.toJSONSchema(Verdict),
      options: CONSTRAINED,
    })
    assert.equal(final.message.tool_calls, undefined, JSON.stringify(final.message))
    Verdict.parse(JSON.parse(final.message.content))
  })

  it('tool call, streamed', async () => {
    const chunks = await collect(
      await ollama.chat({
        model: TOOLS,
        messages: [{ role: 'user', content: 'Weather in Tokyo?' }],
        tools: [WEATHER_TOOL],
        format: z.toJSONSchema(WeatherCall),
        options: CONSTRAINED,
        stream: true,
      }),
    )
    const withCalls = chunks.filter((c) => c.message.tool_calls)
    assert.equal(withCalls.length, 1, JSON.stringify(chunks.map((c) => c.message)))
    assert.equal(withCalls[0].message.content, '')
    assertWeatherCall(withCalls[0].message.tool_calls[0])
    assert.equal(chunks.at(-1).done, true)
    assert.ok(!chunks.map((c) => c.message.content).join('').includes('get_weather'))
  })

  it('tools refused by a model whose template does not know them', async () => {
    await assert.rejects(
      ollama.chat({ model: TINY, messages: [{ role: 'user', content: 'x' }], tools: [WEATHER_TOOL] }),
      (e) => {
        assert.equal(e.status_code, 400)
        assert.match(e.error, /does not support tools/)
        return true
      },
    )
  })

  it('ps lists the loaded model', async () => {
    await ollama.generate({ model: TINY, prompt: 'Hi', options: { ...GREEDY, num_predict: 1 } })
    const { models } = await ollama.ps()
    const m = models.find((x) => x.model === TINY)
    assert.ok(m, `ps: ${models.map((x) => x.model)}`)
    assert.equal(m.name, TINY)
    assert.match(m.digest, HEX64)
    assert.ok(m.size > 0)
    assert.equal(m.details.family, 'llama')
    assert.ok(Date.parse(m.expires_at) > Date.now(), m.expires_at)
  })

  it('copy then delete', async () => {
    const copy = 'tiny-copy:latest'
    assert.deepEqual(await ollama.copy({ source: TINY, destination: copy }), { status: 'success' })
    try {
      const listed = Object.fromEntries((await ollama.list()).models.map((m) => [m.model, m]))
      assert.ok(listed[copy], `list: ${Object.keys(listed)}`)
      assert.equal(listed[copy].digest, listed[TINY].digest)
    } finally {
      assert.deepEqual(await ollama.delete({ model: copy }), { status: 'success' })
    }
    const names = (await ollama.list()).models.map((m) => m.model)
    assert.ok(!names.includes(copy), `list: ${names}`)
    assert.ok(names.includes(TINY), `list: ${names}`)
    await assert.rejects(ollama.delete({ model: copy }), (e) => e.status_code === 404)
  })

  for (const [what, call] of [
    ['generate', () => ollama.generate({ model: 'no-such-model', prompt: 'hi' })],
    ['chat', () => ollama.chat({ model: 'no-such-model', messages: [{ role: 'user', content: 'hi' }] })],
    ['chat, streamed', async () => collect(await ollama.chat({ model: 'no-such-model', messages: [{ role: 'user', content: 'hi' }], stream: true }))],
    ['show', () => ollama.show({ model: 'no-such-model' })],
    ['embed', () => ollama.embed({ model: 'no-such-model', input: 'hi' })],
  ]) {
    it(`unknown model is a 404 (${what})`, async () => {
      await assert.rejects(call(), (e) => {
        assert.equal(e.name, 'ResponseError', String(e))
        assert.equal(e.status_code, 404, String(e))
        assert.match(e.error, /not found/)
        return true
      })
    })
  }
})
