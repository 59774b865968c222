// End-to-end tests: the official `openai` npm SDK against Hearth's
// OpenAI-compatible API (`/v1`) on a real `hearth serve`.
//
// The models are the same tiny random-weight ones as ollama-client.test.js:
// `tiny` (completion), `tiny-embed` (embedding) and `tiny-tools` (`tiny` with
// a Go template that renders tools). The tiny model has no skills: with
// temperature 0 it never ends a turn by itself, so plain generations run to
// max_tokens (finish_reason "length"), and the tests that need an answer of a
// given shape force it with `response_format: {type: "json_schema", ...}`,
// which Hearth enforces with a grammar while sampling.
//
// Run: npm ci && node --test   (HEARTH_BIN, HEARTH_PYTHON: see hearth-server.js)

import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'

import OpenAI from 'openai'
import { zodFunction, zodResponseFormat, zodTextFormat } from 'openai/helpers/zod'
import { z } from 'zod'

import { TOOLS_TEMPLATE, Verdict, WEATHER_TOOL, WeatherArgs } from './fixtures.js'
import { HearthServer } from './hearth-server.js'

const TINY = 'tiny:latest'
const EMBED = 'tiny-embed:latest'
const TOOLS = 'tiny-tools:latest'
const GREEDY = { temperature: 0 }
// Enough tokens for every grammar-constrained answer below to finish.
const CONSTRAINED = { temperature: 0, max_tokens: 300 }

// The shape of a get_weather call (tests/tests/tools.rs call_schema): as a
// response_format next to `tools`, it forces the model's answer into a call.
const CALL_FORMAT = {
  type: 'json_schema',
  json_schema: {
    name: 'call',
    strict: true,
    schema: {
      type: 'object',
      required: ['name', 'arguments'],
      additionalProperties: false,
      properties: {
        name: { const: 'get_weather' },
        arguments: {
          type: 'object',
          required: ['city'],
          additionalProperties: false,
          properties: { city: { enum: ['Paris', 'Tokyo'] } },
        },
      },
    },
  },
}
const WEATHER = { Paris: '18 degrees, cloudy', Tokyo: '24 degrees, sunny' }

const server = new HearthServer()
/** @type {OpenAI} */
let client
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

/** POST /api/create, not streamed (the openai SDK cannot create models). */
async function create(body) {
  const res = await fetch(`${server.url}/api/create`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...body, stream: false }),
  })
  const text = await res.text()
  assert.equal(res.status, 200, `create ${body.model}: ${text}`)
  assert.equal(JSON.parse(text).status, 'success', text)
}

async function createFromGguf(name, path) {
  const digest = await server.uploadBlob(path)
  await create({ model: name, files: { [path.split('/').pop()]: digest }, parameters: { num_thread: 1 } })
}

async function collect(iterable) {
  const out = []
  for await (const part of iterable) out.push(part)
  return out
}

function assertUsage(usage, completionTokens) {
  assert.ok(usage, 'usage missing')
  assert.ok(usage.prompt_tokens > 0, `prompt_tokens ${usage.prompt_tokens}`)
  if (completionTokens !== undefined) assert.equal(usage.completion_tokens, completionTokens)
  assert.equal(usage.total_tokens, usage.prompt_tokens + usage.completion_tokens)
}

function maxAbsDiff(a, b) {
  assert.equal(a.length, b.length)
  return Math.max(...a.map((x, i) => Math.abs(x - b[i])))
}

/** Checks an SDK error: its class, HTTP status and OpenAI's error envelope. */
function isApiError(cls, status, message) {
  return (e) => {
    assert.ok(e instanceof cls, `expected ${cls.name}, got ${e?.constructor?.name}: ${e}`)
    assert.ok(e instanceof OpenAI.APIError)
    assert.equal(e.status, status)
    if (message instanceof RegExp) assert.match(e.error?.message, message, JSON.stringify(e.error))
    else assert.equal(e.error?.message, message, JSON.stringify(e.error))
    return true
  }
}

describe('openai SDK against hearth serve', { timeout: 120_000 }, () => {
  before(async () => {
    try {
      await server.start()
      client = new OpenAI({
        baseURL: `${server.url}/v1`,
        apiKey: 'hearth-ignores-keys',
        maxRetries: 0, // a failure shows at once, not after backed-off retries
        timeout: 60_000,
      })
      const [tiny, embed] = await Promise.all([
        server.makeTinyGguf('tiny.gguf'),
        server.makeTinyGguf('tiny-embed.gguf', '--embedding'),
      ])
      await createFromGguf('tiny', tiny)
      await createFromGguf('tiny-embed', embed)
      await create({ model: 'tiny-tools', from: 'tiny', template: TOOLS_TEMPLATE })
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

  it('chat.completions.create, not streamed and streamed', async () => {
    const request = {
      model: TINY,
      messages: [
        { role: 'system', content: 'You answer in short sentences.' },
        { role: 'user', content: 'Tell me a story about the sea.' },
      ],
      max_tokens: 6,
      ...GREEDY,
    }
    const whole = await client.chat.completions.create(request)
    assert.match(whole.id, /^chatcmpl-/)
    assert.equal(whole.object, 'chat.completion')
    assert.equal(whole.model, TINY)
    assert.ok(whole.created > 1_600_000_000, `created ${whole.created}`)
    assert.equal(whole.choices.length, 1)
    const [choice] = whole.choices
    assert.equal(choice.index, 0)
    assert.equal(choice.message.role, 'assistant')
    assert.equal(typeof choice.message.content, 'string')
    assert.equal(choice.finish_reason, 'length')
    assertUsage(whole.usage, 6)

    const stream = await client.chat.completions.create({
      ...request,
      stream: true,
      stream_options: { include_usage: true },
    })
    const chunks = await collect(stream)
    assert.ok(chunks.length >= 3, `expected several chunks, got ${chunks.length}`)
    for (const c of chunks) {
      assert.match(c.id, /^chatcmpl-/)
      assert.equal(c.id, chunks[0].id, 'one id for the whole stream')
      assert.equal(c.object, 'chat.completion.chunk')
      assert.equal(c.model, TINY)
    }
    assert.equal(chunks[0].choices[0].delta.role, 'assistant')
    // with include_usage, the last chunk has no choices and the usage
    const usageChunk = chunks.at(-1)
    assert.deepEqual(usageChunk.choices, [])
    assertUsage(usageChunk.usage, 6)
    const rest = chunks.slice(0, -1)
    for (const c of rest) assert.ok(!c.usage, `usage before the end: ${JSON.stringify(c)}`)
    assert.equal(rest.at(-1).choices[0].finish_reason, 'length')
    for (const c of rest.slice(0, -1)) assert.equal(c.choices[0].finish_reason, null, JSON.stringify(c))
    // greedy: the streamed text is the unstreamed one
    assert.equal(rest.map((c) => c.choices[0].delta.content ?? '').join(''), choice.message.content)

    // without include_usage no usage chunk comes
    const plain = await collect(await client.chat.completions.create({ ...request, stream: true }))
    assert.equal(plain.at(-1).choices[0].finish_reason, 'length')
    assert.ok(plain.every((c) => !c.usage), 'usage without include_usage')
  })

  it('structured output: zodResponseFormat with chat.completions.parse', async () => {
    const completion = await client.chat.completions.parse({
      model: TINY,
      messages: [{ role: 'user', content: 'Is the hearth warm? Answer in JSON.' }],
      response_format: zodResponseFormat(Verdict, 'verdict'),
      ...CONSTRAINED,
    })
    const [choice] = completion.choices
    // parse() throws LengthFinishReasonError if the grammar did not finish
    assert.equal(choice.finish_reason, 'stop')
    const { parsed, content } = choice.message
    assert.ok(parsed, `nothing parsed from ${JSON.stringify(content)}`)
    assert.deepEqual(parsed, JSON.parse(content))
    Verdict.strict().parse(parsed)

    // sampled, not greedy: the grammar, not luck, makes it validate (plain
    // create with a hand-written strict json_schema using enum and const)
    const schema = {
      type: 'object',
      additionalProperties: false,
      required: ['kind', 'color', 'ok'],
      properties: {
        kind: { const: 'paint' },
        color: { type: 'string', enum: ['red', 'green', 'blue'] },
        ok: { type: 'boolean' },
      },
    }
    for (const seed of [1, 2]) {
      const res = await client.chat.completions.create({
        model: TINY,
        messages: [{ role: 'user', content: 'Pick a color.' }],
        response_format: { type: 'json_schema', json_schema: { name: 'paint', schema, strict: true } },
        temperature: 1,
        seed,
        max_tokens: 300,
      })
      const text = res.choices[0].message.content
      assert.equal(res.choices[0].finish_reason, 'stop', `seed ${seed}: ${JSON.stringify(text)}`)
      const v = JSON.parse(text)
      assert.deepEqual(Object.keys(v).sort(), ['color', 'kind', 'ok'])
      assert.equal(v.kind, 'paint')
      assert.ok(['red', 'green', 'blue'].includes(v.color), text)
      assert.equal(typeof v.ok, 'boolean')
    }
  })

  it('tool call round trip', async () => {
    const ask = { role: 'user', content: 'What is the weather in Paris?' }
    const first = await client.chat.completions.create({
      model: TOOLS,
      messages: [ask],
      tools: [WEATHER_TOOL],
      response_format: CALL_FORMAT,
      ...CONSTRAINED,
    })
    const [choice] = first.choices
    assert.equal(choice.finish_reason, 'tool_calls', JSON.stringify(choice))
    assert.equal(choice.message.role, 'assistant')
    assert.ok(!choice.message.content, `content next to the call: ${JSON.stringify(choice.message.content)}`)
    assert.equal(choice.message.tool_calls?.length, 1, JSON.stringify(choice.message))
    const [call] = choice.message.tool_calls
    assert.match(call.id, /^call_/)
    assert.equal(call.type, 'function')
    assert.equal(call.function.name, 'get_weather')
    assert.equal(typeof call.function.arguments, 'string', 'arguments are JSON text')
    const { city } = WeatherArgs.strict().parse(JSON.parse(call.function.arguments))

    // the assistant message goes back as received, then the result by call id
    const history = [ask, choice.message, { role: 'tool', tool_call_id: call.id, content: WEATHER[city] }]
    const second = await client.chat.completions.create({
      model: TOOLS,
      messages: history,
      tools: [WEATHER_TOOL],
      max_tokens: 4,
      ...GREEDY,
    })
    assert.equal(second.choices[0].message.role, 'assistant')
    assert.equal(typeof second.choices[0].message.content, 'string')
    assert.equal(second.choices[0].finish_reason, 'length')
    assertUsage(second.usage, 4)

    // a final answer forced into a non-call shape comes back as content
    // (create, not parse: parse() only takes tools marked strict)
    const final = await client.chat.completions.create({
      model: TOOLS,
      messages: history,
      tools: [WEATHER_TOOL],
      response_format: zodResponseFormat(Verdict, 'verdict'),
      ...CONSTRAINED,
    })
    const answer = final.choices[0].message
    assert.equal(final.choices[0].finish_reason, 'stop', JSON.stringify(answer))
    assert.ok(!answer.tool_calls?.length, JSON.stringify(answer))
    Verdict.strict().parse(JSON.parse(answer.content))
  })

  it('tool call, streamed', async () => {
    const chunks = await collect(
      await client.chat.completions.create({
        model: TOOLS,
        messages: [{ role: 'user', content: 'Weather in Tokyo?' }],
        tools: [WEATHER_TOOL],
        response_format: CALL_FORMAT,
        ...CONSTRAINED,
        stream: true,
      }),
    )
    const deltas = chunks.flatMap((c) => c.choices[0]?.delta?.tool_calls ?? [])
    assert.ok(deltas.length >= 1, JSON.stringify(chunks))
    assert.equal(deltas[0].index, 0)
    assert.equal(deltas[0].type, 'function')
    assert.match(deltas[0].id, /^call_/)
    assert.equal(deltas[0].function.name, 'get_weather')
    // argument fragments of call 0, concatenated, are the arguments' JSON
    const args = deltas
      .filter((d) => d.index === 0)
      .map((d) => d.function?.arguments ?? '')
      .join('')
    WeatherArgs.strict().parse(JSON.parse(args))
    assert.equal(chunks.at(-1).choices[0].finish_reason, 'tool_calls')
    const text = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('')
    assert.ok(!text.includes('get_weather'), `the call leaked into content: ${JSON.stringify(text)}`)
  })

  it('tool call parsed by the SDK (zodFunction)', async () => {
    const completion = await client.chat.completions.parse({
      model: TOOLS,
      messages: [{ role: 'user', content: 'Weather in Tokyo?' }],
      tools: [zodFunction({ name: 'get_weather', description: 'Weather in a city', parameters: WeatherArgs })],
      response_format: CALL_FORMAT,
      ...CONSTRAINED,
    })
    const [choice] = completion.choices
    assert.equal(choice.finish_reason, 'tool_calls', JSON.stringify(choice))
    const [call] = choice.message.tool_calls
    assert.equal(call.function.name, 'get_weather')
    assert.deepEqual(call.function.parsed_arguments, JSON.parse(call.function.arguments))
    WeatherArgs.strict().parse(call.function.parsed_arguments)
  })

  it('completions.create, not streamed and streamed', async () => {
    const request = { model: TINY, prompt: 'Once upon a time', max_tokens: 5, ...GREEDY }
    const whole = await client.completions.create(request)
    assert.match(whole.id, /^cmpl-/)
    assert.equal(whole.object, 'text_completion')
    assert.equal(whole.model, TINY)
    assert.equal(whole.choices.length, 1)
    assert.equal(whole.choices[0].index, 0)
    assert.equal(whole.choices[0].finish_reason, 'length')
    assert.equal(typeof whole.choices[0].text, 'string')
    assertUsage(whole.usage, 5)

    const chunks = await collect(
      await client.completions.create({ ...request, stream: true, stream_options: { include_usage: true } }),
    )
    for (const c of chunks) {
      assert.match(c.id, /^cmpl-/)
      assert.equal(c.object, 'text_completion')
    }
    const usageChunk = chunks.at(-1)
    assert.deepEqual(usageChunk.choices, [])
    assertUsage(usageChunk.usage, 5)
    const rest = chunks.slice(0, -1)
    assert.ok(rest.length >= 2, `expected several chunks, got ${rest.length}`)
    assert.equal(rest.at(-1).choices[0].finish_reason, 'length')
    assert.equal(rest.map((c) => c.choices[0].text).join(''), whole.choices[0].text)
  })

  it('embeddings.create: float, base64, and the SDK default', async () => {
    const input = ['The fire in the hearth', 'warm bread']
    const float = await client.embeddings.create({ model: EMBED, input, encoding_format: 'float' })
    assert.equal(float.object, 'list')
    assert.equal(float.model, EMBED)
    assert.ok(float.usage.prompt_tokens > 0, JSON.stringify(float.usage))
    assert.equal(float.data.length, 2)
    float.data.forEach((d, i) => {
      assert.equal(d.object, 'embedding')
      assert.equal(d.index, i)
      assert.ok(Array.isArray(d.embedding))
      assert.equal(d.embedding.length, 128)
    })
    assert.ok(maxAbsDiff(float.data[0].embedding, float.data[1].embedding) > 1e-3, 'different inputs, same vector')

    // explicit base64: the SDK hands back the string as sent
    const b64 = await client.embeddings.create({ model: EMBED, input, encoding_format: 'base64' })
    assert.equal(b64.data.length, 2)
    b64.data.forEach((d, i) => {
      assert.equal(typeof d.embedding, 'string')
      const buf = Buffer.from(d.embedding, 'base64')
      const decoded = Array.from(new Float32Array(buf.buffer, buf.byteOffset, buf.length / 4))
      assert.ok(maxAbsDiff(decoded, float.data[i].embedding) < 1e-6, `base64 vector ${i}`)
    })

    // no encoding_format: the SDK asks for base64 and decodes it to numbers
    const dflt = await client.embeddings.create({ model: EMBED, input })
    dflt.data.forEach((d, i) => {
      assert.ok(Array.isArray(d.embedding), typeof d.embedding)
      assert.ok(maxAbsDiff(d.embedding, float.data[i].embedding) < 1e-6, `default vector ${i}`)
    })

    const short = await client.embeddings.create({ model: EMBED, input: 'warm bread', dimensions: 8 })
    assert.equal(short.data.length, 1)
    assert.equal(short.data[0].embedding.length, 8)
  })

  it('models.list and models.retrieve', async () => {
    const models = []
    for await (const m of client.models.list()) models.push(m)
    const byId = Object.fromEntries(models.map((m) => [m.id, m]))
    for (const id of [TINY, EMBED, TOOLS]) assert.ok(byId[id], `models: ${Object.keys(byId)}`)
    for (const m of models) {
      assert.equal(m.object, 'model')
      assert.equal(m.owned_by, 'library')
      assert.ok(m.created > 1_600_000_000, `created ${m.created}`)
    }
    const one = await client.models.retrieve(TINY)
    assert.equal(one.id, TINY)
    assert.equal(one.object, 'model')
    assert.equal(one.created, byId[TINY].created)
    assert.equal(one.owned_by, 'library')
  })

  it('responses.create, not streamed and streamed', async () => {
    const request = { model: TINY, input: 'Hello', instructions: 'Be brief.', max_output_tokens: 5, ...GREEDY }
    const whole = await client.responses.create(request)
    assert.match(whole.id, /^resp_/)
    assert.equal(whole.object, 'response')
    assert.equal(whole.status, 'completed')
    assert.equal(whole.instructions, 'Be brief.')
    const [item] = whole.output
    assert.equal(item.type, 'message')
    assert.equal(item.role, 'assistant')
    assert.equal(item.content[0].type, 'output_text')
    assert.equal(whole.output_text, item.content[0].text) // the SDK's convenience field
    assert.equal(whole.usage.output_tokens, 5)
    assert.ok(whole.usage.input_tokens > 0)

    const events = await collect(await client.responses.create({ ...request, stream: true }))
    assert.ok(events.length >= 6, `expected several events, got ${events.length}`)
    events.forEach((e, i) => assert.equal(e.sequence_number, i, `event ${i}: ${JSON.stringify(e)}`))
    assert.equal(events[0].type, 'response.created')
    const last = events.at(-1)
    assert.equal(last.type, 'response.completed')
    assert.equal(last.response.status, 'completed')
    assert.equal(last.response.usage.output_tokens, 5)
    const text = events
      .filter((e) => e.type === 'response.output_text.delta')
      .map((e) => e.delta)
      .join('')
    assert.equal(text, whole.output_text)
    assert.equal(last.response.output[0].content[0].text, text)
  })

  it('responses.parse with zodTextFormat', async () => {
    const res = await client.responses.parse({
      model: TINY,
      input: [{ role: 'user', content: 'Is the hearth warm? Answer in JSON.' }],
      text: { format: zodTextFormat(Verdict, 'verdict') },
      max_output_tokens: 300,
      ...GREEDY,
    })
    assert.equal(res.status, 'completed')
    assert.ok(res.output_parsed, `nothing parsed from ${JSON.stringify(res.output_text)}`)
    Verdict.strict().parse(res.output_parsed)
  })

  it('errors: unknown model is NotFoundError (404)', async () => {
    const message = "model 'no-such-model' not found"
    const messages = [{ role: 'user', content: 'hi' }]
    await assert.rejects(
      client.chat.completions.create({ model: 'no-such-model', messages }),
      isApiError(OpenAI.NotFoundError, 404, message),
    )
    // streamed: the error arrives before any event, so create() rejects
    await assert.rejects(
      client.chat.completions.create({ model: 'no-such-model', messages, stream: true }),
      isApiError(OpenAI.NotFoundError, 404, message),
    )
    await assert.rejects(
      client.completions.create({ model: 'no-such-model', prompt: 'hi' }),
      isApiError(OpenAI.NotFoundError, 404, message),
    )
    // embeddings word it as Ollama's /api/embed does
    await assert.rejects(
      client.embeddings.create({ model: 'no-such-model', input: 'hi' }),
      isApiError(OpenAI.NotFoundError, 404, /^model "no-such-model" not found/),
    )
    await assert.rejects(
      client.responses.create({ model: 'no-such-model', input: 'hi' }),
      isApiError(OpenAI.NotFoundError, 404, message),
    )
    await assert.rejects(
      client.models.retrieve('no-such-model:1b'),
      isApiError(OpenAI.NotFoundError, 404, "model 'no-such-model:1b' not found"),
    )
    await assert.rejects(client.chat.completions.create({ model: 'no-such-model', messages }), (e) => {
      assert.equal(e.type, 'not_found_error')
      return true
    })
  })

  it('errors: empty messages is BadRequestError (400)', async () => {
    await assert.rejects(
      client.chat.completions.create({ model: TINY, messages: [] }),
      isApiError(OpenAI.BadRequestError, 400, "[] is too short - 'messages'"),
    )
    await assert.rejects(client.chat.completions.create({ model: TINY, messages: [] }), (e) => {
      assert.equal(e.type, 'invalid_request_error')
      assert.equal(e.param, null)
      assert.equal(e.code, null)
      return true
    })
    // Hearth generates one choice only
    await assert.rejects(
      client.chat.completions.create({ model: TINY, n: 2, messages: [{ role: 'user', content: 'hi' }] }),
      isApiError(OpenAI.BadRequestError, 400, 'n must be 1: Hearth generates one choice per request'),
    )
  })
})
