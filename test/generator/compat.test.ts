import { describe, expect, it } from 'vitest';
import { compareSurfaces, type Change } from '../../generator/compat';
import { surfaceOf } from '../../generator/surface';

/**
 * The breaking-change rules, one case each, on a small spec: `base` is what was published, each
 * case edits a copy of it as a contract change would, and names the rule it must meet.
 */
// biome-ignore lint/suspicious/noExplicitAny: a spec edited in place, as free-form JSON.
type Doc = Record<string, any>;
const TODAY = '2026-12-03';

function base(): Doc {
  return {
    openapi: '3.1.0',
    info: { title: 't', version: '1' },
    components: {
      schemas: {
        Kind: { type: 'string', enum: ['milonga', 'practica'] },
        Event: {
          type: 'object',
          properties: {
            id: { type: 'string', format: 'uuid' },
            title: { type: 'string', maxLength: 200 },
            kind: { $ref: '#/components/schemas/Kind' },
            venue: { type: ['string', 'null'] },
            place: { allOf: [{ $ref: '#/components/schemas/Venue' }, { type: ['object', 'null'] }] },
          },
          required: ['id', 'title', 'kind'],
          additionalProperties: false,
        },
        Venue: { type: 'object', properties: { name: { type: 'string', maxLength: 100 } }, required: ['name'] },
        NewEvent: {
          type: 'object',
          properties: {
            place: { allOf: [{ $ref: '#/components/schemas/Venue' }, { type: ['object', 'null'] }] },
            title: { type: 'string', minLength: 1, maxLength: 200 },
            kind: { $ref: '#/components/schemas/Kind' },
            capacity: { type: 'integer', minimum: 1, maximum: 10000 },
          },
          required: ['title'],
          additionalProperties: false,
        },
      },
      responses: {
        NotFound: {
          description: 'no',
          content: {
            'application/problem+json': {
              schema: { type: 'object' },
              examples: { NOT_FOUND: { value: { code: 'NOT_FOUND' } }, GONE_AWAY: { value: { code: 'GONE_AWAY' } } },
            },
          },
        },
      },
    },
    paths: {
      '/api/v1/events': {
        get: {
          operationId: 'listEvents',
          security: [],
          parameters: [
            { name: 'city', in: 'query', required: false, schema: { type: 'string', maxLength: 100 } },
            { name: 'kind', in: 'query', required: false, schema: { $ref: '#/components/schemas/Kind' } },
          ],
          responses: {
            200: {
              description: 'ok',
              headers: { Link: { schema: { type: 'string' } } },
              content: { 'application/json': { schema: { type: 'array', items: { $ref: '#/components/schemas/Event' } } } },
            },
          },
        },
        post: {
          operationId: 'createEvent',
          security: [{ bearerAuth: [] }],
          'x-rate-limit': [{ name: 'createEvent', points: 60, windowSeconds: 3600, key: ['body.title', 'user'], failuresOnly: true }],
          requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/NewEvent' } } } },
          responses: {
            201: { description: 'ok', content: { 'application/json': { schema: { $ref: '#/components/schemas/Event' } } } },
            404: { $ref: '#/components/responses/NotFound' },
          },
        },
      },
      '/api/v1/admin/stats': {
        get: {
          operationId: 'getStats',
          security: [{ bearerAuth: [] }],
          'x-roles': ['admin', 'moderator'],
          responses: { 200: { description: 'ok', content: { 'application/json': { schema: { type: 'object' } } } } },
        },
      },
    },
  };
}

function diff(edit: (doc: Doc) => void, today = TODAY): Change[] {
  const after = base();
  edit(after);
  return compareSurfaces(surfaceOf(base()), surfaceOf(after), today);
}

const breaking = (changes: Change[]) => changes.filter((c) => c.kind === 'breaking').map((c) => c.rule);
const compatible = (changes: Change[]) => changes.filter((c) => c.kind === 'compatible').map((c) => c.rule);
const schemas = (doc: Doc) => doc.components.schemas;
const listEvents = (doc: Doc) => doc.paths['/api/v1/events'].get;
const createEvent = (doc: Doc) => doc.paths['/api/v1/events'].post;

describe('the breaking-change rules', () => {
  it('an unchanged spec has no change, and prose or a schema moved to components is none', () => {
    expect(diff(() => {})).toEqual([]);
    const moved = diff((doc) => {
      listEvents(doc).description = 'Now described';
      schemas(doc).Event.properties.title.description = 'The title';
      createEvent(doc).requestBody.content['application/json'].schema = structuredClone(schemas(doc).NewEvent);
      createEvent(doc).requestBody.content['application/json'].schema.properties.kind = structuredClone(schemas(doc).Kind);
    });
    expect(moved).toEqual([]);
  });

  it.each<[string, (doc: Doc) => void, string]>([
    ['an operation removed', (doc) => delete doc.paths['/api/v1/admin/stats'], 'operation-removed'],
    ['an operation renamed (the client method changes)', (doc) => (listEvents(doc).operationId = 'findEvents'), 'operation-renamed'],
    ['a response field removed', (doc) => delete schemas(doc).Event.properties.venue, 'response-field-removed'],
    ['a required response field made optional', (doc) => (schemas(doc).Event.required = ['id', 'kind']), 'response-field-optional'],
    [
      'a response field that may now be null',
      (doc) => (schemas(doc).Event.properties.title.type = ['string', 'null']),
      'response-type-widened',
    ],
    [
      'an enum value added to a response',
      (doc) => (schemas(doc).Event.properties.kind = { type: 'string', enum: ['milonga', 'practica', 'festival'] }),
      'response-enum-value-added',
    ],
    ['a response bound raised', (doc) => (schemas(doc).Event.properties.title.maxLength = 500), 'limit-raised'],
    ['a request field narrowed in type', (doc) => (schemas(doc).NewEvent.properties.title.type = 'integer'), 'request-type-narrowed'],
    ['a request string shortened', (doc) => (schemas(doc).NewEvent.properties.title.maxLength = 100), 'limit-lowered'],
    ['a request minimum raised', (doc) => (schemas(doc).NewEvent.properties.capacity.minimum = 2), 'limit-lowered'],
    [
      'a pattern imposed on a request field',
      (doc) => (schemas(doc).NewEvent.properties.title.pattern = '^[A-Z]'),
      'request-pattern-changed',
    ],
    [
      'an enum value removed from a request',
      (doc) => (listEvents(doc).parameters[1].schema = { type: 'string', enum: ['milonga'] }),
      'request-enum-value-removed',
    ],
    [
      'a new required body field',
      (doc) => {
        schemas(doc).NewEvent.properties.city = { type: 'string' };
        schemas(doc).NewEvent.required = ['title', 'city'];
      },
      'request-input-required',
    ],
    ['an optional body field made required', (doc) => (schemas(doc).NewEvent.required = ['title', 'kind']), 'request-input-required'],
    [
      'a new required query parameter',
      (doc) => listEvents(doc).parameters.push({ name: 'country', in: 'query', required: true, schema: { type: 'string' } }),
      'request-input-required',
    ],
    [
      'a new required header',
      (doc) => listEvents(doc).parameters.push({ name: 'X-Tenant', in: 'header', required: true, schema: { type: 'string' } }),
      'request-input-required',
    ],
    ['a query parameter no longer accepted', (doc) => listEvents(doc).parameters.splice(0, 1), 'request-input-removed'],
    [
      'a body field no longer accepted by a closed object',
      (doc) => delete schemas(doc).NewEvent.properties.capacity,
      'request-input-removed',
    ],
    ['a documented status removed', (doc) => delete createEvent(doc).responses[404], 'status-removed'],
    [
      'the success status changed',
      (doc) => {
        createEvent(doc).responses[200] = createEvent(doc).responses[201];
        delete createEvent(doc).responses[201];
      },
      'status-removed',
    ],
    [
      'a documented error code removed',
      (doc) => delete doc.components.responses.NotFound.content['application/problem+json'].examples.GONE_AWAY,
      'error-code-removed',
    ],
    ['a response header no longer sent', (doc) => delete listEvents(doc).responses[200].headers.Link, 'response-header-removed'],
    ['authentication now required', (doc) => (listEvents(doc).security = [{ bearerAuth: [] }]), 'auth-tightened'],
    ['a role required where any user was enough', (doc) => (createEvent(doc)['x-roles'] = ['organizer']), 'auth-tightened'],
    ['a role that granted it no longer does', (doc) => (doc.paths['/api/v1/admin/stats'].get['x-roles'] = ['admin']), 'auth-tightened'],
    ['a rate limit lowered', (doc) => (createEvent(doc)['x-rate-limit'][0].points = 30), 'limit-lowered'],
    ['a rate limit over a longer window', (doc) => (createEvent(doc)['x-rate-limit'][0].windowSeconds = 7200), 'limit-lowered'],
    [
      'a rate limit counting every request where it counted refusals',
      (doc) => {
        delete createEvent(doc)['x-rate-limit'][0].failuresOnly;
      },
      'limit-lowered',
    ],
    ['a rate limit over a coarser key', (doc) => (createEvent(doc)['x-rate-limit'][0].key = ['user']), 'limit-lowered'],
    [
      'a new required field inside a nullable named schema (allOf [$ref, null], as zod-to-openapi writes one)',
      (doc) => {
        schemas(doc).Venue.properties.country = { type: 'string' };
        schemas(doc).Venue.required = ['name', 'country'];
      },
      'request-input-required',
    ],
    [
      'a request bound lowered inside a nullable named schema',
      (doc) => (schemas(doc).Venue.properties.name.maxLength = 10),
      'limit-lowered',
    ],
    [
      'a rate limit where there was none',
      (doc) => (listEvents(doc)['x-rate-limit'] = [{ name: 'listEvents', points: 600, windowSeconds: 60 }]),
      'limit-lowered',
    ],
  ])('%s is breaking', (_what, edit, rule) => {
    const changes = diff(edit);
    expect(breaking(changes)).toContain(rule);
    // Each change names its operation.
    for (const change of changes) expect(change.operation).toMatch(/^(GET|POST) \/api\/v1\/\S+ \(\w+\)$/);
  });

  it.each<[string, (doc: Doc) => void, string]>([
    [
      'a new operation',
      (doc) => (doc.paths['/api/v1/events/{id}'] = { get: { operationId: 'getEvent', responses: {} } }),
      'operation-added',
    ],
    ['a new response field', (doc) => (schemas(doc).Event.properties.city = { type: 'string' }), 'response-field-added'],
    [
      'a new optional field inside a nullable named schema',
      (doc) => (schemas(doc).Venue.properties.note = { type: 'string' }),
      'response-field-added',
    ],
    ['a new optional body field', (doc) => (schemas(doc).NewEvent.properties.city = { type: 'string' }), 'request-field-added'],
    [
      'a new optional query parameter',
      (doc) => listEvents(doc).parameters.push({ name: 'country', in: 'query', schema: { type: 'string' } }),
      'request-input-added',
    ],
    ['a required body field made optional', (doc) => (schemas(doc).NewEvent.required = []), 'request-field-optional'],
    [
      'an enum value added to a request',
      (doc) => (listEvents(doc).parameters[1].schema = { type: 'string', enum: ['milonga', 'practica', 'vals'] }),
      'request-enum-value-added',
    ],
    [
      'an enum value removed from a response',
      (doc) => (schemas(doc).Event.properties.kind = { type: 'string', enum: ['milonga'] }),
      'response-enum-value-removed',
    ],
    ['a request string lengthened', (doc) => (schemas(doc).NewEvent.properties.title.maxLength = 500), 'limit-raised'],
    ['a response field no longer null', (doc) => (schemas(doc).Event.properties.venue.type = 'string'), 'response-type-narrowed'],
    ['a new status', (doc) => (createEvent(doc).responses[409] = { description: 'conflict' }), 'status-added'],
    [
      'a new response header',
      (doc) => (listEvents(doc).responses[200].headers.ETag = { schema: { type: 'string' } }),
      'response-header-added',
    ],
    [
      'a new error code',
      (doc) => (doc.components.responses.NotFound.content['application/problem+json'].examples.MOVED = { value: { code: 'MOVED' } }),
      'error-code-added',
    ],
    ['authentication made optional', (doc) => (createEvent(doc).security = [{}, { bearerAuth: [] }]), 'auth-loosened'],
    [
      'one more role grants it',
      (doc) => (doc.paths['/api/v1/admin/stats'].get['x-roles'] = ['admin', 'moderator', 'support']),
      'auth-loosened',
    ],
    ['a rate limit raised', (doc) => (createEvent(doc)['x-rate-limit'][0].points = 120), 'limit-raised'],
    [
      'a deprecation',
      (doc) => {
        listEvents(doc).deprecated = true;
        listEvents(doc)['x-sunset'] = '2027-06-01';
      },
      'deprecated',
    ],
    [
      'a version 2 served beside version 1',
      (doc) => (doc.paths['/api/v2/events'] = { get: { operationId: 'listEventsV2', responses: {} } }),
      'operation-added',
    ],
  ])('%s is compatible', (_what, edit, rule) => {
    const changes = diff(edit);
    expect(breaking(changes)).toEqual([]);
    expect(compatible(changes)).toContain(rule);
  });

  it('a deprecated operation may go once its sunset has passed, not before', () => {
    const published = base();
    published.paths['/api/v1/admin/stats'].get.deprecated = true;
    published.paths['/api/v1/admin/stats'].get['x-sunset'] = '2026-11-30';
    const removed = base();
    delete removed.paths['/api/v1/admin/stats'];
    const after = compareSurfaces(surfaceOf(published), surfaceOf(removed), '2026-12-01');
    expect(after.map((c) => [c.kind, c.rule])).toEqual([['compatible', 'operation-retired']]);
    const before = compareSurfaces(surfaceOf(published), surfaceOf(removed), '2026-11-29');
    expect(breaking(before)).toEqual(['operation-removed']);
  });

  it('a sunset moved earlier is breaking', () => {
    const published = base();
    listEvents(published).deprecated = true;
    listEvents(published)['x-sunset'] = '2027-06-01';
    const sooner = structuredClone(published);
    listEvents(sooner)['x-sunset'] = '2027-01-01';
    expect(breaking(compareSurfaces(surfaceOf(published), surfaceOf(sooner), TODAY))).toEqual(['sunset-earlier']);
  });

  it('a recursive schema is compared without looping, and a change inside it is found', () => {
    const tree = (extra: Doc) => {
      const doc = base();
      schemas(doc).Comment = {
        type: 'object',
        properties: { text: { type: 'string', ...extra }, replies: { type: 'array', items: { $ref: '#/components/schemas/Comment' } } },
        required: ['text', 'replies'],
      };
      listEvents(doc).responses[200].content['application/json'].schema = { $ref: '#/components/schemas/Comment' };
      return doc;
    };
    expect(compareSurfaces(surfaceOf(tree({})), surfaceOf(tree({})), TODAY)).toEqual([]);
    const changes = compareSurfaces(surfaceOf(tree({})), surfaceOf(tree({ maxLength: 10 })), TODAY);
    expect(changes.map((c) => [c.kind, c.message])).toEqual([['compatible', '200 response field text: new maxLength 10']]);
  });
});
