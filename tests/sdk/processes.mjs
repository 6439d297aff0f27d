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
