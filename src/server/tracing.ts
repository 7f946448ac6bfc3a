/**
 * OpenTelemetry tracing (issue 18), off by default. One trace follows a payload: the ingest (an
 * HTTP request, continuing the sender's W3C `traceparent` when it sends one; or a batch of a
 * pulled connector or of `sb.ingest()`), its normalization, its wait for the durable commit, and
 * then each delivery attempt of each of its events to each webhook — which may come minutes
 * later, from the outbox. What joins them is the event itself: it carries the ingest span's
 * context as the CloudEvents distributed-tracing extension attribute `traceparent`, and the
 * delivery attempt continues that trace and sends its own `traceparent` header to the receiver.
 *
 * Spans are exported over OTLP/HTTP (`@opentelemetry/exporter-trace-otlp-http`) in batches;
 * contexts are handed from span to span explicitly (no global context manager, no global
 * provider: the library never changes the host process's OpenTelemetry set-up). The server loads
 * this module only when tracing is on (`import()` in `switchboard.ts`); everything else refers to
 * it by type, so that a server without tracing does not carry OpenTelemetry in its memory.
 */
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, defaultTextMapGetter, defaultTextMapSetter, trace, type Attributes, type Context, type Span, type Tracer, type TracerProvider } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';

export interface TracingConfig {
  readonly enabled: boolean;
  /** OTLP/HTTP traces URL; absent: the exporter's own default (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, `OTEL_EXPORTER_OTLP_ENDPOINT`, else http://localhost:4318/v1/traces). */
  readonly endpoint?: string | undefined;
  /** Extra headers of the export requests (a collector's API key). */
  readonly headers?: Readonly<Record<string, string>> | undefined;
  readonly serviceName: string;
  /** The share of new traces recorded (0..1); a trace the sender started follows the sender's decision. */
  readonly sampleRatio: number;
}

export type { Attributes, Context, Span };

/** What kind of span: an incoming request, an outgoing one, or work inside. */
export type Kind = 'server' | 'client' | 'internal';
const KINDS: Readonly<Record<Kind, SpanKind>> = { server: SpanKind.SERVER, client: SpanKind.CLIENT, internal: SpanKind.INTERNAL };

const propagator = new W3CTraceContextPropagator();

/** Header-like carriers: Node's incoming headers, or a plain record. */
type Carrier = Readonly<Record<string, string | string[] | undefined>>;

export class Tracing {
  readonly tracer: Tracer;

  constructor(
    provider: TracerProvider,
    version: string,
    private readonly owned?: BasicTracerProvider,
  ) {
    this.tracer = provider.getTracer('switchboard', version);
  }

  /** Tracing from the config, or `undefined` when it is off (every caller then skips its spans). */
  static fromConfig(config: TracingConfig, version: string, provider?: TracerProvider): Tracing | undefined {
    if (provider) return new Tracing(provider, version);
    if (!config.enabled) return undefined;
    const exporter = new OTLPTraceExporter({ ...(config.endpoint === undefined ? {} : { url: config.endpoint }), ...(config.headers === undefined ? {} : { headers: { ...config.headers } }) });
    const owned = new BasicTracerProvider({
      resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: config.serviceName, [ATTR_SERVICE_VERSION]: version }),
      sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(config.sampleRatio) }),
      spanProcessors: [new BatchSpanProcessor(exporter)],
    });
    return new Tracing(owned, version, owned);
  }

  /** A span under `parent` (root when absent). */
  start(name: string, kind: Kind, attributes: Attributes, parent: Context = ROOT_CONTEXT): Span {
    return this.tracer.startSpan(name, { kind: KINDS[kind], attributes }, parent);
  }

  /** The context whose parent is `span`. */
  contextWith(span: Span, parent: Context = ROOT_CONTEXT): Context {
    return trace.setSpan(parent, span);
  }

  /** The W3C `traceparent` of a context (`00-<trace id>-<span id>-<flags>`), or `undefined` when it holds no valid span. */
  traceparentOf(ctx: Context): string | undefined {
    const carrier: Record<string, string> = {};
    propagator.inject(ctx, carrier, defaultTextMapSetter);
    return carrier.traceparent;
  }

  /** Ends a span, with an error status when `err` is given. */
  end(span: Span, err?: unknown): void {
    if (err !== undefined) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
      if (err instanceof Error) span.recordException(err);
    }
    span.end();
  }

  /** The context of a received W3C `traceparent`/`tracestate` (HTTP headers, an event), or the root. */
  extract(carrier: Carrier | undefined): Context {
    return carrier ? propagator.extract(ROOT_CONTEXT, carrier, defaultTextMapGetter) : ROOT_CONTEXT;
  }

  /** Sends the export queue on its way and stops (the server's close). */
  async shutdown(): Promise<void> {
    await this.owned?.shutdown();
  }
}
