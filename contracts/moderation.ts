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

const moderators = { roles: ['moderator', 'admin'] } as const;

export const ReportedTarget = z
  .object({
    targetType: ReportTargetType,
    targetId: Uuid,
    authorId: Uuid.nullable().meta({ description: 'Whose it is: the author, the group’s owner, the user reported; null once deleted' }),
    snapshot: z.record(z.string(), z.unknown()).meta({ description: 'The content as it was when first reported' }),
    firstReportedAt: Timestamp,
    openReports: z.number().int().min(1),
    reasons: z.array(ReportReason).max(8).meta({ description: 'The reasons given, each once' }),
    claimedBy: Uuid.nullable().meta({ description: 'The moderator handling it' }),
    claimedAt: Timestamp.nullable(),
  })
  .meta({
    id: 'ReportedTarget',
    description: 'Open reports of one target, as the moderators see them',
    example: {
      targetType: 'post',
      targetId: '3e2d1c0b-9a8f-4e7d-8c6b-5a4f3e2d1c0b',
      authorId: '5d1c7a0e-3f7b-4a4e-9c55-2f3e8b7d9a10',
      snapshot: { body: 'Compren mis zapatos, oferta', visibility: 'public' },
      firstReportedAt: '2026-12-03T10:00:00.000Z',
      openReports: 3,
      reasons: ['spam'],
      claimedBy: null,
      claimedAt: null,
    },
  });

export const ModerationAction = z
  .object({
    id: Uuid,
    moderatorId: Uuid.nullable().meta({ description: 'Null once their account is gone' }),
    targetType: ReportTargetType,
    targetId: Uuid,
    action: z.enum(['dismiss']),
    reason: z.string().max(1000),
    reportsResolved: z.number().int().min(0),
    createdAt: Timestamp,
  })
  .meta({ id: 'ModerationAction', description: 'What a moderator did, by whom, why and when (kept, never changed)' });

const TargetParams = z.object({ targetType: ReportTargetType, targetId: Uuid });
const unknownTarget = 'A target with no open report is 404 `NOT_FOUND`.';

export const listModerationQueue = endpoint({
  method: 'GET',
  version: 1,
  path: '/moderation/queue',
  operationId: 'listModerationQueue',
  summary: 'Open reports, one entry per reported target',
  description: 'Oldest first report first, with the content as it was then, how many open reports there are and who handles it.',
  tags: ['moderation'],
  auth: moderators,
  query: z.object({
    unclaimed: z.string().max(5).pipe(z.stringbool()).optional().meta({ description: '`true`: only what nobody handles yet' }),
  }),
  response: paginated(ReportedTarget),
});

export const claimReportedTarget = endpoint({
  method: 'PUT',
  version: 1,
  path: '/moderation/queue/{targetType}/{targetId}/claim',
  operationId: 'claimReportedTarget',
  summary: 'Take a reported target to handle it',
  description: `Idempotent for the moderator who has it; another's is 409 \`ALREADY_CLAIMED\`. ${unknownTarget}`,
  tags: ['moderation'],
  auth: moderators,
  params: TargetParams,
  response: { status: 204 },
  errors: ['NOT_FOUND', 'ALREADY_CLAIMED'],
});

export const resolveReportedTarget = endpoint({
  method: 'POST',
  version: 1,
  path: '/moderation/queue/{targetType}/{targetId}/resolve',
  operationId: 'resolveReportedTarget',
  summary: 'Decide on a reported target',
  description:
    'Resolves every open report of the target with the action as outcome (their reporters see it) and records who did ' +
    `what, why and when. One claimed by another moderator is 409 \`ALREADY_CLAIMED\`. ${unknownTarget}`,
  tags: ['moderation'],
  auth: moderators,
  params: TargetParams,
  body: z
    .object({ action: z.enum(['dismiss']), reason: z.string().max(1000).trim().min(1) })
    .meta({ id: 'ModerationDecision', example: { action: 'dismiss', reason: 'An offer of used shoes is allowed' } }),
  response: { status: 201, body: ModerationAction },
  errors: ['NOT_FOUND', 'ALREADY_CLAIMED'],
});
