/**
 * The dashboard at `/` in real Chromium: it sends the API token only as a header, opens its live
 * tail with a one-use stream ticket, and after a server restart takes a new ticket and resumes
 * after the last event it showed.
 *
 * Chromium must be at /usr/bin/chromium, as for test/browser.test.ts: without it the suite is
 * skipped on a developer machine and fails in CI.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSwitchboard, type Switchboard } from '../src/index.js';
import { freePort } from './helpers/process.js';
import { API_TOKEN, INGEST_TOKEN, ingestHeaders, waMessage } from './helpers/sb.js';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
const inCi = Boolean(process.env.CI);

/** A Switchboard on a fixed port and data folder, so that a restart keeps both. */
async function serve(port: number, dir: string): Promise<Switchboard> {
  const sb = createSwitchboard(
    { server: { port, apiToken: API_TOKEN }, store: { sqlite: join(dir, 'sb.db') }, connectors: [{ id: 'wa', platform: 'greenapi', ingestToken: INGEST_TOKEN }], log: { level: 'silent' } },
    { logger: pino({ level: 'silent' }), processMetrics: false, env: {} },
  );
  await sb.start();
  return sb;
}

/** The `type` column of the live tail, newest first. */
async function tailTypes(page: Page): Promise<string[]> {
  return page.$$eval('#tail tbody tr', (rows) => rows.map((r) => r.children[2]?.textContent ?? ''));
}

describe.skipIf(!haveChromium && !inCi)('the dashboard in Chromium', () => {
  let browser: Browser;
  let sb: Switchboard | undefined;
  let port: number;
  const dir = mkdtempSync(join(tmpdir(), 'sb-dashboard-'));
  const ingest = async (text: string): Promise<Response> => {
    const post = () => fetch(`http://127.0.0.1:${port}/ingest/wa`, { method: 'POST', headers: ingestHeaders(), body: JSON.stringify(waMessage(text)) });
    // After a restart, the first try may go out on a kept-alive socket of the old server.
    return post().catch(post);
  };

  beforeAll(async () => {
    if (!haveChromium) throw new Error(`Chromium is missing at ${CHROMIUM}: CI must install it (apt-get install -y chromium)`);
    port = await freePort();
    sb = await serve(port, dir);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await sb?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('tails events with stream tickets, never with the token in a URL, and resumes after a restart', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const urls: string[] = [];
    const pageErrors: string[] = [];
    page.on('request', (r) => urls.push(r.url()));
    page.on('pageerror', (err) => pageErrors.push(err.message));
    try {
      await page.goto(`http://127.0.0.1:${port}/`);
      await page.waitForSelector('#login:not([hidden])');
      await page.fill('#token', API_TOKEN);
      await page.click('#login button');
      await page.waitForSelector('#connectors tbody td:text-is("wa")');
      const streams = () => urls.filter((u) => u.includes('/v1/stream?'));
      await expect.poll(() => streams().length, { timeout: 10_000 }).toBe(1);

      expect((await ingest('dashboard-1')).status).toBe(200);
      await expect.poll(() => tailTypes(page), { timeout: 10_000 }).toContain('message.created');
      const shown = (await tailTypes(page)).length;

      // The server restarts: the browser's own reconnect presents the used ticket and is refused;
      // the page takes a new ticket and resumes after the last event it showed.
      await sb?.close();
      sb = await serve(port, dir);
      expect((await ingest('dashboard-2')).status).toBe(200);
      await expect.poll(() => tailTypes(page), { timeout: 20_000 }).toHaveLength(shown * 2);
      expect((await tailTypes(page)).filter((t) => t === 'message.created')).toHaveLength(2);

      const opened = [...new Set(streams())].map((u) => new URL(u).searchParams);
      expect(opened.length).toBeGreaterThanOrEqual(2);
      for (const q of opened) expect(q.get('ticket')).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(opened.at(-1)?.get('after')).toMatch(/^\d{16}$/);
      expect(urls.filter((u) => u.includes(API_TOKEN) || u.includes('access_token'))).toEqual([]);
      expect(pageErrors).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
