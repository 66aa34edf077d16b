import { z } from 'zod';
import { endpoint } from '../runtime/contract';

export const Health = z
  .object({
    status: z.enum(['ok']),
    database: z.enum(['reachable']),
    version: z.string().max(50),
    uptimeSeconds: z.number().nonnegative(),
  })
  .meta({ id: 'Health', example: { status: 'ok', database: 'reachable', version: '0.1.0', uptimeSeconds: 42 } });

export const getHealth = endpoint({
  method: 'GET',
  version: 1,
  path: '/health',
  operationId: 'getHealth',
  summary: 'Check service health',
  description: 'Answers 200 when the service and its database are reachable, 503 otherwise.',
  tags: ['health'],
  auth: 'public',
  response: { status: 200, body: Health },
  errors: ['SERVICE_UNAVAILABLE'],
  rateLimit: { points: 600, windowSeconds: 60, key: 'ip' },
});
