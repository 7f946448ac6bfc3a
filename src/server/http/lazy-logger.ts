/**
 * Fastify gives every request a child logger bound to its id. With pino's `redact` configured, a
 * child costs a pass of the redaction over its bindings — about 2 KiB of garbage and a share of
 * the CPU per request (bench: `@pinojs/redact` was the third allocation site of B1) — though at
 * the default levels most requests never log a line. This child is created on the first line
 * that would be written, with the same bindings and options; until then the request's logger is
 * this small object.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Logger } from 'pino';

type Bindings = Parameters<FastifyBaseLogger['child']>[0];
type ChildOptions = Parameters<FastifyBaseLogger['child']>[1];
type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

class LazyChild {
  private made: FastifyBaseLogger | undefined;

  constructor(
    private readonly parent: Logger,
    private readonly bindings: Bindings,
    private readonly options: ChildOptions,
  ) {}

  private get real(): FastifyBaseLogger {
    this.made ??= this.parent.child(this.bindings, this.options);
    return this.made;
  }

  private write(level: Level, args: unknown[]): void {
    if (!this.made && !this.parent.isLevelEnabled(level)) return;
    (this.real[level] as (...a: unknown[]) => void)(...args);
  }

  get level(): string {
    return this.made?.level ?? this.parent.level;
  }

  set level(level: string) {
    this.real.level = level;
  }

  fatal(...args: unknown[]): void {
    this.write('fatal', args);
  }
  error(...args: unknown[]): void {
    this.write('error', args);
  }
  warn(...args: unknown[]): void {
    this.write('warn', args);
  }
  info(...args: unknown[]): void {
    this.write('info', args);
  }
  debug(...args: unknown[]): void {
    this.write('debug', args);
  }
  trace(...args: unknown[]): void {
    this.write('trace', args);
  }
  silent(): void {}

  child(bindings: Bindings, options?: ChildOptions): FastifyBaseLogger {
    return this.real.child(bindings, options);
  }
}

/**
 * Fastify's `childLoggerFactory`: a request logger made on first use. A route's own log level
 * (`opts.level`) gets a real child at once.
 */
export function lazyChildLogger(parent: Logger): (logger: FastifyBaseLogger, bindings: Bindings, options: ChildOptions) => FastifyBaseLogger {
  return (_logger, bindings, options) => (options?.level !== undefined ? parent.child(bindings, options) : (new LazyChild(parent, bindings, options) as unknown as FastifyBaseLogger));
}
