import { z } from 'zod';
import { endpoint, paginated, Timestamp, Uuid } from '../runtime/contract';

export const ReportTargetType = z.enum(['post', 'comment', 'story', 'memory', 'message', 'group', 'user']).meta({ id: 'ReportTargetType' });

export const ReportReason = z
  .enum(['spam', 'harassment', 'hate', 'violence', 'sexual_content', 'misinformation', 'impersonation', 'other'])
  .meta({ id: 'ReportReason' });

export const ReportOutcome = z.enum(['dismissed', 'hidden', 'removed', 'warned', 'suspended', 'banned']).meta({
  id: 'ReportOutcome',
  description: 'What the moderators did: nothing (`dismissed`), hid or removed the content, warned, suspended or banned its author',
});

export const Report = z
  .object({
    id: Uuid,
    targetType: ReportTargetType,
    targetId: Uuid,
    reason: ReportReason,
    details: z.string().max(1000).nullable(),
    status: z.enum(['open', 'resolved']),
    outcome: ReportOutcome.nullable().meta({ description: 'Once resolved' }),
    createdAt: Timestamp,
    resolvedAt: Timestamp.nullable(),
  })
  .meta({
    id: 'Report',
    description: 'Something a user reported to the moderators, as its reporter sees it',
    example: {
      id: '2f1e0d9c-8b7a-4c6d-9e5f-4a3b2c1d0e9f',
      targetType: 'post',
      targetId: '3e2d1c0b-9a8f-4e7d-8c6b-5a4f3e2d1c0b',
      reason: 'harassment',
      details: 'Insults in every comment',
      status: 'open',
      outcome: null,
      createdAt: '2026-12-03T10:00:00.000Z',
      resolvedAt: null,
    },
  });

export const createReport = endpoint({
  method: 'POST',
  version: 1,
  path: '/reports',
  operationId: 'createReport',
  summary: 'Report a post, comment, story, memory, message, group or user',
  description:
    'What the caller may see only (anything else is 404 `NOT_FOUND`, as one that does not exist), and not their own. ' +
    'The moderators see the content as it was when it was first reported, whatever is edited after. One open report ' +
    'per reporter and target (409 `ALREADY_REPORTED`); once resolved it may be reported again.',
  tags: ['moderation'],
  auth: 'user',
  body: z
    .object({
      targetType: ReportTargetType,
      targetId: Uuid,
      reason: ReportReason,
      details: z.string().max(1000).trim().min(1).optional().meta({ description: 'What the moderators should know' }),
    })
    .meta({ id: 'NewReport', example: { targetType: 'post', targetId: '3e2d1c0b-9a8f-4e7d-8c6b-5a4f3e2d1c0b', reason: 'spam' } }),
  response: { status: 201, body: Report },
  errors: ['NOT_FOUND', 'ALREADY_REPORTED'],
  rateLimit: { points: 30, windowSeconds: 3600, key: 'user' },
});

export const listMyReports = endpoint({
  method: 'GET',
  version: 1,
  path: '/reports',
  operationId: 'listMyReports',
  summary: 'My reports and their outcomes',
  description: 'Latest first.',
  tags: ['moderation'],
  auth: 'user',
  query: z.object({ status: z.enum(['open', 'resolved']).optional() }),
  response: paginated(Report),
});

export const getReport = endpoint({
  method: 'GET',
  version: 1,
  path: '/reports/{reportId}',
  operationId: 'getReport',
  summary: 'One of my reports',
  description: 'Its reporter only: anyone else’s is 404 `NOT_FOUND`.',
  tags: ['moderation'],
  auth: 'user',
  params: z.object({ reportId: Uuid }),
  response: { status: 200, body: Report },
  errors: ['NOT_FOUND'],
});
