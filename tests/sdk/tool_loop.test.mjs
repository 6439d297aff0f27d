// The official OpenAI SDK streaming through Switchboard's tool loop (SPEC 9):
// the gateway runs a registry tool between two model rounds, and the SDK sees
// one ordinary chat.completion.chunk stream.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startAndWait, startGateway } from './processes.mjs';
import { createServer } from 'node:http';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';

const SWITCHBOARD = process.env.SWITCHBOARD_BIN;
const FAKE = process.env.FAKE_PROVIDER_BIN;
const REPLY = 'Order 42 has shipped and arrives on Monday';

let fake, gateway, toolServer, fakeUrl, client, dir;
const toolCalls = [];

before(async () => {
  assert.ok(SWITCHBOARD && FAKE, 'SWITCHBOARD_BIN and FAKE_PROVIDER_BIN must be set (ctest sets them)');
  // The tool's endpoint: records what the gateway sent, answers within its output_schema.
  toolServer = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      toolCalls.push({ path: req.url, body: JSON.parse(body) });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: 'shipped', eta: 'Monday' }));
    });
  });
  await new Promise((r) => toolServer.listen(0, '127.0.0.1', r));
  const toolPort = toolServer.address().port;

  const f = await startAndWait(FAKE, ['--port', '0', '--text', REPLY, '--chunks', '8'], {}, /listening on (\d+)/, 'stdout');
  fake = f.child;
  fakeUrl = `http://127.0.0.1:${f.match[1]}`;

  dir = mkdtempSync(join(tmpdir(), 'sb-sdk-tools-'));
  const config = join(dir, 'switchboard.json');
  writeFileSync(config, JSON.stringify({
    tools: [{
      name: 'lookup_order',
      description: 'Where an order is',
      input_schema: { type: 'object', properties: { order_id: { type: 'string' } }, required: ['order_id'], additionalProperties: false },
      output_schema: { type: 'object', required: ['status'] },
      endpoint: `http://127.0.0.1:${toolPort}/lookup`,
      timeout_ms: 2000,
    }],
  }));
  const g = await startGateway(SWITCHBOARD, fakeUrl, {
    args: ['--config', config],
    env: { OPENAI_API_KEY: 'sk-test-sdk-0002', DATABASE_URL: join(dir, 'ledger.db') },
  });
  gateway = g.child;
  client = new OpenAI({ apiKey: 'unused-in-open-mode', baseURL: g.baseURL, maxRetries: 0 });
});

after(() => {
  gateway?.kill('SIGTERM');
  fake?.kill('SIGTERM');
  toolServer?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('a streamed request with gateway_tools runs the tool between rounds and streams one completion', async () => {
  // Round 1: the model calls the tool; round 2 (the fake's default): the text.
  const scripted = await fetch(`${fakeUrl}/__fake/script`, {
    method: 'POST',
    body: JSON.stringify({ tool_call: { name: 'lookup_order', arguments: '{"order_id":"42"}' } }),
  });
  assert.equal(scripted.status, 200);

  const stream = await client.chat.completions.create({
    model: 'openai/gpt-4o-mini',
    stream: true,
    messages: [{ role: 'user', content: 'Where is order 42?' }],
    gateway_tools: ['lookup_order'],  // not in the SDK's types: sent as is
  });
  let text = '';
  const ids = new Set();
  let finish = null;
  let toolDeltas = 0;
  let gatewayInfo = null;
  for await (const chunk of stream) {
    ids.add(chunk.id);
    if (chunk.gateway) gatewayInfo = chunk.gateway;
    for (const c of chunk.choices) {
      text += c.delta?.content ?? '';
      if (c.delta?.tool_calls) toolDeltas += 1;
      if (c.finish_reason) finish = c.finish_reason;
    }
  }
  assert.equal(text, REPLY);
  assert.equal(finish, 'stop');
  assert.equal(ids.size, 1, `one completion id across rounds, got ${[...ids].join(', ')}`);
  assert.equal(toolDeltas, 0, 'the gateway ran its own tool: its call is not the client\'s to run');
  assert.equal(gatewayInfo?.tool_rounds, 2);
  assert.deepEqual(toolCalls, [{ path: '/lookup', body: { order_id: '42' } }]);
});
