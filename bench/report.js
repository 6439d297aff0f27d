#!/usr/bin/env node
// Turns the measurements of bench/run.sh (WORK/data.tsv and friends) into
// bench/RESULTS.md. Keeps from the previous RESULTS.md the hand-written
// notes (between <!-- notes:begin --> and <!-- notes:end -->) and the history
// table (between <!-- history:begin --> and <!-- history:end -->), to which it
// appends this run's headline row: that is how before/after is recorded.
'use strict';
const fs = require('fs');
const path = require('path');

const [work, outFile, command] = process.argv.slice(2);
const read = (f) => { try { return fs.readFileSync(path.join(work, f), 'utf8'); } catch (e) { return ''; } };

const machine = Object.fromEntries(read('machine.txt').trim().split('\n').filter(Boolean)
  .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
const ticksPerSec = +machine.ticks || 100;

// scen -> round -> target -> fields
const data = {};
for (const line of read('data.tsv').split('\n')) {
  if (!line.trim()) continue;
  const [scen, round, target, rest] = line.split('\t');
  const f = {};
  const j = /json=(\{.*\})/.exec(rest);
  if (j) { try { Object.assign(f, JSON.parse(j[1])); } catch (e) { f.error = 'bad json'; } }
  for (const m of rest.replace(/json=\{.*\}/, '').matchAll(/(\w+)=(\S+)/g)) f[m[1]] = isNaN(+m[2]) ? m[2] : +m[2];
  const cm = /client=(\{.*\})/.exec(rest);
  if (cm) { try { f.client = JSON.parse(cm[1]); } catch (e) { /* ignore */ } }
  ((data[scen] ??= {})[round] ??= {})[target] = f;
}

const median = (xs) => {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return NaN;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
};
const fmt = (x, d = 0) => (Number.isFinite(x) ? x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }) : '–');
const ratio = (x) => (Number.isFinite(x) ? x.toFixed(2) + '×' : '–');
const TARGETS = ['direct', 'nginx', 'switchboard', 'portkey'];

// Per-round values of one metric, and the median of per-round ratios.
function rounds(scen) { return Object.keys(data[scen] || {}); }
function metric(scen, target, fn) { return rounds(scen).map((r) => (data[scen][r][target] ? fn(data[scen][r][target]) : NaN)); }
function ratioMedian(scen, target, base, fn) {
  return median(rounds(scen).map((r) => {
    const a = data[scen][r][target], b = data[scen][r][base];
    return a && b ? fn(a) / fn(b) : NaN;
  }));
}
function addedMedian(scen, target, fn) {
  return median(rounds(scen).map((r) => {
    const a = data[scen][r][target], b = data[scen][r].direct;
    return a && b ? fn(a) - fn(b) : NaN;
  }));
}
// Added latency of target over direct, as a multiple of nginx's added latency (per round).
function addedVsNginx(scen, target, fn) {
  return median(rounds(scen).map((r) => {
    const a = data[scen][r][target], n = data[scen][r].nginx, d = data[scen][r].direct;
    return a && n && d ? (fn(a) - fn(d)) / (fn(n) - fn(d)) : NaN;
  }));
}

const rps = (f) => f.requests / (f.duration_us / 1e6);
const errs = (f) => (f.err_connect || 0) + (f.err_read || 0) + (f.err_write || 0) + (f.err_status || 0) + (f.err_timeout || 0);
const cpuUsPerReq = (f) => (f.requests > 0 && f.cpu_ticks !== undefined ? (f.cpu_ticks / ticksPerSec) * 1e6 / f.requests : NaN);

const out = [];
const p = (s = '') => out.push(s);
const headline = {};

p('# Benchmark results');
p();
p('Written by `bench/run.sh` (see bench/README.md). Every figure comes from one run in which every');
p('target was measured in alternation (direct, nginx, Switchboard, Portkey, then again), so that');
p('drift on a shared machine hits all of them alike; a figure is the median over the rounds, a ratio');
p('is the median of the per-round ratios. The load generator (wrk, or the Node SSE client) shares');
p('the cores with the upstream and the proxy: absolute numbers are this box\'s, ratios travel.');
p();
p('## Machine and command');
p();
p(`- ${machine.nproc} CPUs, ${machine.cpu}, ${machine.mem}; ${machine.kernel}; load average before the run: ${machine.load_before}`);
p(`- nginx ${machine.nginx}, wrk ${machine.wrk}, Node ${machine.node}, ${machine.valgrind}, Portkey gateway 1.15.2 (npm)`);
p(`- Switchboard commit ${machine.commit}, Release build; run ${machine.date}`);
p(`- Command: \`${command}\` (${machine.rounds} rounds × ${machine.duration} s per measurement; the whole run took ${machine.elapsed} s)`);
p('- Upstream for non-streamed requests: nginx `return 200` with a fixed 615-byte chat.completion (1 worker).');
p('  Upstream for streams: `fake_provider --chunks 20` (OpenAI SSE, 20 content chunks, no delay).');
p('- nginx proxy: 1 worker, keep-alive upstream pool, `proxy_buffering off`. Switchboard: defaults, open');
p('  mode (no client auth), SQLite ledger in a temp dir. Portkey: `start-server.js --headless` with');
p('  `portkey_shim.mjs` preloaded (else it fails every stream on Node 20), routed with');
p('  `x-portkey-provider: openai` and `x-portkey-custom-host: http://127.0.0.1:PORT/v1`.');
p();

function wrkTable(scen, title) {
  if (!data[scen]) return;
  p(`### ${title}`);
  p();
  p('| target | req/s | p50 µs | p99 µs | added p50 µs | added p50 ÷ nginx\'s | req/s ÷ direct | req/s ÷ nginx | CPU µs/req (proxy) | errors |');
  p('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const t of TARGETS) {
    const r = median(metric(scen, t, rps)), p50 = median(metric(scen, t, (f) => f.p50_us)), p99 = median(metric(scen, t, (f) => f.p99_us));
    const added = t === 'direct' ? NaN : addedMedian(scen, t, (f) => f.p50_us);
    const addedN = t === 'direct' || t === 'nginx' ? NaN : addedVsNginx(scen, t, (f) => f.p50_us);
    const xd = t === 'direct' ? NaN : ratioMedian(scen, t, 'direct', rps);
    const xn = t === 'direct' || t === 'nginx' ? NaN : ratioMedian(scen, t, 'nginx', rps);
    const cpu = t === 'direct' ? NaN : median(metric(scen, t, cpuUsPerReq));
    const e = metric(scen, t, errs).reduce((a, b) => a + (b || 0), 0);
    p(`| ${t} | ${fmt(r)} | ${fmt(p50)} | ${fmt(p99)} | ${fmt(added)} | ${ratio(addedN)} | ${ratio(xd)} | ${ratio(xn)} | ${fmt(cpu, 1)} | ${e} |`);
    headline[`${scen}.${t}`] = { rps: r, p50, p99, added, addedN, xd, xn, cpu };
  }
  p();
}

p('## Non-streaming chat completions');
p();
wrkTable('c1', '1 connection');
wrkTable('c32', '32 connections');
wrkTable('c256', '256 connections');

p('## Streaming (SSE, 20 chunks)');
p();
if (data.sse32) {
  p('### 32 connections, whole streams (wrk): streams/s and time to the last byte');
  p();
  p('| target | streams/s | p50 µs | p99 µs | streams/s ÷ direct | streams/s ÷ nginx | CPU µs/stream (proxy) | errors |');
  p('|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const t of TARGETS) {
    const r = median(metric('sse32', t, rps));
    const xd = t === 'direct' ? NaN : ratioMedian('sse32', t, 'direct', rps);
    const xn = t === 'direct' || t === 'nginx' ? NaN : ratioMedian('sse32', t, 'nginx', rps);
    const cpu = t === 'direct' ? NaN : median(metric('sse32', t, cpuUsPerReq));
    const e = metric('sse32', t, errs).reduce((a, b) => a + (b || 0), 0);
    p(`| ${t} | ${fmt(r)} | ${fmt(median(metric('sse32', t, (f) => f.p50_us)))} | ${fmt(median(metric('sse32', t, (f) => f.p99_us)))} | ${ratio(xd)} | ${ratio(xn)} | ${fmt(cpu, 1)} | ${e} |`);
    headline[`sse32.${t}`] = { rps: r, xd, xn, cpu };
  }
  p();
}
if (data.ttfb1) {
  p('### 1 connection, time to first byte (Node raw-socket client: request written → first `data:` event)');
  p();
  p('| target | streams/s | TTFB p50 µs | TTFB p99 µs | added TTFB p50 µs | whole stream p50 µs | CPU µs/stream (proxy) | errors |');
  p('|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const t of TARGETS) {
    const added = t === 'direct' ? NaN : addedMedian('ttfb1', t, (f) => f.ttfb_p50_us);
    const cpu = t === 'direct' ? NaN : median(metric('ttfb1', t, (f) => (f.all_streams ? (f.cpu_ticks / ticksPerSec) * 1e6 / f.all_streams : NaN)));
    const e = metric('ttfb1', t, (f) => f.errors).reduce((a, b) => a + (b || 0), 0);
    p(`| ${t} | ${fmt(median(metric('ttfb1', t, (f) => f.streams_per_s)))} | ${fmt(median(metric('ttfb1', t, (f) => f.ttfb_p50_us)))} | ${fmt(median(metric('ttfb1', t, (f) => f.ttfb_p99_us)))} | ${fmt(added)} | ${fmt(median(metric('ttfb1', t, (f) => f.total_p50_us)))} | ${fmt(cpu, 1)} | ${e} |`);
    headline[`ttfb1.${t}`] = { added };
  }
  p();
}

p('## Memory (RSS of the proxy process, with its workers for nginx)');
p();
const hold = data.hold ? Object.values(data.hold)[0] : {};
const holdN = data.hold ? Object.keys(data.hold)[0] : '0';
const after = data.hold_after ? Object.values(data.hold_after)[0] : {};
const idle = data.idle_rss ? data.idle_rss['0'] : {};
p(`| target | idle RSS MiB | streams asked | streams open at the reading | RSS MiB with them | RSS MiB after they closed | seconds to open them |`);
p('|---|---:|---:|---:|---:|---:|---:|');
const mib = (kb) => (Number.isFinite(kb) ? (kb / 1024).toFixed(1) : '–');
for (const t of ['nginx', 'switchboard', 'portkey']) {
  const h = hold[t] || {};
  const rss = Array.isArray(h.rss_kb) ? h.rss_kb[0] : NaN;
  const why = h.failures ? Object.entries(h.failures).map(([k, v]) => `${v} ${k}`).join(', ') : '';
  p(`| ${t} | ${mib(idle[t]?.rss_kb)} | ${h.requested ? fmt(h.requested) : holdN} | ${h.established !== undefined ? fmt(h.established) : '–'}${h.failed ? ` (${fmt(h.failed)} failed: ${why})` : ''} | ${mib(rss)} | ${mib(after[t]?.rss_kb)} | ${h.seconds_to_establish ?? '–'} |`);
  headline[`mem.${t}`] = { idle: idle[t]?.rss_kb, hold: rss, est: h.established };
}
p();
p('A slow stream: `fake_provider --chunks 20 --chunk-delay-ms 3000`, so each stream has sent its first');
p('event and then stays open for a minute; the client opens them all (source addresses spread over');
p('127.0.0.2–201), waits until each has its first event, reads VmRSS, then closes them all.');
p();

p('## Instructions per request (callgrind, stable across machine load)');
p();
if (data.callgrind) {
  p('Switchboard under `valgrind --tool=callgrind`, counters zeroed after 100 warm-up requests, then');
  p('a fixed number of requests from one keep-alive connection; all threads of the process counted.');
  p();
  p('| workload | requests | instructions | instructions / request |');
  p('|---|---:|---:|---:|');
  for (const [n, byT] of Object.entries(data.callgrind)) { void n; void byT; }
  for (const line of read('data.tsv').split('\n').filter((l) => l.startsWith('callgrind\t'))) {
    const [, n, , rest] = line.split('\t');
    const kind = /kind=(\w+)/.exec(rest)[1], ir = +/ir=(\d+)/.exec(rest)?.[1];
    const label = kind === 'json' ? 'non-streamed, 615-byte answer' : 'SSE, 20 chunks';
    const cl = (/client=(\{.*\})/.exec(rest) || [])[1];
    let okTxt = '';
    try { const c = JSON.parse(cl); okTxt = c.errors ? ` (${c.errors} answered ${Object.keys(c.statuses).filter((k) => k !== '200').join('/')})` : ''; } catch (e) { /* none */ }
    p(`| ${label} | ${fmt(+n)}${okTxt} | ${fmt(ir)} | ${fmt(ir / +n)} |`);
    headline[`ir.${kind}`] = ir / +n;
  }
  p();
} else p('(not measured in this run)\n');

// ---------------------------------------------------------------- targets of issue 4
p('## Against the targets of issue 4 (this run)');
p();
const h = (k) => headline[k] || {};
const check = (ok) => (ok === undefined ? '–' : ok ? 'met' : '**not met**');
const rows = [
  ['added p50 at 1 connection ≤ 1.5× nginx\'s', ratio(h('c1.switchboard').addedN), Number.isFinite(h('c1.switchboard').addedN) ? h('c1.switchboard').addedN <= 1.5 : undefined],
  ['req/s at 32 connections ≥ 0.8× nginx\'s', ratio(h('c32.switchboard').xn), Number.isFinite(h('c32.switchboard').xn) ? h('c32.switchboard').xn >= 0.8 : undefined],
  ['req/s at 32 connections vs Portkey', Number.isFinite(h('c32.switchboard').rps / h('c32.portkey').rps) ? ratio(h('c32.switchboard').rps / h('c32.portkey').rps) : '–', undefined],
  ['added time to first byte on streams ≤ 1 ms', fmt(h('ttfb1.switchboard').added) + ' µs', Number.isFinite(h('ttfb1.switchboard').added) ? h('ttfb1.switchboard').added <= 1000 : undefined],
  // Met when RSS is under 1 GiB with at least 99% of the streams open (the
  // value says how many were).
  [`${holdN} concurrent streams under 1 GiB RSS`, `${mib(h('mem.switchboard').hold)} MiB with ${fmt(h('mem.switchboard').est)} open`, Number.isFinite(h('mem.switchboard').hold) ? h('mem.switchboard').hold < 1048576 && h('mem.switchboard').est >= 0.99 * +holdN && +holdN >= 10000 : undefined],
  ['idle RSS under 64 MiB', `${mib(h('mem.switchboard').idle)} MiB`, Number.isFinite(h('mem.switchboard').idle) ? h('mem.switchboard').idle < 65536 : undefined],
];
p('| target | Switchboard | |');
p('|---|---:|---|');
for (const [name, v, ok] of rows) p(`| ${name} | ${v} | ${check(ok)} |`);
p();

// ---------------------------------------------------------------- history
let previous = '';
try { previous = fs.readFileSync(outFile, 'utf8'); } catch (e) { /* first run */ }
const between = (s, tag) => {
  const m = new RegExp(`<!-- ${tag}:begin -->\\n([\\s\\S]*?)<!-- ${tag}:end -->`).exec(s);
  return m ? m[1] : null;
};
const histHead = '| date | commit | c1 added p50 ÷ nginx | c32 req/s ÷ nginx | c32 req/s | SSE streams/s ÷ nginx | added TTFB µs | idle RSS MiB | RSS MiB with streams | instr/req | instr/stream |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n';
let hist = between(previous, 'history');
if (!hist || !hist.startsWith('| date')) hist = histHead;
hist += `| ${machine.date} | ${machine.commit} | ${ratio(h('c1.switchboard').addedN)} | ${ratio(h('c32.switchboard').xn)} | ${fmt(h('c32.switchboard').rps)} | ${ratio(h('sse32.switchboard').xn)} | ${fmt(h('ttfb1.switchboard').added)} | ${mib(h('mem.switchboard').idle)} | ${mib(h('mem.switchboard').hold)} | ${fmt(headline['ir.json'])} | ${fmt(headline['ir.sse'])} |\n`;
p('## History (Switchboard, one row per run of bench/run.sh: before/after)');
p();
p('<!-- history:begin -->');
out.push(hist.replace(/\n$/, ''));
p('<!-- history:end -->');
p();

// ---------------------------------------------------------------- notes and raw profiles
p('## Notes, hot spots and to-do (hand-written, kept across runs)');
p();
p('<!-- notes:begin -->');
const notes = between(previous, 'notes');
out.push((notes ?? '(none yet)\n').replace(/\n$/, ''));
p('<!-- notes:end -->');
p();
const prof = [['cg-json-top.txt', 'callgrind, non-streamed requests (bench/cg_top.js)'],
              ['cg-sse-top.txt', 'callgrind, SSE requests, 20 chunks each (bench/cg_top.js)'],
              ['perf-self.txt', 'perf (cpu-clock), Switchboard at 32 connections, self (top)']];
for (const [f, title] of prof) {
  const txt = read(f).trim();
  if (!txt) continue;
  p(`<details><summary>Raw profile: ${title}</summary>`);
  p();
  p('```');
  out.push(txt.split('\n').slice(0, 75).map((l) => l.replace(/\s+$/, '').replace(/^\s+(?=\d+\.\d+%)/, '').slice(0, 200)).join('\n'));
  p('```');
  p();
  p('</details>');
  p();
}

fs.writeFileSync(outFile, out.join('\n'));
