import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { api } from '../../contracts';
import { listEvents, rateLimitsOf } from '../../runtime/contract';

/** The AsyncAPI document states each client event's rate limit, as the OpenAPI document does an endpoint's. */
const doc = JSON.parse(readFileSync(join(process.cwd(), 'generated/asyncapi.json'), 'utf8')) as {
  servers: Record<string, { description: string }>;
  operations: Record<string, { description?: string }>;
  components: {
    messages: Record<string, { payload: { anyOf: { properties: { error?: { properties: { code: { enum: string[] } } } } }[] } }>;
  };
};

describe('rate limits and connection rules in the AsyncAPI document', () => {
  it('every client event states its limit, and its ack may be RATE_LIMITED', () => {
    for (const { exportName, event } of listEvents(api)) {
      if (event.kind !== 'client-event') continue;
      for (const limit of rateLimitsOf(event)) {
        expect(doc.operations[exportName]?.description, event.name).toContain(
          `Rate limit: ${limit.points} events per ${limit.windowSeconds} s per user`,
        );
      }
      const ack = doc.components.messages[`${event.name.replace(':', '.')}.ack`]!;
      const failure = ack.payload.anyOf.find((branch) => branch.properties.error);
      expect(failure!.properties.error!.properties.code.enum, event.name).toContain('RATE_LIMITED');
    }
    expect(doc.operations.queryPresence?.description).toContain('Rate limit: 30 events per 60 s per user');
  });

  it('says which handshake refusals there are and that a connection lasts as long as its token', () => {
    const { description } = Object.values(doc.servers)[0]!;
    for (const code of ['UNAUTHENTICATED', 'TOKEN_EXPIRED', 'TOO_MANY_CONNECTIONS', 'token:expired']) expect(description).toContain(code);
    expect(doc.operations.tokenExpired).toBeDefined();
  });
});
