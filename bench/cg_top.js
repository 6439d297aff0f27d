#!/usr/bin/env node
// Reads a callgrind output file and prints the functions that cost the most
// instructions, per request: self cost (all code) and inclusive cost (our
// sb:: code only, so that the request path reads from the top).
//   node cg_top.js callgrind.out.N REQUESTS [TOP]
// (callgrind_annotate 3.19 misreads the files that callgrind_control -d
// writes in the middle of a run, hence this small reader.)
'use strict';
const fs = require('fs');

if (process.argv[2] === '--shorten') {
  // Filter mode for other profiles (perf report): shorten the names on stdin.
  process.stdout.write(shortenAll(fs.readFileSync(0, 'utf8')));
  process.exit(0);
}
function shortenAll(text) { return text.split('\n').map((l) => short(l.replace(/\s+$/, ''), 230)).join('\n'); }
const [file, requestsArg, topArg] = process.argv.slice(2);
const requests = +requestsArg || 1;
const top = +topArg || 25;
const lines = fs.readFileSync(file, 'utf8').split('\n');

const names = new Map();   // compressed fn ids -> name
const objs = new Map();    // compressed ob ids -> name
function name(map, spec) {
  const m = /^\((\d+)\)(?:\s+(.*))?$/.exec(spec);
  if (!m) return spec;
  if (m[2] !== undefined) map.set(m[1], m[2]);
  return map.get(m[1]) ?? `(${m[1]})`;
}
const self = new Map(), incl = new Map(), objOf = new Map();
let fn = null, ob = '', afterCalls = false, total = 0, cfnName = null;
for (const line of lines) {
  if (!line) continue;
  const c = line.charCodeAt(0);
  if ((c >= 48 && c <= 57) || c === 43 || c === 45 || c === 42) {  // digit + - *
    const parts = line.split(' ');
    const ir = parts.length > 1 ? +parts[1] : 0;
    if (afterCalls) {
      // Inclusive cost of a call made by fn: counts into fn's inclusive
      // cost, unless it is a recursive call.
      if (fn !== null && cfnName !== fn) incl.set(fn, (incl.get(fn) || 0) + ir);
      afterCalls = false;
    } else if (fn !== null) {
      self.set(fn, (self.get(fn) || 0) + ir);
      incl.set(fn, (incl.get(fn) || 0) + ir);
      total += ir;
    }
    continue;
  }
  if (line.startsWith('fn=')) { fn = name(names, line.slice(3)); objOf.set(fn, ob); continue; }
  if (line.startsWith('ob=')) { ob = name(objs, line.slice(3)); continue; }
  if (line.startsWith('cob=')) { name(objs, line.slice(4)); continue; }
  if (line.startsWith('cfn=')) { cfnName = name(names, line.slice(4)); continue; }
  if (line.startsWith('calls=')) { afterCalls = true; continue; }
}

// Long template argument lists (nlohmann's basic_json<…>, asio's handler
// types) become <…> so that a line names the function, not its types.
function collapse(s) {
  let out = '', depth = 0, start = -1;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (ch === '<' && s[i + 1] !== '<' && s[i - 1] !== '<' && s[i - 1] !== ' ') {
      if (depth === 0) start = i;
      depth++;
      continue;
    }
    if (ch === '>' && depth > 0 && s[i - 1] !== '-') {
      depth--;
      if (depth === 0) {
        const inner = s.slice(start + 1, i);
        out += inner.length > 40 ? '<…>' : '<' + inner + '>';
      }
      continue;
    }
    if (depth === 0) out += ch;
  }
  return depth ? s : out;
}
function short(s, max = 160) { return collapse(s
  .replace(/nlohmann::json_abi_v[\d_]+::/g, 'nlohmann::')
  .replace(/std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> >/g, 'std::string')
  .replace(/\[abi:cxx11\]/g, '')
  .replace(/\(anonymous namespace\)::/g, ''))
  .slice(0, max); }
const lib = (f) => (objOf.get(f) || '').split('/').pop();
const pct = (x) => ((100 * x) / total).toFixed(1).padStart(5) + '%';
const per = (x) => Math.round(x / requests).toLocaleString('en-US').padStart(9);

console.log(`total ${total.toLocaleString('en-US')} instructions, ${requests} requests: ${Math.round(total / requests).toLocaleString('en-US')} per request`);
console.log('\nself cost (instructions per request, share, function [object])');
for (const [f, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top))
  console.log(`${per(v)} ${pct(v)}  ${short(f)} [${lib(f)}]`);
console.log('\ninclusive cost of sb:: functions (instructions per request, share, function)');
for (const [f, v] of [...incl].filter(([f]) => /\bsb::/.test(f) && !/^std::/.test(f)).sort((a, b) => b[1] - a[1]).slice(0, top + 10))
  console.log(`${per(v)} ${pct(v)}  ${short(f)}${/sb::/.test(short(f)) ? '' : `  {${(/sb::[\w:]+/.exec(f.replace(/\(anonymous namespace\)::/g, '')) || [''])[0]}}`}`);
