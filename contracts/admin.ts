import { z } from 'zod';
import { endpoint, paginated, Timestamp, Uuid } from '../runtime/contract';

const admins = { roles: ['admin'] } as const;

export const GrantableRole = z.enum(['moderator', 'admin']).meta({ id: 'GrantableRole' });

const RoleParams = z.object({ userId: Uuid, role: GrantableRole.meta({ param: { example: 'moderator' } }) });

export const grantRole = endpoint({
  method: 'PUT',
  version: 1,
  path: '/admin/users/{userId}/roles/{role}',
  operationId: 'grantRole',
  summary: 'Make a user a moderator or an admin',
  description: 'Idempotent. It applies on the user’s next request (not when their token expires), and is in the audit log.',
  tags: ['admin'],
  auth: admins,
  params: RoleParams,
  response: { status: 204 },
  errors: ['NOT_FOUND'],
});

export const revokeRole = endpoint({
  method: 'DELETE',
  version: 1,
  path: '/admin/users/{userId}/roles/{role}',
  operationId: 'revokeRole',
  summary: 'Take a role away',
  description: 'Idempotent. It applies on the user’s next request, and is in the audit log. The last admin stays one (409 `LAST_ADMIN`).',
  tags: ['admin'],
  auth: admins,
  params: RoleParams,
  response: { status: 204 },
  errors: ['NOT_FOUND', 'LAST_ADMIN'],
});

export const AuditKind = z
  .enum([
    'role_granted',
    'role_revoked',
    'moderation_decision',
    'appeal_decision',
    'refresh_token_reuse',
    'mfa_enabled',
    'mfa_disabled',
    'mfa_locked',
    'login_locked',
    'account_deleted',
  ])
  .meta({ id: 'AuditKind' });

export const AuditEntry = z
  .object({
    id: Uuid,
    actorId: Uuid.nullable().meta({ description: 'Who did it; null once their account is gone' }),
    kind: AuditKind,
    targetType: z.string().max(20),
    targetId: Uuid,
    details: z.record(z.string(), z.unknown()),
    createdAt: Timestamp,
  })
  .meta({
    id: 'AuditEntry',
    description: 'An administrative or security event, written once and never changed',
    example: {
      id: '0e9d8c7b-6a5f-4e3d-8c2b-1a0f9e8d7c6b',
      actorId: '5d1c7a0e-3f7b-4a4e-9c55-2f3e8b7d9a10',
      kind: 'role_granted',
      targetType: 'user',
      targetId: '9b8a7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d',
      details: { role: 'moderator' },
      createdAt: '2026-12-03T10:30:00.000Z',
    },
  });

const AuditFilter = z.object({
  actorId: Uuid.optional(),
  targetId: Uuid.optional(),
  kind: AuditKind.optional(),
  from: Timestamp.optional().meta({ description: 'At or after' }),
  to: Timestamp.optional().meta({ description: 'Before' }),
});

export const exportAuditLog = endpoint({
  method: 'GET',
  version: 1,
  path: '/admin/audit/export',
  operationId: 'exportAuditLog',
  summary: 'The audit log as NDJSON',
  description:
    'Every entry the filters select, latest first, one JSON object per line (`application/x-ndjson`), streamed as it ' +
    'is read: any size, in the memory of one batch.',
  tags: ['admin'],
  auth: admins,
  query: AuditFilter,
  response: { status: 200, stream: { item: AuditEntry } },
  rateLimit: { points: 10, windowSeconds: 60, key: 'user' },
});

export const listAuditLog = endpoint({
  method: 'GET',
  version: 1,
  path: '/admin/audit',
  operationId: 'listAuditLog',
  summary: 'The audit log',
  description: 'Latest first, filtered by actor, target, kind and time.',
  tags: ['admin'],
  auth: admins,
  query: AuditFilter,
  response: paginated(AuditEntry),
});

const Day = z.iso
  .date()
  .refine((day) => day >= '2000-01-01', { message: 'Statistics start in 2000' })
  .meta({ description: 'A UTC day, 2000 or later', example: '2026-12-01' });
const count = z.number().int().min(0);

export const Statistics = z
  .object({
    from: Day,
    to: Day,
    days: z
      .array(
        z.object({
          day: Day,
          signups: count,
          activeUsers: count.meta({ description: 'Who signed in or renewed a session that day' }),
          posts: count,
          messages: count,
          events: count.meta({ description: 'Events created' }),
        }),
      )
      .max(366),
    eventsByCity: z
      .array(z.object({ city: z.string().max(100), events: count }))
      .max(20)
      .meta({ description: 'Events taking place in the range, by city: the 20 busiest' }),
    topGroups: z
      .array(z.object({ groupId: Uuid, name: z.string().max(100), posts: count }))
      .max(10)
      .meta({ description: 'The 10 groups with the most posts in the range' }),
    live: z
      .object({ sockets: count, usersOnline: count })
      .meta({ description: 'Connected sockets and distinct users connected now, on every instance' }),
  })
  .meta({ id: 'Statistics' });

export const getStatistics = endpoint({
  method: 'GET',
  version: 1,
  path: '/admin/statistics',
  operationId: 'getStatistics',
  summary: 'Platform statistics',
  description:
    'Per UTC day from `from` to `to` (both included, at most 366 days; by default the last 30), read from rollups a ' +
    'job updates every few minutes (today’s figures may lag that much), and kept 30 s. Live figures are read now.',
  tags: ['admin'],
  auth: admins,
  query: z.object({ from: Day.optional(), to: Day.optional() }),
  response: { status: 200, body: Statistics },
});
