/**
 * A real pino logger whose JSON lines are kept in memory, for tests that check what is logged.
 */
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';

export interface CapturedLogs {
  readonly logger: Logger;
  /** The raw text written so far (every line, as pino wrote it). */
  text(): string;
  /** The lines written so far, parsed. */
  lines(): Record<string, unknown>[];
}

export function captureLogs(level: pino.LevelWithSilent = 'debug'): CapturedLogs {
  let text = '';
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  const logger = pino({ level }, sink);
  return {
    logger,
    text: () => text,
    lines: () => text.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}
