import { defineApi, defineErrors } from '../runtime/contract';
import * as events from './events';
import * as health from './health';

/** Domain error codes, beside the runtime's own (runtime/contract/errors.ts). */
export const domainErrors = defineErrors({});

export const api = defineApi({
  info: {
    title: 'Mundo Tango API',
    version: '1.0.0',
    description:
      'The API of Mundo Tango, the social platform of the tango community: dancers, teachers and ' +
      'organizers, their events, groups, posts and messages. Every error is an RFC 9457 problem ' +
      'with a stable `code`; every list is a cursor page.',
    contact: { name: 'Mundo Tango', url: 'https://mundotango.life' },
    license: { name: 'MIT', identifier: 'MIT' },
  },
  servers: [{ url: '/', description: 'The server this document is served from' }],
  tags: {
    events: 'Milongas, practicas, festivals, marathons, encuentros, classes and workshops.',
    health: 'Service health for load balancers and monitors.',
  },
  problemBaseUrl: 'https://mundotango.life/problems',
  errors: domainErrors,
  modules: { events, health },
});
