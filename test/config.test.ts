import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../src/core/index.js';
import { loadConfigFile, resolveConfig } from '../src/server/config.js';

function issuesOf(fn: () => unknown): { path: string; expected: string; found: string }[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return [...(err as ConfigError).issues];
  }
  throw new Error('expected a ConfigError');
}

function writeTemp(name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'sb-config-'));
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

describe('config', () => {
  it('has embedded defaults: port 8080, SQLite under ./data, full durability, no connectors', () => {
    const c = resolveConfig({}, { env: {} });
    expect(c.server.port).toBe(8080);
    expect(c.store.sqlite).toMatch(/data\/switchboard\.db$/);
    expect(c.store.durability).toBe('full');
    expect(c.connectors).toBeUndefined();
  });

  it('substitutes ${ENV} and ${ENV:-default} in YAML', () => {
    const file = writeTemp(
      'sb.yaml',
      ['server: { port: "${PORT}", apiToken: "${TOKEN}" }', 'connectors:', '  - { id: wa-main, platform: greenapi, ingestToken: "${WA_TOKEN:-fallback-token}" }'].join('\n'),
    );
    const c = loadConfigFile(file, { env: { PORT: '9090', TOKEN: 'api-token-123' } });
    expect(c.server.port).toBe(9090);
    expect(c.server.apiToken).toBe('api-token-123');
    expect(c.connectors?.[0]).toMatchObject({ id: 'wa-main', platform: 'greenapi', ingestToken: 'fallback-token' });
  });

  it('reads JSON too', () => {
    const file = writeTemp('sb.json', JSON.stringify({ server: { port: 1234 }, connectors: [{ id: 'a', platform: 'greenapi', ingestToken: 'xxxxxxxxxx' }] }));
    expect(loadConfigFile(file, { env: {} }).server.port).toBe(1234);
  });

  it('names the key path, what was expected and what was found, for every error at once', () => {
    const issues = issuesOf(() =>
      resolveConfig(
        {
          server: { port: 'eighty', colour: 'blue' },
          store: { durability: 'sometimes' },
          connectors: [
            { id: 'ok', platform: 'greenapi', ingestToken: 'long-enough-token' },
            { id: 'bad', platform: 'greenapi', polling: { apiUrl: 'https://api.green-api.com', idInstance: true, apiTokenInstance: 'x' } },
            { id: 'ok', platform: 'telegram' },
          ],
        },
        { env: {} },
      ),
    );
    const byPath = Object.fromEntries(issues.map((i) => [i.path, i]));
    expect(byPath['server.port']).toMatchObject({ found: 'string "eighty"' });
    expect(byPath['server.port']?.expected).toMatch(/number|integer/);
    expect(byPath.server).toMatchObject({ found: 'key "colour"' });
    expect(byPath['store.durability']).toMatchObject({ expected: 'one of "full", "normal"', found: 'string "sometimes"' });
    expect(byPath['connectors[1].polling.idInstance']).toMatchObject({ found: 'boolean true' });
    expect(byPath['connectors[2].id']?.expected).toContain('no other connector');
    expect(byPath['connectors[2].platform']).toMatchObject({ found: 'string "telegram"' });
    expect(byPath['connectors[2].platform']?.expected).toContain('"greenapi"');
  });

  it('reports a misspelt platform, duplicate ids and a bad port in one pass, with the other errors of the same entries and sections', () => {
    const issues = issuesOf(() =>
      resolveConfig(
        {
          server: { port: 70000 },
          store: { sqlite: './a.db', postgres: 'mysql://u:p@db/x' },
          connectors: [
            { id: 'wa', platform: 'greenap', callRecords: 'sometimes' },
            { id: 'wa', platform: 'widget', language: 'de', colour: 'blue' },
            { id: 'tw', platform: 'twin', callRecords: 'never', auth: { email: 'op@example.com' } },
          ],
          subscriptions: [
            { id: 's1', url: 'https://example.com/hook', mode: 'sideways' },
            { id: 's1', url: 'http://127.0.0.1/hook' },
          ],
        },
        { env: { SWITCHBOARD_PORT: 'x' } },
      ),
    );
    const paths = issues.map((i) => i.path);
    for (const path of [
      'server.port',
      'store',
      'store.postgres',
      'connectors[0].platform',
      'connectors[0].callRecords',
      'connectors[1].id',
      'connectors[1].language',
      'connectors[1]',
      'connectors[2].callRecords',
      'connectors[2].auth.password',
      'subscriptions[0].mode',
      'subscriptions[1].id',
      'subscriptions[1].url',
      'SWITCHBOARD_PORT',
    ]) {
      expect(paths, path).toContain(path);
    }
    const byPath = Object.fromEntries(issues.map((i) => [i.path, i]));
    expect(byPath['connectors[0].platform']?.found).toContain('"greenap"');
    expect(byPath['connectors[0].platform']?.expected).toContain('did you mean "greenapi"');
    expect(byPath['connectors[1]']).toMatchObject({ found: 'key "colour"' });
  });

  it('picks the union branch that fits: a TWIN login without its password says auth.password is missing', () => {
    const twin = (auth: unknown) => issuesOf(() => resolveConfig({ connectors: [{ id: 'tw', platform: 'twin', auth }] }, { env: {} }));
    expect(twin({ email: 'op@example.com' })).toEqual([{ path: 'connectors[0].auth.password', expected: 'string', found: 'nothing' }]);
    expect(twin({ token: '' })).toEqual([{ path: 'connectors[0].auth.token', expected: 'length >= 1', found: 'a string of 0 characters (not shown: a secret)' }]);
    expect(twin({ email: 'op@example.com', password: 'pw', iamUrl: 'ftp://x' })[0]?.path).toBe('connectors[0].auth.iamUrl');
    const none = twin({});
    expect(none).toHaveLength(1);
    expect(none[0]).toMatchObject({ path: 'connectors[0].auth', found: 'an object with no keys' });
    expect(none[0]?.expected).toMatch(/\{ token \}.*\{ email, password \}/);
    expect(twin('secret')[0]).toMatchObject({ path: 'connectors[0].auth', expected: 'object', found: 'string "secret"' });
    for (const list of [twin({ email: 'op@example.com' }), none, twin('secret')]) expect(JSON.stringify(list)).not.toContain('allowed shapes');
  });

  it('takes GREEN-API idInstance as a YAML number or a string', () => {
    const file = writeTemp(
      'wa.yaml',
      ['connectors:', '  - { id: n, platform: greenapi, polling: { apiUrl: "https://api.green-api.com", idInstance: 1101000001, apiTokenInstance: "t" } }', '  - { id: s, platform: greenapi, polling: { apiUrl: "https://api.green-api.com", idInstance: "1101000002", apiTokenInstance: "t" } }'].join('\n'),
    );
    const c = loadConfigFile(file, { env: {} });
    expect(c.connectors?.map((x) => (x.settings.polling as { idInstance: unknown }).idInstance)).toEqual(['1101000001', '1101000002']);
    const bad = issuesOf(() => resolveConfig({ connectors: [{ id: 'n', platform: 'greenapi', polling: { apiUrl: 'https://x.example', idInstance: 11.5, apiTokenInstance: 't' } }] }, { env: {} }));
    expect(bad[0]?.path).toBe('connectors[0].polling.idInstance');
  });

  it('puts every problem in the message', () => {
    try {
      resolveConfig({ server: { port: -1 }, connectors: [{ platform: 'greenapi' }] }, { env: {} });
      throw new Error('no error');
    } catch (err) {
      const msg = (err as Error).message;
      expect(msg).toContain('server.port: expected >= 0, found number -1');
      expect(msg).toContain('connectors[0].id: expected string, found nothing');
    }
  });

  it('takes callRecords and language on every connector, with defaults all and ru', () => {
    const c = resolveConfig({ connectors: [{ id: 'a', platform: 'greenapi' }, { id: 'b', platform: 'widget', callRecords: 'offer-only', language: 'en' }] }, { env: {} });
    expect(c.connectors?.map((x) => [x.callRecords, x.language])).toEqual([['all', 'ru'], ['offer-only', 'en']]);
    const issues = issuesOf(() => resolveConfig({ connectors: [{ id: 'a', platform: 'greenapi', callRecords: 'some', language: 'de' }] }, { env: {} }));
    expect(issues.map((i) => i.path).sort()).toEqual(['connectors[0].callRecords', 'connectors[0].language']);
  });

  it('reports an unset environment variable at its key path', () => {
    const issues = issuesOf(() => resolveConfig({ connectors: [{ id: 'wa', platform: 'greenapi', ingestToken: '${WA_INGEST_TOKEN}' }] }, { env: {} }));
    expect(issues).toContainEqual({ path: 'connectors[0].ingestToken', expected: 'environment variable WA_INGEST_TOKEN to be set', found: 'it unset' });
  });

  it('reports YAML syntax errors with the line', () => {
    const file = writeTemp('bad.yaml', 'server:\n  port: [1, 2\n');
    const issues = issuesOf(() => loadConfigFile(file, { env: {} }));
    expect(issues[0]?.path).toMatch(/bad\.yaml:\d+:\d+/);
    expect(issues[0]?.expected).toBe('valid YAML or JSON');
  });

  it('reports a missing file', () => {
    const issues = issuesOf(() => loadConfigFile('/nonexistent/sb.yaml', { env: {} }));
    expect(issues[0]).toMatchObject({ expected: 'a readable config file at /nonexistent/sb.yaml', found: 'ENOENT' });
  });

  it('lets --port and SWITCHBOARD_PORT override the file; refuses a bad SWITCHBOARD_PORT', () => {
    expect(resolveConfig({ server: { port: 1 } }, { env: { SWITCHBOARD_PORT: '2' } }).server.port).toBe(2);
    expect(resolveConfig({ server: { port: 1 } }, { env: { SWITCHBOARD_PORT: '2' }, port: 3 }).server.port).toBe(3);
    expect(issuesOf(() => resolveConfig({}, { env: { SWITCHBOARD_PORT: 'x' } }))[0]?.path).toBe('SWITCHBOARD_PORT');
  });

  it('takes a PostgreSQL store from the file or from SWITCHBOARD_POSTGRES_URL, and refuses what is not a PostgreSQL URL without showing its password', () => {
    expect(resolveConfig({ store: { postgres: 'postgres://sb:pw@db:5432/sb' } }, { env: {} }).store).toEqual({ postgres: 'postgres://sb:pw@db:5432/sb', durability: 'full', leaseTtl: 10_000 });
    expect(resolveConfig({}, { env: { SWITCHBOARD_POSTGRES_URL: 'postgresql://db/sb' }, dataDir: '/d' }).store).toEqual({ postgres: 'postgresql://db/sb', durability: 'full', leaseTtl: 10_000 });
    // The file's sqlite wins over the environment's PostgreSQL.
    expect(resolveConfig({ store: { sqlite: '/x.db' } }, { env: { SWITCHBOARD_POSTGRES_URL: 'postgresql://db/sb' } }).store).toEqual({ sqlite: '/x.db', durability: 'full', leaseTtl: 10_000 });
    expect(resolveConfig({}, { env: {}, dataDir: '/d' }).store.sqlite).toBe('/d/switchboard.db');
    const issues = issuesOf(() => resolveConfig({ store: { postgres: 'mysql://sb:hunter2@db/sb' } }, { env: {} }));
    expect(issues).toEqual([{ path: 'store.postgres', expected: 'a PostgreSQL URL: postgres://user:password@host:5432/database', found: expect.stringContaining('mysql://sb:') }]);
    expect(JSON.stringify(issues)).not.toContain('hunter2');
    expect(issuesOf(() => resolveConfig({}, { env: { SWITCHBOARD_POSTGRES_URL: 'db:5432' } }))[0]?.path).toBe('SWITCHBOARD_POSTGRES_URL');
    // The leases' time to live: a duration from 2 s to 5 min.
    expect(resolveConfig({ store: { postgres: 'postgres://db/sb', leaseTtl: '3s' } }, { env: {} }).store.leaseTtl).toBe(3_000);
    expect(issuesOf(() => resolveConfig({ store: { leaseTtl: '500ms' } }, { env: {} }))).toEqual([{ path: 'store.leaseTtl', expected: 'a duration from 2s to 5m', found: expect.any(String) }]);
  });
});
