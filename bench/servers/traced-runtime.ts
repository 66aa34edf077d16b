import { startTracing } from '../../server/tracing';

/**
 * bench/servers/runtime.ts with tracing on, as `npm start` turns it on (server/tracing.ts): every
 * request a span, batched and sent by OTLP/HTTP to BENCH_OTLP_URL (a collector stub of the
 * runner's). OTEL_TRACES_SAMPLER, read by the SDK, can make it sample.
 */
startTracing({ url: process.env.BENCH_OTLP_URL!, serviceName: 'bench' });
await import('./runtime');
