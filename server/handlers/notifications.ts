import type { NotificationsHandlers } from '../../generated/server';
import type { Services } from '../services';

/** Thin: the rules (whose notifications, collapse, mute) live in the notification service. */
export const notifications: NotificationsHandlers<Services> = {
  listNotifications({ query, page }, { notifications, user }) {
    return notifications.list(user.id, { unreadOnly: query.unread === true, page });
  },

  async countUnreadNotifications(_input, { notifications, user }) {
    return { count: await notifications.unreadCount(user.id) };
  },

  markNotificationRead({ params }, { notifications, user }) {
    return notifications.markRead(user.id, params.notificationId);
  },

  async markAllNotificationsRead({ body }, { notifications, user }) {
    return { marked: await notifications.markAllRead(user.id, body.until ? new Date(body.until) : undefined) };
  },

  deleteNotification({ params }, { notifications, user }) {
    return notifications.remove(user.id, params.notificationId);
  },

  async muteConversation({ params }, { notifications, user }) {
    await notifications.setMuted(user.id, params.conversationId, true);
    return { conversationId: params.conversationId, muted: true };
  },

  async unmuteConversation({ params }, { notifications, user }) {
    await notifications.setMuted(user.id, params.conversationId, false);
    return { conversationId: params.conversationId, muted: false };
  },
};
