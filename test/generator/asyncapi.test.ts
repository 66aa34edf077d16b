import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { api } from '../../contracts';
import { listEvents } from '../../runtime/contract';

/** The AsyncAPI 3.0 document generated from the real-time contracts, as a reader of it relies on it. */
const doc = JSON.parse(readFileSync(join(process.cwd(), 'generated/asyncapi.json'), 'utf8')) as {
  asyncapi: string;
  channels: Record<string, { address: string; messages: Record<string, { $ref: string }> }>;
  operations: Record<string, { action: string; messages: { $ref: string }[]; reply?: { messages: { $ref: string }[] } }>;
  components: { messages: Record<string, { name: string; payload: unknown }>; schemas: Record<string, unknown> };
};

function resolve(ref: string): unknown {
  expect(ref.startsWith('#/')).toBe(true);
  return ref
    .slice(2)
    .split('/')
    .reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key.replaceAll('~1', '/').replaceAll('~0', '~')], doc);
}

function refsIn(value: unknown, found: string[] = []): string[] {
  if (Array.isArray(value)) value.forEach((v) => refsIn(v, found));
  else if (value && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) {
      if (key === '$ref' && typeof child === 'string') found.push(child);
      else refsIn(child, found);
    }
  }
  return found;
}

describe('generated AsyncAPI document', () => {
  it('is AsyncAPI 3.0 with one channel at the real-time path', () => {
    expect(doc.asyncapi).toBe('3.0.0');
    expect(Object.values(doc.channels).map((c) => c.address)).toEqual([api.realtime.path]);
  });

  it('has an operation per event: clients send with a reply (the ack), the server sends pushes', () => {
    const events = listEvents(api);
    for (const { exportName, event } of events) {
      const operation = doc.operations[exportName];
      expect(operation, exportName).toBeDefined();
      if (event.kind === 'client-event') {
        expect(operation!.action).toBe('receive');
        expect(operation!.reply?.messages).toHaveLength(1);
      } else {
        expect(operation!.action).toBe('send');
        expect(operation!.reply).toBeUndefined();
      }
      const message = resolve(operation!.messages[0]!.$ref.replace('#/channels/realtime/messages/', '#/components/messages/')) as {
        name: string;
      };
      expect(message.name).toBe(event.name.replace(':', '.'));
    }
    expect(Object.keys(doc.operations)).toHaveLength(events.length);
  });

  it('resolves every reference, and names shared schemas once', () => {
    for (const ref of refsIn(doc)) expect(resolve(ref), ref).toBeDefined();
    expect(Object.keys(doc.components.schemas)).toEqual(expect.arrayContaining(['Message', 'ReadReceipt', 'DeliveryReceipt', 'Presence']));
    expect(JSON.stringify(doc)).not.toContain('#/$defs/');
  });

  it('documents the ack of message:send with its error codes', () => {
    const ack = doc.components.messages['message.send.ack'] as {
      payload: { anyOf: { properties: { error?: { properties: { code: { enum: string[] } } } } }[] };
    };
    const failure = ack.payload.anyOf.find((branch) => branch.properties.error);
    expect(failure!.properties.error!.properties.code.enum).toEqual([
      'VALIDATION_FAILED',
      'INTERNAL',
      'FORBIDDEN',
      'NOT_FOUND',
      'CLIENT_KEY_REUSED',
      'CONVERSATION_READ_ONLY',
      'RATE_LIMITED',
    ]);
  });
});
