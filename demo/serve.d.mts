/** Types of `serve.mjs` for the tests. */
export interface DemoOptions {
  /** The Switchboard server's base URL; without it nothing is forwarded. */
  server?: string;
  /** The widget connector's ingest token. */
  token?: string;
  connector?: string;
  scenario?: string;
  host?: string;
  /** Post to `server` itself (needs CORS on the server) instead of through the app origin's `/sb/`. */
  direct?: boolean;
  /** The page's forwarder `flushMs`. */
  flushMs?: number;
  /** The app origin's port; default any free one. */
  port?: number;
}

export interface Demo {
  readonly appOrigin: string;
  readonly widgetOrigin: string;
  readonly foreignOrigin: string;
  /** The page's URL; `extra` overrides query parameters (e.g. `{ flushMs: 600000 }`). */
  pageUrl(extra?: Record<string, string | number>): string;
  close(): Promise<void>;
}

export function startDemo(options?: DemoOptions): Promise<Demo>;
