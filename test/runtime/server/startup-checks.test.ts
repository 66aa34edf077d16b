import { describe, expect, it } from 'vitest';
import { createApp, MissingHandlersError, type RouteDefinition } from '../../../runtime/server';
import { createFixture, createProbe, deleteItem, fixtureRoutes, listItems } from './fixture';

/**
 * `npm start` runs TypeScript without type-checking: what the compiler would have refused must
 * stop the app when it is built, naming what is wrong, not answer 500s at the first request.
 */
describe('building the app', () => {
  it('refuses routes without a handler, naming every missing operation', () => {
    const routes: RouteDefinition[] = fixtureRoutes(createProbe()).map((route) =>
      route.endpoint === listItems || route.endpoint === deleteItem ? { endpoint: route.endpoint, handler: undefined as never } : route,
    );
    let thrown: unknown;
    try {
      createFixture({ routes });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(MissingHandlersError);
    expect((thrown as MissingHandlersError).operationIds.sort()).toEqual(['deleteItem', 'listItems']);
    expect((thrown as Error).message).toContain('deleteItem, listItems');
  });

  it.each(['user', 'log', 'requestId', 'client'])('refuses a service named %s, which the handler context would shadow', (name) => {
    expect(() => createFixture({ services: { [name]: {} } })).toThrow(`Services may not be named ${name}`);
  });

  it('builds with every handler present and services of other names', () => {
    expect(typeof createFixture({ services: { db: {}, clock: {} } }).app).toBe('function');
    expect(createApp).toBeTypeOf('function');
  });
});
