#!/usr/bin/env node
// Streaming (SSE) load client for the benchmark rig, on raw sockets so that
// its own cost is small and the same for every target.
//
//   node sse_client.js ttfb --port P [--path /v1/chat/completions] --body-file F
//        [--header 'Name: value']... [--conns 1] [--duration-ms 3000] [--warmup-ms 300]
//     Each connection sends one streamed request after another (keep-alive).
//     Prints one JSON line: streams, streams_per_s, ttfb_p50_us, ttfb_p99_us,
//     total_p50_us, total_p99_us, errors. TTFB = request written -> first
//     body byte holding an SSE "data:" event (headers alone do not count).
//
//   node sse_client.js hold --port P --body-file F [--header ...] --conns 10000
//        --pids 123,456 [--timeout-ms 60000] [--hold-ms 2000]
//     Opens N streams and keeps them open. When every stream has received its
//     first event (or the timeout passes) it waits hold-ms, reads VmRSS of each
//     pid (summed with its children, e.g. nginx workers), prints one JSON line
//     and closes every socket.
//
//   node sse_client.js count --port P --body-file F [--header ...] --requests N [--conns C]
//     Sends exactly N requests (streamed or not) over C keep-alive connections
//     and prints {requests, ok, errors, seconds}: the fixed workload that the
//     callgrind instruction count is taken on.
'use strict';
const net = require('net');
const fs = require('fs');

function parseArgs(argv) {
  const a = { mode: argv[0], headers: [], path: '/v1/chat/completions', host: '127.0.0.1',
              conns: 1, requests: 1000, durationMs: 3000, warmupMs: 300, timeoutMs: 60000, holdMs: 2000, pids: [] };
  for (let i = 1; i < argv.length; i++) {
    const k = argv[i], v = argv[i + 1];
    switch (k) {
      case '--port': a.port = +v; i++; break;
      case '--host': a.host = v; i++; break;
      case '--path': a.path = v; i++; break;
      case '--body-file': a.body = fs.readFileSync(v); i++; break;
      case '--header': a.headers.push(v); i++; break;
      case '--conns': a.conns = +v; i++; break;
      case '--duration-ms': a.durationMs = +v; i++; break;
      case '--warmup-ms': a.warmupMs = +v; i++; break;
      case '--timeout-ms': a.timeoutMs = +v; i++; break;
      case '--hold-ms': a.holdMs = +v; i++; break;
      case '--requests': a.requests = +v; i++; break;
      case '--pids': a.pids = v.split(',').filter(Boolean).map(Number); i++; break;
      default: throw new Error('unknown argument ' + k);
    }
  }
  if (!a.port || !a.body) throw new Error('--port and --body-file are required');
  return a;
}

function buildRequest(a) {
  const head = [`POST ${a.path} HTTP/1.1`, `Host: ${a.host}:${a.port}`,
    'Content-Type: application/json', 'Accept: text/event-stream',
    `Content-Length: ${a.body.length}`, ...a.headers, '', ''].join('\r\n');
  return Buffer.concat([Buffer.from(head), a.body]);
}

const now = () => process.hrtime.bigint();

// Incremental HTTP/1.1 response reader: head, then a chunked or
// Content-Length body. Calls onData(bodyBytes) and onEnd(status).
class ResponseReader {
  constructor(onData, onEnd) { this.onData = onData; this.onEnd = onEnd; this.reset(); }
  reset() { this.buf = Buffer.alloc(0); this.state = 'head'; this.status = 0;
            this.chunked = false; this.remaining = 0; this.closeDelimited = false; }
  push(data) {
    this.buf = this.buf.length ? Buffer.concat([this.buf, data]) : data;
    for (;;) {
      if (this.state === 'head') {
        const i = this.buf.indexOf('\r\n\r\n');
        if (i < 0) return;
        const head = this.buf.subarray(0, i).toString('latin1');
        this.buf = this.buf.subarray(i + 4);
        this.status = +head.slice(9, 12);
        const lower = head.toLowerCase();
        this.chunked = /\r\ntransfer-encoding:\s*chunked/.test(lower);
        const m = /\r\ncontent-length:\s*(\d+)/.exec(lower);
        if (this.chunked) this.state = 'size';
        else if (m) { this.remaining = +m[1]; this.state = 'fixed'; }
        else { this.closeDelimited = true; this.state = 'close'; }
        continue;
      }
      if (this.state === 'fixed') {
        const n = Math.min(this.remaining, this.buf.length);
        if (n > 0) { this.onData(this.buf.subarray(0, n)); this.buf = this.buf.subarray(n); this.remaining -= n; }
        if (this.remaining === 0) { this.finish(); continue; }
        return;
      }
      if (this.state === 'size') {
        const i = this.buf.indexOf('\r\n');
        if (i < 0) return;
        const size = parseInt(this.buf.subarray(0, i).toString('latin1'), 16);
        this.buf = this.buf.subarray(i + 2);
        if (size === 0) { this.state = 'trailer'; continue; }
        this.remaining = size; this.state = 'chunk';
        continue;
      }
      if (this.state === 'chunk') {
        const n = Math.min(this.remaining, this.buf.length);
        if (n > 0) { this.onData(this.buf.subarray(0, n)); this.buf = this.buf.subarray(n); this.remaining -= n; }
        if (this.remaining > 0) return;
        this.state = 'chunk-crlf';
        continue;
      }
      if (this.state === 'chunk-crlf') {
        if (this.buf.length < 2) return;
        this.buf = this.buf.subarray(2); this.state = 'size';
        continue;
      }
      if (this.state === 'trailer') {
        const i = this.buf.indexOf('\r\n');
        if (i < 0) return;
        const line = this.buf.subarray(0, i); this.buf = this.buf.subarray(i + 2);
        if (line.length === 0) { this.finish(); continue; }
        continue;
      }
      if (this.state === 'close') {
        if (this.buf.length) { this.onData(this.buf); this.buf = Buffer.alloc(0); }
        return;
      }
      return;
    }
  }
  finish() { const s = this.status; const rest = this.buf; this.reset(); this.buf = rest; this.onEnd(s); }
  eof() { if (this.closeDelimited && this.state === 'close') this.finish(); }
}

function pct(sorted, p) {
  if (!sorted.length) return null;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx];
}

function runTtfb(a) {
  const req = buildRequest(a);
  const ttfb = [], total = [];
  let errors = 0, streams = 0, allStreams = 0, measuring = false, stopping = false, open = 0;
  const start = Date.now();
  let tMeasureStart = 0n;

  function conn() {
    const s = net.connect({ host: a.host, port: a.port });
    s.setNoDelay(true);
    open++;
    let t0 = 0n, t1 = 0n, sawData = false;
    const rr = new ResponseReader(
      (body) => {
        if (!sawData && body.indexOf('data:') >= 0) { sawData = true; t1 = now(); }
      },
      (status) => {
        const t2 = now();
        allStreams++;
        if (measuring) {
          if (status === 200 && sawData) {
            streams++; ttfb.push(Number(t1 - t0) / 1000); total.push(Number(t2 - t0) / 1000);
          } else errors++;
        }
        send();
      });
    function send() {
      if (stopping) { s.end(); return; }
      sawData = false; t0 = now(); s.write(req);
    }
    s.on('connect', send);
    s.on('data', (d) => rr.push(d));
    s.on('end', () => rr.eof());
    s.on('error', () => { if (measuring) errors++; });
    s.on('close', () => {
      open--;
      if (!stopping) setTimeout(conn, 10);  // server closed: reconnect
      else if (open === 0) report();
    });
  }
  for (let i = 0; i < a.conns; i++) conn();
  setTimeout(() => { measuring = true; tMeasureStart = now(); }, a.warmupMs);
  let tMeasureEnd = 0n;
  setTimeout(() => {
    measuring = false; stopping = true; tMeasureEnd = now();
    setTimeout(() => process.exit(report()), 5000).unref();
  }, a.warmupMs + a.durationMs);
  let reported = false;
  function report() {
    if (reported) return 0;
    reported = true;
    ttfb.sort((x, y) => x - y); total.sort((x, y) => x - y);
    const secs = Number(tMeasureEnd - tMeasureStart) / 1e9;
    console.log(JSON.stringify({
      streams, all_streams: allStreams, errors, seconds: +secs.toFixed(3), streams_per_s: +(streams / secs).toFixed(1),
      ttfb_p50_us: Math.round(pct(ttfb, 50)), ttfb_p99_us: Math.round(pct(ttfb, 99)),
      total_p50_us: Math.round(pct(total, 50)), total_p99_us: Math.round(pct(total, 99)),
    }));
    setImmediate(() => process.exit(0));
    return 0;
  }
  void start;
}

function rssKb(pid) {
  let sum = 0;
  const pids = [pid];
  try {
    const kids = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
    if (kids) pids.push(...kids.split(/\s+/).map(Number));
  } catch (e) { /* gone */ }
  for (const p of pids) {
    try {
      const m = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${p}/status`, 'utf8'));
      if (m) sum += +m[1];
    } catch (e) { /* gone */ }
  }
  return sum;
}

function runHold(a) {
  const req = buildRequest(a);
  const sockets = [];
  let started = 0, established = 0, failed = 0, done = false, opened = 0;
  const reasons = {};
  const fail = (why) => { failed++; reasons[why] = (reasons[why] || 0) + 1; check(); };
  const t0 = Date.now();
  const rssBefore = a.pids.map(rssKb);
  function one(i) {
    // Spread the source addresses over 127.0.0.x so that 10k connections
    // never run short of ephemeral ports.
    const s = net.connect({ host: a.host, port: a.port, localAddress: `127.0.0.${2 + (i % 200)}` });
    sockets.push(s);
    let got = false;
    const rr = new ResponseReader((body) => {
      if (!got && body.indexOf('data:') >= 0) { got = true; established++; check(); }
    }, (status) => { if (!got) { got = true; fail('status ' + status); } });
    s.on('connect', () => { opened++; s.write(req); });
    s.on('data', (d) => rr.push(d));
    s.on('error', (e) => { if (!got) { got = true; fail(e.code || e.message); } });
    s.on('close', () => { if (!got && !done) { got = true; fail('closed'); } });
  }
  // Open in batches so the listen backlogs are not overrun.
  function batch() {
    const n = Math.min(100, a.conns - started);
    for (let k = 0; k < n; k++) one(started++);
    if (started < a.conns) setTimeout(batch, 25);
  }
  batch();
  const timer = setTimeout(finish, a.timeoutMs);
  function check() { if (established + failed >= a.conns) finish(); }
  function finish() {
    if (done) return;
    done = true; clearTimeout(timer);
    const tEst = Date.now() - t0;
    setTimeout(() => {
      const rss = a.pids.map(rssKb);
      // Streams still open at the moment of the reading.
      const alive = sockets.filter((s) => !s.destroyed).length;
      console.log(JSON.stringify({ requested: a.conns, established, failed, failures: reasons, open_at_sample: alive,
        seconds_to_establish: +(tEst / 1000).toFixed(1), pids: a.pids, rss_before_kb: rssBefore, rss_kb: rss }));
      for (const s of sockets) s.destroy();
      setTimeout(() => process.exit(0), 500);
    }, a.holdMs);
  }
}

function runCount(a) {
  const req = buildRequest(a);
  let sent = 0, ok = 0, errors = 0, finished = 0, firstError = null;
  const statuses = {};
  const t0 = now();
  function conn() {
    const s = net.connect({ host: a.host, port: a.port });
    s.setNoDelay(true);
    let body = '';
    const rr = new ResponseReader((d) => { if (body.length < 2000) body += d.toString(); }, (status) => {
      finished++;
      statuses[status] = (statuses[status] || 0) + 1;
      if (status === 200) ok++; else { errors++; if (!firstError) firstError = body.slice(0, 300); }
      body = '';
      next();
    });
    function next() {
      if (sent >= a.requests) { s.end(); if (finished >= a.requests) done(); return; }
      sent++; s.write(req);
    }
    s.on('connect', next);
    s.on('data', (d) => rr.push(d));
    s.on('error', (e) => { console.error('count: ' + e.message); process.exit(1); });
  }
  let reported = false;
  function done() {
    if (reported) return;
    reported = true;
    const res = { requests: a.requests, ok, errors, statuses, seconds: +(Number(now() - t0) / 1e9).toFixed(3) };
    if (firstError) res.first_error = firstError;
    console.log(JSON.stringify(res));
    setImmediate(() => process.exit(0));
  }
  for (let i = 0; i < Math.min(a.conns, a.requests); i++) conn();
}

const a = parseArgs(process.argv.slice(2));
if (a.mode === 'ttfb') runTtfb(a);
else if (a.mode === 'hold') runHold(a);
else if (a.mode === 'count') runCount(a);
else { console.error('mode must be ttfb, hold or count'); process.exit(2); }
