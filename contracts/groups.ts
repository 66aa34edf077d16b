import { z } from 'zod';
import { endpoint, paginated, Timestamp, Uuid } from '../runtime/contract';
import { Event } from './events';
import { Hidden } from './moderation';
import { exampleUser, User } from './users';

const exampleGroupId = '7c0d2b9e-1f4a-4c3b-8e2d-5a6f7b8c9d01';
export const GroupKind = z
  .enum(['community', 'school', 'orchestra', 'city'])
  .meta({ id: 'GroupKind', description: 'A tango community, a school, an orchestra, or the dancers of a city' });

export const GroupVisibility = z.enum(['public', 'private']).meta({
  id: 'GroupVisibility',
  description:
    '`public`: anyone joins at once and sees its members, events and conversation once in. `private`: joining is a request an ' +
    'admin approves (or an invitation); its members, events and conversation are seen by members only. Both are listed and ' +
    'found by name, with their description and member count.',
});

export const GroupRole = z.enum(['owner', 'admin', 'member']).meta({
  id: 'GroupRole',
  description: '`owner`: one per group, may do everything; `admin`: edits the group, answers join requests, removes members; `member`',
});

const name = z.string().max(100).trim().min(1);
const description = z.string().max(5000);
const city = z.string().max(100).trim().min(1);

export const Group = z
  .object({
    id: Uuid,
    name,
    description,
    kind: GroupKind,
    city: city.nullable(),
    visibility: GroupVisibility,
    hidden: Hidden,
    memberCount: z.number().int().min(0).meta({ description: 'Members the caller may see (people hidden by a block are not counted)' }),
    myRole: GroupRole.nullable().meta({ description: 'The caller’s role; null when not a member or signed out' }),
    myRequest: z
      .enum(['requested', 'invited'])
      .nullable()
      .meta({ description: '`requested`: the caller asked to join and waits; `invited`: the caller was invited and may join at once' }),
    conversationId: Uuid.nullable().meta({ description: 'The group’s conversation (messages API); members only, null for anyone else' }),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .meta({
    id: 'Group',
    description: 'A tango community, school, orchestra or city group, as the caller sees it',
    example: {
      id: exampleGroupId,
      name: 'Tango Queer Berlin',
      description: 'Practicas every Sunday, role-free.',
      kind: 'community',
      city: 'Berlin',
      visibility: 'public',
      memberCount: 214,
      hidden: false,
      myRole: 'member',
      myRequest: null,
      conversationId: '2f9c1d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f',
      createdAt: '2026-11-20T12:00:00.000Z',
      updatedAt: '2026-11-20T12:00:00.000Z',
    },
  });

const GroupFields = z.object({
  name,
  description: description.optional(),
  kind: GroupKind,
  city: city.optional(),
  visibility: GroupVisibility,
});

export const NewGroup = GroupFields.meta({
  id: 'NewGroup',
  example: {
    name: 'Tango Queer Berlin',
    description: 'Practicas every Sunday, role-free.',
    kind: 'community',
    city: 'Berlin',
    visibility: 'public',
  },
});

export const GroupPatch = GroupFields.extend({ city: city.nullable().optional() })
  .partial()
  .meta({ id: 'GroupPatch', description: 'Fields to change; `null` clears the city', example: { visibility: 'private' } });

export const GroupMember = z
  .object({ user: User, role: GroupRole, joinedAt: Timestamp })
  .meta({ id: 'GroupMember', example: { user: exampleUser, role: 'admin', joinedAt: '2026-11-21T18:00:00.000Z' } });

export const Membership = z
  .object({
    status: z.enum(['member', 'requested']).meta({
      description: '`member`: the caller is in (a public group, or an invitation taken); `requested`: a private group’s admins decide',
    }),
    role: GroupRole.nullable().meta({ description: 'The caller’s role once a member' }),
    since: Timestamp.meta({ description: 'When the caller joined, or asked to' }),
  })
  .meta({ id: 'Membership', example: { status: 'member', role: 'member', since: '2026-12-01T20:00:00.000Z' } });

export const Invitation = z.object({ status: z.enum(['invited', 'member']), since: Timestamp }).meta({
  id: 'Invitation',
  description: '`member` when the user had asked to join: the invitation lets them in at once',
  example: { status: 'invited', since: '2026-12-01T20:00:00.000Z' },
});

export const JoinRequest = z
  .object({ user: User, since: Timestamp })
  .meta({ id: 'JoinRequest', example: { user: exampleUser, since: '2026-12-01T20:00:00.000Z' } });

export const GroupInvitation = z
  .object({ group: Group, invitedBy: User, since: Timestamp })
  .meta({ id: 'GroupInvitation', description: 'An invitation waiting for the caller: `joinGroup` takes it, `leaveGroup` declines it' });

const GroupParams = z.object({ groupId: Uuid });
const MemberParams = z.object({ groupId: Uuid, userId: Uuid.meta({ description: 'The other dancer' }) });

const missing = 'An unknown group is 404 `NOT_FOUND`.';
const membersOnly = 'A private group’s members, events and conversation are for its members: anyone else gets 403 `FORBIDDEN`.';
const hiddenUser = 'A user who does not exist, who blocked you or whom you blocked is 404 `NOT_FOUND`, one answer for all three.';
const writes = { name: 'group-writes', points: 300, windowSeconds: 3600, key: 'user' } as const;

export const createGroup = endpoint({
  method: 'POST',
  version: 1,
  path: '/groups',
  operationId: 'createGroup',
  summary: 'Create a group',
  description: 'The caller becomes its owner. The group gets a conversation of its own, whose members are the group’s.',
  tags: ['groups'],
  auth: 'user',
  body: NewGroup,
  response: { status: 201, body: Group },
  rateLimit: { points: 20, windowSeconds: 3600, key: 'user' },
});

export const listGroups = endpoint({
  method: 'GET',
  version: 1,
  path: '/groups',
  operationId: 'listGroups',
  summary: 'Find groups',
  description: 'Public and private groups, newest first, by part of the name (case-insensitive), city and kind; signed in or not.',
  tags: ['groups'],
  auth: 'optional',
  query: z.object({
    q: z.string().max(100).trim().min(1).optional().meta({ description: 'Part of the name', example: 'tango' }),
    city: city.optional().meta({ description: 'City, case-insensitive, whole value', example: 'Berlin' }),
    kind: GroupKind.optional(),
  }),
  response: paginated(Group),
});

export const getGroup = endpoint({
  method: 'GET',
  version: 1,
  path: '/groups/{groupId}',
  operationId: 'getGroup',
  summary: 'Get one group',
  description: `Signed in or not. ${missing}`,
  tags: ['groups'],
  auth: 'optional',
  params: GroupParams,
  response: { status: 200, body: Group },
  errors: ['NOT_FOUND'],
  cache: { scope: 'private', maxAge: 0 },
});

export const updateGroup = endpoint({
  method: 'PATCH',
  version: 1,
  path: '/groups/{groupId}',
  operationId: 'updateGroup',
  summary: 'Change a group',
  description: `Its owner and admins only (403 \`FORBIDDEN\` for anyone else). ${missing}`,
  tags: ['groups'],
  auth: 'user',
  params: GroupParams,
  body: GroupPatch,
  response: { status: 200, body: Group },
  errors: ['NOT_FOUND', 'FORBIDDEN'],
  rateLimit: writes,
  ifMatch: true,
});

export const deleteGroup = endpoint({
  method: 'DELETE',
  version: 1,
  path: '/groups/{groupId}',
  operationId: 'deleteGroup',
  summary: 'Delete a group',
  description:
    'Its owner only (403 `FORBIDDEN` for anyone else). Its memberships, requests, conversation and events go with it; the people ' +
    `who had answered those events are told they are cancelled. ${missing}`,
  tags: ['groups'],
  auth: 'user',
  params: GroupParams,
  response: { status: 204 },
  errors: ['NOT_FOUND', 'FORBIDDEN'],
  rateLimit: writes,
});

export const joinGroup = endpoint({
  method: 'PUT',
  version: 1,
  path: '/groups/{groupId}/membership',
  operationId: 'joinGroup',
  summary: 'Join a group, or ask to',
  description:
    'A public group, or any group that invited the caller: a member at once. A private group: a join request its admins answer ' +
    `(they are notified). Idempotent: a member or a pending request is answered as it stands. ${missing}`,
  tags: ['groups'],
  auth: 'user',
  params: GroupParams,
  response: { status: 200, body: Membership },
  errors: ['NOT_FOUND'],
  rateLimit: writes,
});

export const leaveGroup = endpoint({
  method: 'DELETE',
  version: 1,
  path: '/groups/{groupId}/membership',
  operationId: 'leaveGroup',
  summary: 'Leave a group, withdraw my request, or decline an invitation',
  description:
    'Idempotent: 204 whether or not the caller was in. The owner cannot leave (409 `OWNER_CANNOT_LEAVE`): they hand ownership ' +
    `to another member first (changeGroupMemberRole), or delete the group. ${missing}`,
  tags: ['groups'],
  auth: 'user',
  params: GroupParams,
  response: { status: 204 },
  errors: ['NOT_FOUND', 'OWNER_CANNOT_LEAVE'],
  rateLimit: writes,
});

export const inviteToGroup = endpoint({
  method: 'PUT',
  version: 1,
  path: '/groups/{groupId}/invitations/{userId}',
  operationId: 'inviteToGroup',
  summary: 'Invite a dancer to a group',
  description:
    'Any member of a public group, only the owner and admins of a private one (403 `FORBIDDEN` otherwise). The dancer is ' +
    'notified; someone who had asked to join becomes a member at once. Idempotent: a pending invitation or a member is answered ' +
    `as it stands. ${hiddenUser} ${missing}`,
  tags: ['groups'],
  auth: 'user',
  params: MemberParams,
  response: { status: 200, body: Invitation },
  errors: ['NOT_FOUND', 'FORBIDDEN', 'CANNOT_TARGET_SELF'],
  rateLimit: writes,
});

export const listGroupMembers = endpoint({
  method: 'GET',
  version: 1,
  path: '/groups/{groupId}/members',
  operationId: 'listGroupMembers',
  summary: 'List a group’s members with their roles',
  description: `Latest to join first, optionally one role only; people hidden by a block are left out. ${membersOnly} ${missing}`,
  tags: ['groups'],
  auth: 'optional',
  params: GroupParams,
  query: z.object({ role: GroupRole.optional().meta({ description: 'Only members with this role' }) }),
  response: paginated(GroupMember),
  errors: ['NOT_FOUND', 'FORBIDDEN'],
});

export const changeGroupMemberRole = endpoint({
  method: 'PUT',
  version: 1,
  path: '/groups/{groupId}/members/{userId}/role',
  operationId: 'changeGroupMemberRole',
  summary: 'Change a member’s role',
  description:
    'The owner only (403 `FORBIDDEN` for anyone else). Giving `owner` hands the group over: the old owner becomes an admin. ' +
    `A user who is not a member is 404 \`NOT_FOUND\`. ${missing}`,
  tags: ['groups'],
  auth: 'user',
  params: MemberParams,
  body: z.object({ role: GroupRole }).meta({ id: 'GroupRoleInput', example: { role: 'admin' } }),
  response: { status: 200, body: GroupMember },
  errors: ['NOT_FOUND', 'FORBIDDEN', 'CANNOT_TARGET_SELF'],
  rateLimit: writes,
});

export const removeGroupMember = endpoint({
  method: 'DELETE',
  version: 1,
  path: '/groups/{groupId}/members/{userId}',
  operationId: 'removeGroupMember',
  summary: 'Remove a member, or withdraw an invitation',
  description:
    'The owner removes anyone; an admin removes members, not admins (403 `FORBIDDEN`). Also withdraws a pending invitation. ' +
    `Idempotent: 204 for anyone who is not in. To leave, use leaveGroup. ${missing}`,
  tags: ['groups'],
  auth: 'user',
  params: MemberParams,
  response: { status: 204 },
  errors: ['NOT_FOUND', 'FORBIDDEN', 'CANNOT_TARGET_SELF'],
  rateLimit: writes,
});

export const listJoinRequests = endpoint({
  method: 'GET',
  version: 1,
  path: '/groups/{groupId}/join-requests',
  operationId: 'listJoinRequests',
  summary: 'List the requests to join a group',
  description: `Newest first; the owner and admins only (403 \`FORBIDDEN\`). People hidden by a block are left out. ${missing}`,
  tags: ['groups'],
  auth: 'user',
  params: GroupParams,
  response: paginated(JoinRequest),
  errors: ['NOT_FOUND', 'FORBIDDEN'],
});

export const approveJoinRequest = endpoint({
  method: 'POST',
  version: 1,
  path: '/groups/{groupId}/join-requests/{userId}/approve',
  operationId: 'approveJoinRequest',
  summary: 'Let a dancer in',
  description:
    'The owner and admins only (403 `FORBIDDEN`). The dancer becomes a member and is notified. Approving again answers the ' +
    'membership; without a pending request and without a membership it is 404 `NOT_FOUND`.',
  tags: ['groups'],
  auth: 'user',
  params: MemberParams,
  response: { status: 200, body: GroupMember },
  errors: ['NOT_FOUND', 'FORBIDDEN'],
  rateLimit: writes,
});

export const rejectJoinRequest = endpoint({
  method: 'POST',
  version: 1,
  path: '/groups/{groupId}/join-requests/{userId}/reject',
  operationId: 'rejectJoinRequest',
  summary: 'Turn a request to join down',
  description: 'The owner and admins only (403 `FORBIDDEN`). The dancer is notified. Idempotent: 204 for any id.',
  tags: ['groups'],
  auth: 'user',
  params: MemberParams,
  response: { status: 204 },
  errors: ['NOT_FOUND', 'FORBIDDEN'],
  rateLimit: writes,
});

export const listMyGroups = endpoint({
  method: 'GET',
  version: 1,
  path: '/users/me/groups',
  operationId: 'listMyGroups',
  summary: 'List my groups',
  description: 'The groups the caller is a member of, latest joined first.',
  tags: ['groups'],
  auth: 'user',
  response: paginated(Group),
});

export const listMyGroupInvitations = endpoint({
  method: 'GET',
  version: 1,
  path: '/users/me/group-invitations',
  operationId: 'listMyGroupInvitations',
  summary: 'List the invitations waiting for me',
  description: 'Newest first; invitations from people hidden by a block are left out.',
  tags: ['groups'],
  auth: 'user',
  response: paginated(GroupInvitation),
});

export const listGroupEvents = endpoint({
  method: 'GET',
  version: 1,
  path: '/groups/{groupId}/events',
  operationId: 'listGroupEvents',
  summary: 'List a group’s events',
  description: `Newest first. Its owner and admins create them with createEvent and a \`groupId\`. ${membersOnly} ${missing}`,
  tags: ['groups'],
  auth: 'optional',
  params: GroupParams,
  response: paginated(Event),
  errors: ['NOT_FOUND', 'FORBIDDEN'],
});
