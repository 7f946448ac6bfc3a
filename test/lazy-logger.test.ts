import { Writable } from 'node:stream';
import { pino } from 'pino';
import { expect, it } from 'vitest';
import { lazyChildLogger } from '../src/server/http/lazy-logger.js';

function capture(level: string) {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  const logger = pino({ level, redact: { paths: ['*.token'], censor: '[secret]' } }, stream);
  let children = 0;
  const child = logger.child.bind(logger);
  logger.child = ((...args: Parameters<typeof child>) => {
    children++;
    return child(...args);
  }) as typeof logger.child;
  return { logger, lines, children: () => children };
}

it('a request logger is made only when a line is written, with the request id and the redaction of the parent', async () => {
  const { logger, lines, children } = capture('warn');
  const factory = lazyChildLogger(logger);
  const quiet = factory(logger, { reqId: 'req-1' }, {});
  quiet.info('below the level');
  quiet.debug({ a: 1 }, 'below too');
  expect(children()).toBe(0);
  expect(quiet.level).toBe('warn');

  const loud = factory(logger, { reqId: 'req-2' }, {});
  loud.error({ config: { token: 'hunter2' } }, 'boom');
  loud.warn('again');
  await new Promise((r) => setImmediate(r));
  expect(children()).toBe(1);
  expect(lines).toEqual([
    expect.objectContaining({ level: 50, reqId: 'req-2', msg: 'boom', config: { token: '[secret]' } }),
    expect.objectContaining({ level: 40, reqId: 'req-2', msg: 'again' }),
  ]);
  // A route's own level gets a real child at once.
  factory(logger, { reqId: 'req-3' }, { level: 'debug' });
  expect(children()).toBe(2);
});
