// Starting the binaries under test: shared by the SDK test files.
import { spawn } from 'node:child_process';

// Starts a process and resolves with the first match of `pattern` in its output.
export function startAndWait(cmd, args, env, pattern, stream) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`${cmd} did not start: ${seen}`)), 15000);
    child[stream].on('data', (d) => {
      seen += d.toString();
      const m = seen.match(pattern);
      if (m) { clearTimeout(timer); resolve({ child, match: m }); }
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`${cmd} exited ${code}: ${seen}`)); });
  });
}

// Starts the gateway in open mode with one OpenAI-format provider at `fakeUrl`
// (model gpt-4o-mini) and resolves with the process and its /v1 base URL.
export async function startGateway(bin, fakeUrl, { args = [], env = {} } = {}) {
  const g = await startAndWait(bin, ['--listen', '127.0.0.1:0', ...args], {
    OPENAI_BASE_URL: fakeUrl,
    LLM_MODEL_OPENAI: 'gpt-4o-mini',
    ...env,
  }, /listening on port (\d+)/, 'stderr');
  return { child: g.child, baseURL: `http://127.0.0.1:${g.match[1]}/v1` };
}
