// Preloaded into the Portkey gateway (node --import) by bench/run.sh.
//
// Portkey 1.15.2 on Node 20 answers every streamed request 500 "Something went
// wrong": for a stream it passes the upstream fetch() Response through and
// then appends its own headers to it, but a fetch() Response's headers are
// immutable ("TypeError: immutable" in updateHeaders). Giving it a copy with
// mutable headers is the smallest change that lets it stream; it costs one
// Headers copy per upstream call, nothing per chunk.
const originalFetch = globalThis.fetch;
globalThis.fetch = async function fetchWithMutableHeaders(...args) {
  const r = await originalFetch.apply(this, args);
  return new Response(r.body, { status: r.status, statusText: r.statusText, headers: new Headers(r.headers) });
};
