// The official OpenAI SDK, pointed at Switchboard, talks through it to a fake
// OpenAI upstream: what the SDK gets must be what it would get from OpenAI.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startAndWait, startGateway } from './processes.mjs';
import OpenAI from 'openai';

const SWITCHBOARD = process.env.SWITCHBOARD_BIN;
const FAKE = process.env.FAKE_PROVIDER_BIN;
const REPLY = 'The quick brown fox jumps over the lazy dog again and again';

let fake, gateway, fakeUrl, client;

before(async () => {
  assert.ok(SWITCHBOARD && FAKE, 'SWITCHBOARD_BIN and FAKE_PROVIDER_BIN must be set (ctest sets them)');
  const f = await startAndWait(FAKE, ['--port', '0', '--text', REPLY, '--chunks', '12'], {}, /listening on (\d+)/, 'stdout');
  fake = f.child;
  fakeUrl = `http://127.0.0.1:${f.match[1]}`;
  const g = await startGateway(SWITCHBOARD, fakeUrl, { env: { OPENAI_API_KEY: 'sk-test-sdk-0001' } });
  gateway = g.child;
  client = new OpenAI({ apiKey: 'unused-in-open-mode', baseURL: g.baseURL, maxRetries: 0 });
});

after(() => {
  gateway?.kill('SIGTERM');
  fake?.kill('SIGTERM');
});

test('non-streaming completion arrives unchanged with gateway headers', async () => {
  const { data, response } = await client.chat.completions
    .create({ model: 'auto', messages: [{ role: 'user', content: 'Say something' }] })
    .withResponse();
  assert.equal(data.object, 'chat.completion');
  assert.equal(data.choices[0].message.role, 'assistant');
  assert.equal(data.choices[0].message.content, REPLY);
  assert.equal(data.choices[0].finish_reason, 'stop');
  assert.ok(data.usage.prompt_tokens > 0 && data.usage.completion_tokens > 0);
  assert.equal(response.headers.get('x-gateway-provider'), 'openai');
  assert.equal(response.headers.get('x-gateway-model'), 'gpt-4o-mini');
  assert.equal(response.headers.get('x-gateway-attempts'), '1');
  assert.match(response.headers.get('x-request-id'), /^req_[0-9a-f]{28}$/);
});

test('streaming completion arrives chunk by chunk and reassembles', async () => {
  const stream = await client.chat.completions.create({
    model: 'openai/gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'Stream please' }],
  });
  let text = '';
  let chunks = 0;
  let finish = null;
  let usage = null;
  for await (const chunk of stream) {
    chunks += 1;
    if (chunk.usage) usage = chunk.usage;
    for (const c of chunk.choices) {
      text += c.delta?.content ?? '';
      if (c.finish_reason) finish = c.finish_reason;
    }
  }
  assert.equal(text, REPLY);
  assert.ok(chunks >= 12, `expected at least 12 chunks, got ${chunks}`);
  assert.equal(finish, 'stop');
  assert.equal(usage, null, 'no usage chunk unless the client asks for one');
});

test('stream_options.include_usage yields the usage chunk', async () => {
  const stream = await client.chat.completions.create({
    model: 'gpt-4o-mini', stream: true, stream_options: { include_usage: true },
    messages: [{ role: 'user', content: 'Count me' }],
  });
  let usage = null;
  for await (const chunk of stream) if (chunk.usage) usage = chunk.usage;
  assert.ok(usage && usage.completion_tokens > 0 && usage.prompt_tokens > 0);
});

test('the upstream received the configured key and the mapped model', async () => {
  const res = await fetch(`${fakeUrl}/__fake/requests`);
  const received = await res.json();
  assert.ok(received.length >= 3);
  const last = received[received.length - 1];
  assert.equal(last.headers.authorization, 'Bearer sk-test-sdk-0001');
  assert.equal(JSON.parse(last.body).model, 'gpt-4o-mini');
});

test('an unknown model is a 400 the SDK reports with its code', async () => {
  await assert.rejects(
    client.chat.completions.create({ model: 'no-such-model', messages: [{ role: 'user', content: 'x' }] }),
    (err) => err instanceof OpenAI.BadRequestError && err.status === 400 && err.code === 'model_not_found',
  );
});

test('models list is an OpenAI list of provider/model ids', async () => {
  const page = await client.models.list();
  const ids = page.data.map((m) => m.id);
  assert.deepEqual(ids, ['openai/gpt-4o-mini']);
  assert.equal(page.data[0].owned_by, 'openai');
});
