import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { currentTotp } from '../../server/auth/totp';
import { docsServerForFile } from './docs-server';
import { filledParameter, firstExample, operations, resolved } from './swagger-values';

/**
 * Every operation of the spec tried as a new user tries it in Swagger UI, on a fresh database: each
 * request is what the page fills in (the operation's examples, else Swagger UI's own sample of the
 * schema, computed by the page), sent as it stands, but for what no example can know and a user
 * pastes from an earlier answer: ids, tokens, a code from an authenticator app, a file's length.
 * The steps below run in an order a user could follow, and each must succeed. An operation added to
 * the contracts fails this test until it has a step; a paste of anything else (a field whose
 * example does not work) is refused by the test itself. Signing in with the OpenID Connect provider
 * (an oidc-provider the docs server runs in this process) is done as in a browser, and the URL the
 * provider sends the browser back to is pasted, as an app hands it over.
 *
 * Run by `npm run test:browser` (.ci/run does), beside docs.test.ts.
 */

// biome-ignore lint/suspicious/noExplicitAny: the spec and the API's JSON, read field by field.
type Json = any;
type Who = 'ana' | 'bruno' | 'carla' | 'nobody';

interface Paste {
  path?: Record<string, string>;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  /** Body fields replaced (a JSON body), or the whole body (a file). */
  body?: Record<string, unknown> | Buffer;
}

interface Step {
  op: string;
  /** Whose token is in the Authorize dialog (ana's unless said). */
  as?: Who;
  /** What the user types or pastes over the filled-in values. */
  paste?: () => Paste;
  /** Requests made before the step to set the scene (another user's action, say): not examples. */
  before?: () => Promise<void>;
}

/**
 * What a user may paste: ids, tokens, codes, sizes and the provider's redirect (which carries a code)
 * that no example can know. Anything else is an example to fix.
 */
const PASTABLE = /(Id|Ids|Token|Code|-Length)$|^(code|callbackUrl)$/;

const file = docsServerForFile();
let base: string;
let test: ReturnType<typeof docsServerForFile>['test'];
let spec: Json;
/** Per operation: the body Swagger UI fills in (the text of its editor), as the page computed it. */
let filledBodies: Record<string, string | undefined>;

/** The answers so far, by operation (the example steps) and by name (the scene-setting requests). */
const answers: Record<string, Json> = {};
const tokens: Partial<Record<Who, string>> = {};
const ids: Record<string, string> = {};

beforeAll(async () => {
  base = file.base;
  test = file.test;
  spec = await (await fetch(`${base}/openapi.json`)).json();
  const page = await file.browser.newPage();
  await page.goto(`${base}/docs/`);
  await page.locator('#operations-auth-register').waitFor();
  const bodies = operations(spec)
    .filter(({ op }) => op.requestBody)
    .map(({ op }) => {
      const [contentType, media] = Object.entries<Json>(op.requestBody.content)[0]!;
      return { id: op.operationId as string, contentType, example: firstExample(media), schema: resolved(spec, media.schema) };
    });
  // Swagger UI's own rule (its RequestBody component): the media type's example, else a sample of the schema.
  filledBodies = await page.evaluate((list) => {
    // biome-ignore lint/suspicious/noExplicitAny: Swagger UI's global, set by its init script.
    const ui = (window as any).ui;
    const out: Record<string, string | undefined> = {};
    for (const { id, contentType, example, schema } of list) {
      out[id] =
        example !== undefined
          ? JSON.stringify(example)
          : contentType.includes('json')
            ? ui.fn.getSampleSchema(schema, contentType, { includeWriteOnly: true })
            : undefined;
    }
    return out;
  }, bodies);
  await page.close();
}, 60_000);

/** Runs one step as the page would send it, with the pasted values; answers the API's answer. */
async function run(step: Step): Promise<{ status: number; headers: Headers; body: Json }> {
  const found = operations(spec).find(({ op }) => op.operationId === step.op);
  if (!found) throw new Error(`no operation ${step.op} in the spec`);
  const { path, method, op } = found;
  const paste = step.paste?.() ?? {};
  for (const [where, values] of Object.entries(paste)) {
    if (Buffer.isBuffer(values)) continue;
    for (const name of Object.keys(values ?? {})) {
      expect(name, `${step.op}: ${where} ${name} is pasted, but it is not an id, token or code: give it a working example`).toMatch(
        PASTABLE,
      );
    }
  }
  const values: Record<string, Record<string, string>> = { path: {}, query: {}, header: {} };
  // Shared parameters (Idempotency-Key) are `$ref`s: followed, as Swagger UI's resolver does.
  const parameters: Json[] = (op.parameters ?? []).map((parameter: Json) => resolved(spec, parameter));
  for (const parameter of parameters) {
    const filled = filledParameter(parameter);
    if (filled !== undefined) values[parameter.in]![parameter.name] = filled;
  }
  Object.assign(values.path!, paste.path);
  Object.assign(values.query!, paste.query);
  Object.assign(values.header!, paste.headers);
  for (const parameter of parameters) {
    if (parameter.required) {
      expect(values[parameter.in]![parameter.name], `${step.op}: required ${parameter.in} ${parameter.name} is left empty`).toBeDefined();
    }
  }
  const url = new URL(base + path.replace(/\{(\w+)\}/g, (_: string, name: string) => encodeURIComponent(values.path![name]!)));
  for (const [name, value] of Object.entries(values.query!)) url.searchParams.set(name, value);
  const headers: Record<string, string> = { ...values.header };
  const who = step.as ?? 'ana';
  if (op.security?.some((requirement: Json) => Object.keys(requirement).length > 0) && who !== 'nobody') {
    headers.authorization = `Bearer ${tokens[who]}`;
  }
  let body: string | Blob | undefined;
  if (op.requestBody) {
    const contentType = Object.keys(op.requestBody.content)[0]!;
    headers['content-type'] = contentType;
    if (Buffer.isBuffer(paste.body)) body = new Blob([new Uint8Array(paste.body)]);
    else {
      const filled = filledBodies[step.op];
      expect(filled, `${step.op}: Swagger UI fills in no body`).toBeDefined();
      body = JSON.stringify({ ...JSON.parse(filled!), ...paste.body });
    }
  }
  const response = await fetch(url, { method: method.toUpperCase(), headers, body });
  const text = await response.text();
  let json: Json;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = text;
  }
  return { status: response.status, headers: response.headers, body: json };
}

/** A request that sets the scene, by another user: it must succeed too. */
async function call(who: Who, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Json> {
  const response = await fetch(`${base}/api/v1${path}`, {
    method,
    headers: {
      ...(who !== 'nobody' ? { authorization: `Bearer ${tokens[who]}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  expect(response.status, `${method} ${path}: ${text}`).toBeLessThan(300);
  return text ? JSON.parse(text) : undefined;
}

const PASSWORD = 'milonga at midnight in Almagro';
const register = (username: string) => call('nobody', 'POST', '/auth/register', { username, password: PASSWORD, displayName: username });
const signIn = async (who: Exclude<Who, 'nobody'>, username: string) => {
  const answer = await call('nobody', 'POST', '/auth/login', { username, password: PASSWORD });
  tokens[who] = answer.data.accessToken;
};
const upload = async (who: Who, bytes: Buffer) => {
  const created = await fetch(`${base}/api/v1/uploads`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${tokens[who]}`,
      'tus-resumable': '1.0.0',
      'upload-length': String(bytes.length),
      'upload-metadata': `filetype ${Buffer.from('image/jpeg').toString('base64')}`,
    },
  });
  expect(created.status).toBe(201);
  return created.headers.get('location')!.split('/').pop()!;
};

let photo: Buffer;
let mfaSecret: string;
let mfaStep: number;

const STEPS: Step[] = [
  // Accounts: a new user registers, signs in and puts the token in the Authorize dialog.
  { op: 'getHealth', as: 'nobody' },
  { op: 'register', as: 'nobody' },
  { op: 'login', as: 'nobody' },
  {
    op: 'getMe',
    before: async () => {
      tokens.ana = answers.login.data.accessToken;
      ids.ana = answers.register.data.user.id;
      // Two more dancers, moderators both (as `npm run create-admin` makes them): moderation needs two.
      for (const name of ['bruno', 'carla'] as const) {
        const answer = await register(`${name}.tanguero`);
        ids[name] = answer.data.user.id;
        await test.services.userStore.setRoles(ids[name]!, ['user', 'admin']);
        await signIn(name, `${name}.tanguero`);
      }
    },
  },
  { op: 'updateMe' },
  { op: 'getUser', as: 'nobody' },
  { op: 'searchUsers' },
  { op: 'listSessions' },
  { op: 'refreshTokens', as: 'nobody', paste: () => ({ body: { refreshToken: answers.login.data.refreshToken } }) },
  {
    op: 'revokeSession',
    before: async () => {
      tokens.ana = answers.refreshTokens.data.accessToken;
    },
    // The session register started, from listSessions.
    paste: () => ({ path: { sessionId: answers.listSessions.data.find((s: Json) => !s.current).id } }),
  },
  { op: 'enrollMfa' },
  {
    op: 'confirmMfa',
    paste: () => {
      mfaSecret = answers.enrollMfa.data.secret;
      mfaStep = Math.floor(Date.now() / 30_000);
      return { body: { code: currentTotp(mfaSecret, mfaStep * 30_000) } };
    },
  },
  {
    op: 'verifyMfaLogin',
    as: 'nobody',
    before: async () => {
      const challenge = await call('nobody', 'POST', '/auth/login', { username: 'ana.milonguera', password: PASSWORD });
      ids.mfaToken = challenge.data.challenge.mfaToken;
    },
    // The next code the app shows (the one confirmMfa took may not be used again).
    paste: () => ({ body: { mfaToken: ids.mfaToken, code: currentTotp(mfaSecret, (mfaStep + 1) * 30_000) } }),
  },
  {
    op: 'disableMfa',
    before: async () => {
      tokens.ana = answers.verifyMfaLogin.data.accessToken;
    },
    paste: () => ({ body: { recoveryCode: answers.confirmMfa.data.recoveryCodes[0] } }),
  },
  // Linking her account at the provider, signed in (with her password): the provider's page, then
  // back to the app; then listed and unlinked again (test/server/handlers/oidc.test.ts signs in with it).
  { op: 'startOidcSignIn' },
  {
    op: 'finishOidcSignIn',
    before: async () => {
      file.provider.addAccount('diego', {
        preferred_username: 'diego.milonguero',
        name: 'Diego',
        email: 'diego@example.org',
        email_verified: true,
      });
      ids.callbackUrl = await file.provider.signIn(answers.startOidcSignIn.data.authorizationUrl, 'diego');
    },
    paste: () => ({ body: { callbackUrl: ids.callbackUrl!, flowToken: answers.startOidcSignIn.data.flowToken } }),
  },
  { op: 'listOidcIdentities' },
  { op: 'unlinkOidcIdentity', paste: () => ({ path: { identityId: answers.listOidcIdentities.data.identities[0].id } }) },

  // Events.
  { op: 'createEvent' },
  { op: 'listEvents', as: 'nobody' },
  { op: 'getEvent', as: 'nobody', paste: () => ({ path: { eventId: answers.createEvent.data.id } }) },
  { op: 'updateEvent', paste: () => ({ path: { eventId: answers.createEvent.data.id } }) },
  { op: 'rsvpToEvent', as: 'bruno', paste: () => ({ path: { eventId: answers.createEvent.data.id } }) },
  { op: 'listAttendees', paste: () => ({ path: { eventId: answers.createEvent.data.id } }) },
  { op: 'listMyEvents', as: 'bruno' },
  { op: 'removeRsvp', as: 'bruno', paste: () => ({ path: { eventId: answers.createEvent.data.id } }) },

  // Groups: ana's group goes private (updateGroup's example), so joining asks.
  { op: 'createGroup' },
  { op: 'listGroups', as: 'nobody' },
  { op: 'getGroup', as: 'nobody', paste: () => ({ path: { groupId: answers.createGroup.data.id } }) },
  { op: 'updateGroup', paste: () => ({ path: { groupId: answers.createGroup.data.id } }) },
  { op: 'joinGroup', as: 'bruno', paste: () => ({ path: { groupId: answers.createGroup.data.id } }) },
  {
    op: 'listJoinRequests',
    before: async () => {
      await call('carla', 'PUT', `/groups/${answers.createGroup.data.id}/membership`);
    },
    paste: () => ({ path: { groupId: answers.createGroup.data.id } }),
  },
  { op: 'approveJoinRequest', paste: () => ({ path: { groupId: answers.createGroup.data.id, userId: ids.bruno! } }) },
  { op: 'rejectJoinRequest', paste: () => ({ path: { groupId: answers.createGroup.data.id, userId: ids.carla! } }) },
  { op: 'inviteToGroup', paste: () => ({ path: { groupId: answers.createGroup.data.id, userId: ids.carla! } }) },
  {
    op: 'listMyGroupInvitations',
    as: 'carla',
  },
  {
    op: 'listGroupMembers',
    before: async () => {
      await call('carla', 'PUT', `/groups/${answers.createGroup.data.id}/membership`);
    },
    paste: () => ({ path: { groupId: answers.createGroup.data.id } }),
  },
  { op: 'changeGroupMemberRole', paste: () => ({ path: { groupId: answers.createGroup.data.id, userId: ids.bruno! } }) },
  { op: 'listGroupEvents', paste: () => ({ path: { groupId: answers.createGroup.data.id } }) },
  { op: 'listMyGroups', as: 'bruno' },
  { op: 'removeGroupMember', paste: () => ({ path: { groupId: answers.createGroup.data.id, userId: ids.carla! } }) },
  { op: 'leaveGroup', as: 'bruno', paste: () => ({ path: { groupId: answers.createGroup.data.id } }) },
  { op: 'deleteGroup', paste: () => ({ path: { groupId: answers.createGroup.data.id } }) },

  // The social graph.
  { op: 'followUser', paste: () => ({ path: { userId: ids.bruno! } }) },
  { op: 'listFollowers', paste: () => ({ path: { userId: ids.bruno! } }) },
  { op: 'listFollowing', paste: () => ({ path: { userId: ids.ana! } }) },
  { op: 'unfollowUser', paste: () => ({ path: { userId: ids.bruno! } }) },
  { op: 'sendFriendRequest', paste: () => ({ path: { userId: ids.bruno! } }) },
  { op: 'listFriendRequests', as: 'bruno' },
  { op: 'cancelFriendRequest', paste: () => ({ path: { userId: ids.bruno! } }) },
  {
    op: 'acceptFriendRequest',
    as: 'bruno',
    before: async () => {
      await call('ana', 'PUT', `/friend-requests/${ids.bruno}`);
    },
    paste: () => ({ path: { userId: ids.ana! } }),
  },
  { op: 'listFriends', paste: () => ({ path: { userId: ids.ana! } }) },
  {
    op: 'unfriend',
    before: async () => {
      // Friends again, with carla: bruno stays ana's friend for what follows.
      await call('ana', 'PUT', `/friend-requests/${ids.carla}`);
      await call('carla', 'POST', `/friend-requests/${ids.ana}/accept`);
    },
    paste: () => ({ path: { userId: ids.carla! } }),
  },
  {
    op: 'declineFriendRequest',
    before: async () => {
      await call('carla', 'PUT', `/friend-requests/${ids.ana}`);
    },
    paste: () => ({ path: { userId: ids.carla! } }),
  },
  { op: 'blockUser', paste: () => ({ path: { userId: ids.carla! } }) },
  { op: 'listBlocks' },
  { op: 'unblockUser', paste: () => ({ path: { userId: ids.carla! } }) },

  // Media, uploaded with tus as any tus client does it; the file's length is the user's.
  {
    op: 'uploadMedia',
    before: async () => {
      photo = await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 180, g: 40, b: 60 } } })
        .jpeg()
        .toBuffer();
    },
    paste: () => ({ headers: { 'Upload-Length': String(photo.length) } }),
  },
  { op: 'uploadMediaStatus', paste: () => ({ path: { uploadId: uploadId(answers.uploadMedia) } }) },
  { op: 'uploadMediaAppend', paste: () => ({ path: { uploadId: uploadId(answers.uploadMedia) }, body: photo }) },
  {
    op: 'uploadMediaCancel',
    before: async () => {
      ids.secondUpload = await upload('ana', photo);
    },
    paste: () => ({ path: { uploadId: ids.secondUpload! } }),
  },
  { op: 'getMedia', paste: () => ({ path: { mediaId: answers.uploadMediaAppend.data.id } }) },
  { op: 'downloadMedia', paste: () => ({ path: { mediaId: answers.uploadMediaAppend.data.id } }) },
  { op: 'getMediaQuota' },
  { op: 'listMyMedia' },

  // Stories, seen by a friend.
  { op: 'createStory', paste: () => ({ body: { mediaId: answers.uploadMediaAppend.data.id } }) },
  { op: 'listStoryReels', as: 'bruno' },
  { op: 'getStory', as: 'bruno', paste: () => ({ path: { storyId: answers.createStory.data.id } }) },
  { op: 'markStorySeen', as: 'bruno', paste: () => ({ path: { storyId: answers.createStory.data.id } }) },
  { op: 'listStoryViewers', paste: () => ({ path: { storyId: answers.createStory.data.id } }) },
  { op: 'deleteStory', paste: () => ({ path: { storyId: answers.createStory.data.id } }) },
  { op: 'deleteMedia', paste: () => ({ path: { mediaId: answers.uploadMediaAppend.data.id } }) },

  // Posts and comments.
  { op: 'createPost' },
  { op: 'getPost', as: 'nobody', paste: () => ({ path: { postId: answers.createPost.data.id } }) },
  { op: 'updatePost', paste: () => ({ path: { postId: answers.createPost.data.id } }) },
  { op: 'listUserPosts', as: 'nobody', paste: () => ({ path: { userId: ids.ana! } }) },
  { op: 'getFeed', as: 'bruno' },
  { op: 'reactToPost', as: 'bruno', paste: () => ({ path: { postId: answers.createPost.data.id } }) },
  { op: 'listPostReactions', as: 'nobody', paste: () => ({ path: { postId: answers.createPost.data.id } }) },
  { op: 'removePostReaction', as: 'bruno', paste: () => ({ path: { postId: answers.createPost.data.id } }) },
  { op: 'createComment', as: 'bruno', paste: () => ({ path: { postId: answers.createPost.data.id } }) },
  { op: 'listComments', as: 'nobody', paste: () => ({ path: { postId: answers.createPost.data.id } }) },
  { op: 'updateComment', as: 'bruno', paste: () => ({ path: { commentId: answers.createComment.data.id } }) },
  { op: 'reactToComment', paste: () => ({ path: { commentId: answers.createComment.data.id } }) },
  { op: 'removeCommentReaction', paste: () => ({ path: { commentId: answers.createComment.data.id } }) },
  { op: 'deleteComment', as: 'bruno', paste: () => ({ path: { commentId: answers.createComment.data.id } }) },

  // Memories, with a friend tagged.
  { op: 'createMemory', paste: () => ({ body: { taggedIds: [ids.bruno] } }) },
  { op: 'getMemory', paste: () => ({ path: { memoryId: answers.createMemory.data.id } }) },
  { op: 'updateMemory', paste: () => ({ path: { memoryId: answers.createMemory.data.id } }) },
  { op: 'listMyMemories' },
  { op: 'listMemoriesOnThisDay' },
  { op: 'removeMyMemoryTag', as: 'bruno', paste: () => ({ path: { memoryId: answers.createMemory.data.id } }) },
  { op: 'deleteMemory', paste: () => ({ path: { memoryId: answers.createMemory.data.id } }) },

  // Messages between friends.
  { op: 'createConversation', paste: () => ({ body: { memberIds: [ids.bruno] } }) },
  { op: 'listConversations' },
  { op: 'getConversation', paste: () => ({ path: { conversationId: answers.createConversation.data.id } }) },
  { op: 'sendMessage', paste: () => ({ path: { conversationId: answers.createConversation.data.id } }) },
  { op: 'listMessages', as: 'bruno', paste: () => ({ path: { conversationId: answers.createConversation.data.id } }) },
  {
    op: 'markRead',
    as: 'bruno',
    paste: () => ({ path: { conversationId: answers.createConversation.data.id }, body: { messageId: answers.sendMessage.data.id } }),
  },
  { op: 'muteConversation', as: 'bruno', paste: () => ({ path: { conversationId: answers.createConversation.data.id } }) },
  { op: 'unmuteConversation', as: 'bruno', paste: () => ({ path: { conversationId: answers.createConversation.data.id } }) },

  // Notifications: bruno's, from all of the above.
  { op: 'listNotifications', as: 'bruno' },
  { op: 'countUnreadNotifications', as: 'bruno' },
  { op: 'markNotificationRead', as: 'bruno', paste: () => ({ path: { notificationId: answers.listNotifications.data[0].id } }) },
  { op: 'markAllNotificationsRead', as: 'bruno' },
  { op: 'deleteNotification', as: 'bruno', paste: () => ({ path: { notificationId: answers.listNotifications.data[0].id } }) },

  // Moderation: bruno reports ana's post, carla decides, ana appeals, bruno answers the appeal.
  { op: 'createReport', as: 'bruno', paste: () => ({ body: { targetId: answers.createPost.data.id } }) },
  { op: 'listMyReports', as: 'bruno' },
  { op: 'getReport', as: 'bruno', paste: () => ({ path: { reportId: answers.createReport.data.id } }) },
  { op: 'listModerationQueue', as: 'carla' },
  { op: 'claimReportedTarget', as: 'carla', paste: () => ({ path: { targetId: answers.createPost.data.id } }) },
  { op: 'resolveReportedTarget', as: 'carla', paste: () => ({ path: { targetId: answers.createPost.data.id } }) },
  { op: 'listDecisionsAboutMe' },
  { op: 'appealDecision', paste: () => ({ path: { actionId: answers.listDecisionsAboutMe.data[0].action.id } }) },
  { op: 'listAppeals', as: 'bruno' },
  { op: 'decideAppeal', as: 'bruno', paste: () => ({ path: { appealId: answers.listAppeals.data[0].appeal.id } }) },
  { op: 'deletePost', paste: () => ({ path: { postId: answers.createPost.data.id } }) },
  { op: 'deleteEvent', paste: () => ({ path: { eventId: answers.createEvent.data.id } }) },

  // Administration, by carla.
  { op: 'getStatistics', as: 'carla' },
  { op: 'grantRole', as: 'carla', paste: () => ({ path: { userId: ids.ana! } }) },
  { op: 'revokeRole', as: 'carla', paste: () => ({ path: { userId: ids.ana! } }) },
  { op: 'listAuditLog', as: 'carla' },
  { op: 'exportAuditLog', as: 'carla' },

  // Leaving: ana's data, then sign-outs, a suspension appealed, an account deleted.
  { op: 'exportMyData' },
  { op: 'exportMyDataV2' },
  { op: 'logout' },
  {
    op: 'appealSuspension',
    as: 'nobody',
    before: async () => {
      const report = await call('bruno', 'POST', '/reports', { targetType: 'user', targetId: ids.ana, reason: 'harassment' });
      expect(report.data.id).toBeDefined();
      await call('carla', 'POST', `/moderation/queue/user/${ids.ana}/resolve`, {
        action: 'suspend',
        reason: 'Repeated insults in messages',
        suspensionDays: 7,
      });
    },
  },
  { op: 'changePassword', as: 'carla' },
  { op: 'logoutAll', as: 'carla' },
  { op: 'deleteMyAccount', as: 'bruno' },
];

/** An upload's id, from the Location its creation answered. */
function uploadId(answer: Json): string {
  return answer.location.split('/').pop();
}

describe('every operation, tried in Swagger UI with the values it fills in', () => {
  it('has a step, in an order a new user can follow', () => {
    const steps = STEPS.map((step) => step.op);
    expect(new Set(steps).size).toBe(steps.length);
    expect(steps.toSorted()).toEqual(
      operations(spec)
        .map(({ op }) => op.operationId as string)
        .toSorted(),
    );
  });

  it('succeeds at every step, on a fresh database', { timeout: 60_000 }, async () => {
    for (const step of STEPS) {
      const answer = await (async () => {
        await step.before?.();
        return run(step);
      })().catch((error: Error) => {
        error.message = `${step.op}: ${error.message}`;
        throw error;
      });
      expect(answer.status, `${step.op} answered ${answer.status}: ${JSON.stringify(answer.body)}`).toBeGreaterThanOrEqual(200);
      expect(answer.status, `${step.op} answered ${answer.status}: ${JSON.stringify(answer.body)}`).toBeLessThan(300);
      answers[step.op] = { ...(answer.body ?? {}), location: answer.headers.get('location') };
    }
  });
});
