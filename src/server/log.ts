/**
 * The server's pino options. Secrets and personal data never reach the log, whatever the level:
 * `redact` replaces them by `[secret]` or `[personal]` wherever a line carries them as fields
 * (docs/privacy.md). Messages themselves are written without them: a chat id in a message is
 * masked (`masked` in the GREEN-API connector), and no line quotes an event's data, a payload or
 * a quarantined body.
 */
import type { LoggerOptions } from 'pino';

/** Fields that hold a credential. */
const SECRET_FIELDS = ['apiToken', 'ingestToken', 'password', 'token', 'apiTokenInstance', 'secret', 'secrets'];

/** Fields that hold what a person said or who they are: phone numbers, chat ids, names, texts, payloads. */
const PERSONAL_FIELDS = ['phone', 'chatId', 'sender', 'senderName', 'contactName', 'text', 'textMessage', 'caption', 'raw', 'payload', 'data'];

const both = (fields: readonly string[]) => fields.flatMap((f) => [f, `*.${f}`]);

/** Every path pino redacts, and what it writes instead. */
export const REDACT_PATHS: readonly string[] = ['req.headers.authorization', 'req.headers.cookie', ...both(SECRET_FIELDS), ...both(PERSONAL_FIELDS)];

const SECRET = new Set(SECRET_FIELDS);

export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    redact: {
      paths: [...REDACT_PATHS],
      censor: (_value: unknown, path: string[]) => (SECRET.has(path[path.length - 1] ?? '') || path[0] === 'req' ? '[secret]' : '[personal]'),
    },
  };
}
