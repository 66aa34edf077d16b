import { context, propagation, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import { AlwaysOnSampler, BatchSpanProcessor, ParentBasedSampler, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';

/** Tracing while it is on: `flush` sends what is buffered, `shutdown` flushes and turns it off again. */
export interface Tracing {
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

/**
 * Turns tracing on (a traces URL is configured, see otlpTracesUrl; main.ts does not load this module
 * when none is): a tracer provider registered for the whole process, whose spans are batched and sent
 * by OTLP over HTTP (JSON) to `url`; the W3C `traceparent` (and `baggage`) of
 * incoming requests is honoured, and the context follows async work (AsyncLocalStorage). The
 * exporter reads the other OTEL_EXPORTER_OTLP_* variables (headers, timeout, certificates), the
 * provider OTEL_TRACES_SAMPLER and its argument. Without OTEL_TRACES_SAMPLER every request is
 * recorded, whatever the caller's `traceparent` says: its trace is continued, but a client's
 * "not sampled" flag does not hide its requests from the operators (the SDK's default would obey it).
 * `exporter` replaces OTLP (tests).
 */
export function startTracing(options: { serviceName: string } & ({ url: string } | { exporter: SpanExporter })): Tracing {
  const exporter = 'exporter' in options ? options.exporter : new OTLPTraceExporter({ url: options.url });
  const provider = new NodeTracerProvider({
    resource: defaultResource().merge(resourceFromAttributes({ 'service.name': options.serviceName })),
    spanProcessors: [new BatchSpanProcessor(exporter)],
    ...(process.env.OTEL_TRACES_SAMPLER
      ? {}
      : { sampler: new ParentBasedSampler({ root: new AlwaysOnSampler(), remoteParentNotSampled: new AlwaysOnSampler() }) }),
  });
  provider.register();
  let stopped: Promise<void> | undefined;
  return {
    flush: () => provider.forceFlush(),
    shutdown() {
      stopped ??= provider.shutdown().finally(() => {
        // The API back to its no-ops: spans after this are not recorded (tests register again).
        trace.disable();
        context.disable();
        propagation.disable();
      });
      return stopped;
    },
  };
}
