import type { GroupsHandlers } from '../../generated/server';
import { ApiError } from '../../runtime/server';
import type { Services } from '../services';
import type { GroupView, MemberRecord } from '../services/groups';
import { toEvent } from './events';
import { toUser } from '../services/user-views';

function notSelf(callerId: string, userId: string) {
  if (callerId === userId) throw new ApiError('CANNOT_TARGET_SELF', 'Use leaveGroup for yourself');
}

function toGroup(view: GroupView) {
  const { group } = view;
  return {
    id: group.id,
    name: group.name,
    description: group.description,
    kind: group.kind,
    city: group.city,
    visibility: group.visibility,
    hidden: group.hiddenAt !== null,
    memberCount: view.memberCount,
    myRole: view.myRole,
    myRequest: view.myRequest,
    conversationId: view.conversationId,
    createdAt: group.createdAt.toISOString(),
    updatedAt: group.updatedAt.toISOString(),
  };
}

const toMember = (member: MemberRecord) => ({ user: toUser(member.user), role: member.role, joinedAt: member.joinedAt.toISOString() });

export const groups: GroupsHandlers<Services> = {
  async createGroup({ body }, { groups, user }) {
    return toGroup(await groups.create(user.id, body));
  },

  async listGroups({ query, page }, { groups, user }) {
    const { items, next } = await groups.list(user?.id ?? null, query, page);
    return { items: items.map(toGroup), next };
  },

  async getGroup({ params }, { groups, user }) {
    return toGroup(await groups.get(user?.id ?? null, params.groupId));
  },

  async updateGroup({ params, body }, { groups, user, precondition }) {
    return toGroup(await groups.update(user.id, params.groupId, body, (seen) => precondition(toGroup(seen))));
  },

  async deleteGroup({ params }, { groups, user }) {
    await groups.remove(user.id, params.groupId);
  },

  async joinGroup({ params }, { groups, user }) {
    const membership = await groups.join(user.id, params.groupId);
    return { ...membership, since: membership.since.toISOString() };
  },

  async leaveGroup({ params }, { groups, user }) {
    await groups.leave(user.id, params.groupId);
  },

  async inviteToGroup({ params }, { groups, user }) {
    notSelf(user.id, params.userId);
    const invitation = await groups.invite(user.id, params.groupId, params.userId);
    return { status: invitation.status, since: invitation.since.toISOString() };
  },

  async listGroupMembers({ params, query, page }, { groups, user }) {
    const { items, next } = await groups.members(user?.id ?? null, params.groupId, query.role, page);
    return { items: items.map(toMember), next };
  },

  async changeGroupMemberRole({ params, body }, { groups, user }) {
    notSelf(user.id, params.userId);
    return toMember(await groups.changeRole(user.id, params.groupId, params.userId, body.role));
  },

  async removeGroupMember({ params }, { groups, user }) {
    notSelf(user.id, params.userId);
    await groups.removeMember(user.id, params.groupId, params.userId);
  },

  async listJoinRequests({ params, page }, { groups, user }) {
    const { items, next } = await groups.joinRequests(user.id, params.groupId, page);
    return { items: items.map((request) => ({ user: toUser(request.user), since: request.since.toISOString() })), next };
  },

  async approveJoinRequest({ params }, { groups, user }) {
    return toMember(await groups.approve(user.id, params.groupId, params.userId));
  },

  async rejectJoinRequest({ params }, { groups, user }) {
    await groups.reject(user.id, params.groupId, params.userId);
  },

  async listMyGroups({ page }, { groups, user }) {
    const { items, next } = await groups.listMine(user.id, page);
    return { items: items.map(toGroup), next };
  },

  async listMyGroupInvitations({ page }, { groups, user }) {
    const { items, next } = await groups.invitations(user.id, page);
    return {
      items: items.map((invitation) => ({
        group: toGroup(invitation.group),
        invitedBy: toUser(invitation.invitedBy),
        since: invitation.since.toISOString(),
      })),
      next,
    };
  },

  async listGroupEvents({ params, page }, { groups, user }) {
    const { items, next } = await groups.events(user?.id ?? null, params.groupId, page);
    return { items: items.map(toEvent), next };
  },
};
