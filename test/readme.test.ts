/**
 * The README's promises: two set-up commands; the first starts the server on its embedded
 * default (here with the data folder and port moved by environment, so as not to touch ./data);
 * the library example runs.
 */
import { spawn, execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = new URL('..', import.meta.url).pathname;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      s.close(() => (addr && typeof addr === 'object' ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

describe('README', () => {
  it('opens with exactly two set-up commands, and CI runs the second', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const block = /```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    const commands = block.split('\n').filter((l) => l.trim()).map((l) => l.replace(/#.*$/, '').trim());
    expect(commands).toEqual(['npm ci && npm start', 'npm test']);
    expect(readFileSync(join(root, '.ci/run'), 'utf8')).toMatch(/^npm test$/m);
  });

  it('`npm start` serves on the embedded default: /healthz answers 200 and the API token is printed', async () => {
    const data = mkdtempSync(join(tmpdir(), 'sb-readme-'));
    const port = await freePort();
    const child = spawn('npm', ['start', '--silent'], { cwd: root, env: { ...process.env, SWITCHBOARD_DATA: data, SWITCHBOARD_PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    try {
      const deadline = Date.now() + 30_000;
      while (!out.includes('API token') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(out).toContain(`listening on http://127.0.0.1:${port}`);
      const token = readFileSync(join(data, 'api-token'), 'utf8').trim();
      expect(out).toContain(token);
      expect(existsSync(join(data, 'switchboard.db'))).toBe(true);
      const health = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(health.status).toBe(200);
      const ingest = await fetch(`http://127.0.0.1:${port}/ingest/greenapi`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ typeWebhook: 'incomingCall', instanceData: { idInstance: 1 }, timestamp: 1700000000, from: '79001234567@c.us', status: 'offer', idMessage: 'R1' }),
      });
      expect(await ingest.json()).toMatchObject({ accepted: 1 });
    } finally {
      if (child.pid) process.kill(-child.pid, 'SIGTERM');
      await new Promise((r) => child.once('exit', r));
      rmSync(data, { recursive: true, force: true });
    }
  });

  it('the library example runs and shows a redelivery counted as a duplicate', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'sb-example-'));
    const { stdout } = await promisify(execFile)('node', [join(root, 'examples/library.mjs')], { cwd });
    expect(stdout).toContain('declined again: { accepted: 0, duplicates: 1');
    expect(stdout).toContain('handler: call EXAMPLE-CALL-1 ended: missed (caller-gave-up)');
    rmSync(cwd, { recursive: true, force: true });
  });
});
