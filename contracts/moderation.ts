import { z } from 'zod';
import { endpoint, paginated, Timestamp, Uuid } from '../runtime/contract';
import { UsernameInput } from './users';

export const Hidden = z.boolean().meta({
  id: 'Hidden',
  description:
    'Hidden by a moderator: shown to its author only (with this flag), left out of every list, feed and search and ' +
    '404 `NOT_FOUND` for anyone else, until an appeal overturns it',
});

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

export const ModerationActionKind = z.enum(['dismiss', 'hide', 'remove', 'warn', 'suspend', 'ban']).meta({
  id: 'ModerationActionKind',
  description:
    '`dismiss`: nothing to do. `hide`: the content is shown to its author only, kept for an appeal. `remove`: the ' +
    'content is deleted. `warn`: the author is told. `suspend`: the author cannot sign in until the suspension ends by ' +
    'itself. `ban`: for good. Suspending or banning signs the author out everywhere at once. A user (rather than ' +
    'content) is dismissed, warned, suspended or banned.',
});

export const ModerationAction = z
  .object({
    id: Uuid,
    moderatorId: Uuid.nullable().meta({ description: 'Null once their account is gone' }),
    targetType: ReportTargetType,
    targetId: Uuid,
    subjectId: Uuid.nullable().meta({ description: 'Whom it is about: the content’s author or the user reported' }),
    action: ModerationActionKind,
    reason: z.string().max(1000),
    until: Timestamp.nullable().meta({ description: 'When a suspension ends' }),
    reportsResolved: z.number().int().min(0),
    createdAt: Timestamp,
  })
  .meta({ id: 'ModerationAction', description: 'What a moderator did, by whom, why and when (kept, never changed)' });

const TargetParams = z.object({ targetType: ReportTargetType.meta({ param: { example: 'post' } }), targetId: Uuid });
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
    'what, why and when, in the audit log too. A suspension or ban signs its subject out everywhere at once; a moderator ' +
    'or admin cannot be suspended or banned while they hold the role (409 `STAFF_ACCOUNT`); nobody decides on their ' +
    `own content (409 \`CONFLICT_OF_INTEREST\`). One claimed by another moderator is 409 \`ALREADY_CLAIMED\`. ${unknownTarget}`,
  tags: ['moderation'],
  auth: moderators,
  params: TargetParams,
  body: z
    .object({
      action: ModerationActionKind,
      reason: z.string().max(1000).trim().min(1).meta({ description: 'Why: the author reads it (warnings, suspensions, hidden content)' }),
      suspensionDays: z.number().int().min(1).max(365).optional().meta({ description: 'With `suspend` only, and required there' }),
    })
    .meta({ id: 'ModerationDecision', example: { action: 'hide', reason: 'Shows a dancer who did not agree to be photographed' } }),
  response: { status: 201, body: ModerationAction },
  errors: ['NOT_FOUND', 'ALREADY_CLAIMED', 'STAFF_ACCOUNT', 'CONFLICT_OF_INTEREST'],
});

export const AppealStatus = z.enum(['open', 'upheld', 'overturned']).meta({ id: 'AppealStatus' });

export const Appeal = z
  .object({
    id: Uuid,
    actionId: Uuid.meta({ description: 'The decision appealed' }),
    appellantId: Uuid,
    statement: z.string().max(2000),
    status: AppealStatus,
    decision: z.string().max(1000).nullable().meta({ description: 'Why the moderator upheld or overturned it' }),
    createdAt: Timestamp,
    decidedAt: Timestamp.nullable(),
  })
  .meta({
    id: 'Appeal',
    description: 'A user’s appeal of a decision about them, answered by another moderator than the one who decided',
    example: {
      id: '6c5b4a39-2817-4605-9f4e-3d2c1b0a9f8e',
      actionId: '1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d',
      appellantId: '5d1c7a0e-3f7b-4a4e-9c55-2f3e8b7d9a10',
      statement: 'The photo is from our own milonga, everyone agreed to it',
      status: 'open',
      decision: null,
      createdAt: '2026-12-03T12:00:00.000Z',
      decidedAt: null,
    },
  });

export const DecisionAboutMe = z
  .object({
    action: ModerationAction.omit({ moderatorId: true, reportsResolved: true }),
    appealable: z
      .boolean()
      .meta({ description: 'Whether it may be appealed now (hidden content still hidden, a suspension still on, no appeal yet)' }),
    appeal: Appeal.nullable(),
  })
  .meta({ id: 'DecisionAboutMe', description: 'A moderator’s decision about the caller or their content (who decided is not said)' });

const statement = z.string().max(2000).trim().min(1).meta({ description: 'Why the decision should be overturned' });

export const listDecisionsAboutMe = endpoint({
  method: 'GET',
  version: 1,
  path: '/moderation/decisions',
  operationId: 'listDecisionsAboutMe',
  summary: 'Moderators’ decisions about me and my content',
  description: 'Warnings, hidden and removed content, suspensions; latest first, with their appeals.',
  tags: ['moderation'],
  auth: 'user',
  response: paginated(DecisionAboutMe),
});

export const appealDecision = endpoint({
  method: 'POST',
  version: 1,
  path: '/moderation/decisions/{actionId}/appeal',
  operationId: 'appealDecision',
  summary: 'Appeal a decision about my content',
  description:
    'Once per decision (409 `ALREADY_APPEALED`), for hidden content that is still hidden or a suspension that is still on ' +
    '(409 `NOT_APPEALABLE` otherwise). A decision about someone else is 404 `NOT_FOUND`. A suspended user, who cannot ' +
    'sign in, appeals with `appealSuspension`.',
  tags: ['moderation'],
  auth: 'user',
  params: z.object({ actionId: Uuid }),
  body: z.object({ statement }).meta({ id: 'NewAppeal', example: { statement: 'The photo is from our own milonga' } }),
  response: { status: 201, body: Appeal },
  errors: ['NOT_FOUND', 'ALREADY_APPEALED', 'NOT_APPEALABLE'],
  rateLimit: { points: 10, windowSeconds: 3600, key: 'user' },
});

export const appealSuspension = endpoint({
  method: 'POST',
  version: 1,
  path: '/moderation/suspension-appeals',
  operationId: 'appealSuspension',
  summary: 'Appeal my suspension, with my username and password',
  description:
    'For a suspended user, whom sign-in refuses (403 `ACCOUNT_SUSPENDED`): the credentials are checked as at sign-in ' +
    '(401 `INVALID_CREDENTIALS`), then the suspension in force is appealed, once (409 `ALREADY_APPEALED`). ' +
    'Without one in force, 409 `NOT_APPEALABLE`; a ban is not appealed.',
  tags: ['moderation'],
  auth: 'public',
  body: z.object({ username: UsernameInput, password: z.string().min(1).max(1024), statement }).meta({
    id: 'SuspensionAppeal',
    example: { username: 'ana.milonguera', password: 'milonga at midnight in Almagro', statement: 'It was a joke between friends' },
  }),
  response: { status: 201, body: Appeal },
  errors: ['INVALID_CREDENTIALS', 'ALREADY_APPEALED', 'NOT_APPEALABLE'],
  // Login's own limits: guesses here and there count together.
  rateLimit: [
    { name: 'login', points: 5, windowSeconds: 900, key: ['body.username', 'ip'], failuresOnly: true },
    { name: 'login-ip-daily', points: 100, windowSeconds: 86_400, key: 'ip', failuresOnly: true },
  ],
});

export const AppealCase = z
  .object({ appeal: Appeal, action: ModerationAction })
  .meta({ id: 'AppealCase', description: 'An appeal with the decision it is about' });

export const listAppeals = endpoint({
  method: 'GET',
  version: 1,
  path: '/moderation/appeals',
  operationId: 'listAppeals',
  summary: 'Appeals to answer',
  description: 'Open appeals, oldest first, with the decisions appealed.',
  tags: ['moderation'],
  auth: moderators,
  response: paginated(AppealCase),
});

export const decideAppeal = endpoint({
  method: 'POST',
  version: 1,
  path: '/moderation/appeals/{appealId}/decision',
  operationId: 'decideAppeal',
  summary: 'Uphold or overturn a decision that was appealed',
  description:
    'By a moderator other than the one who decided (409 `CONFLICT_OF_INTEREST`), once (409 `ALREADY_DECIDED`). ' +
    'Overturned, hidden content is shown again and a suspension ends at once. In the audit log.',
  tags: ['moderation'],
  auth: moderators,
  params: z.object({ appealId: Uuid }),
  body: z
    .object({ outcome: z.enum(['upheld', 'overturned']), reason: z.string().max(1000).trim().min(1) })
    .meta({ id: 'AppealDecision', example: { outcome: 'overturned', reason: 'Consent was given; the photo may stay' } }),
  response: { status: 200, body: Appeal },
  errors: ['NOT_FOUND', 'CONFLICT_OF_INTEREST', 'ALREADY_DECIDED'],
});
