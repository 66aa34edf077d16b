import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../../server/db/database';
import { startTracing, type Tracing } from '../../../server/tracing';
import { openTestDatabase } from '../../support/database';

/**
 * The spans of database queries, on PGlite: their statements, never their values; only inside
 * something traced. PostgreSQL's are seen through the app in test/server/tracing.test.ts.
 */
describe('query spans on PGlite', () => {
  const exporter = new InMemorySpanExporter();
  let tracing: Tracing;
  let database: Database;
  beforeAll(async () => {
    database = await openTestDatabase();
    tracing = startTracing({ serviceName: 'test', exporter });
  });
  afterAll(async () => {
    await tracing?.shutdown();
    await database?.close();
  });

  /** Runs `work` in a span of its own; returns the query spans it made. */
  async function within(work: () => Promise<unknown>) {
    exporter.reset();
    await trace.getTracer('test').startActiveSpan('unit of work', async (parent) => {
      await work().catch(() => {});
      parent.end();
    });
    await tracing.flush();
    const spans = exporter.getFinishedSpans();
    const parent = spans.find((span) => span.name === 'unit of work')!;
    return spans.filter((span) => span !== parent && span.parentSpanContext?.spanId === parent.spanContext().spanId);
  }

  it('names each query by its operation, with its parameterised statement and no value', async () => {
    const queries = await within(async () => {
      await database.db.execute(sql`SELECT ${'milonga-secret'}::text AS word`);
      await database.db.transaction(async (tx) => {
        await tx.execute(sql`SELECT ${'in-a-transaction'}::text AS word`);
      });
    });
    const selects = queries.filter((span) => span.name === 'SELECT');
    expect(selects).toHaveLength(2);
    for (const span of selects) {
      expect(span.kind).toBe(SpanKind.CLIENT);
      expect(span.attributes).toMatchObject({
        'db.system.name': 'postgresql',
        'db.operation.name': 'SELECT',
        'db.query.text': 'SELECT $1::text AS word',
      });
    }
    const text = JSON.stringify(queries.map((span) => span.attributes));
    expect(text).not.toContain('milonga-secret');
    expect(text).not.toContain('in-a-transaction');
  });

  it('marks a failed query with its SQLSTATE, never the message that quotes the value', async () => {
    const [failed] = await within(() => database.db.execute(sql`SELECT ${'not-a-uuid'}::uuid`));
    expect(failed!.status).toEqual({ code: SpanStatusCode.ERROR });
    expect(failed!.attributes).toMatchObject({ 'db.response.status_code': '22P02', 'error.type': '22P02' });
    expect(JSON.stringify([failed!.attributes, failed!.events])).not.toContain('not-a-uuid');
  });

  it('adds no span for a query outside anything traced (a background job)', async () => {
    exporter.reset();
    await database.db.execute(sql`SELECT 1`);
    await tracing.flush();
    expect(exporter.getFinishedSpans()).toEqual([]);
  });
});
