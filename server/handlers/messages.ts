import type { MessagesHandlers } from '../../generated/server';
import type { Services } from '../services';

/** Thin: the rules live in the messaging service, which the socket handlers share. */
export const messages: MessagesHandlers<Services> = {
  async createConversation({ body }, { messaging, user }) {
    return (await messaging.createConversation({ creatorId: user.id, ...body })).conversation;
  },

  listConversations({ page }, { messaging, user }) {
    return messaging.listConversations(user.id, page);
  },

  getConversation({ params }, { messaging, user }) {
    return messaging.getConversation(params.conversationId, user.id);
  },

  listMessages({ params, query, page }, { messaging, user }) {
    return messaging.listMessages({ conversationId: params.conversationId, userId: user.id, afterMessageId: query.after, page });
  },

  async sendMessage({ params, body }, { messaging, user }) {
    return (await messaging.send({ conversationId: params.conversationId, senderId: user.id, ...body })).message;
  },

  async markRead({ params, body }, { messaging, user }) {
    return (await messaging.markRead({ conversationId: params.conversationId, userId: user.id, messageId: body.messageId })).receipt;
  },
};
