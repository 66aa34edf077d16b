import type { MemoriesHandlers } from '../../generated/server';
import type { Services } from '../services';
import type { MemoryView } from '../services/memories';
import { toUser } from '../services/user-views';

function toMemory(view: MemoryView) {
  const { memory } = view;
  return {
    id: memory.id,
    owner: toUser(view.owner),
    title: memory.title,
    body: memory.body,
    happenedOn: memory.happenedOn,
    city: memory.city,
    place: memory.place,
    eventId: memory.eventId,
    visibility: memory.visibility,
    tagged: view.tagged.map(toUser),
    media: view.media,
    createdAt: memory.createdAt.toISOString(),
    editedAt: memory.editedAt?.toISOString() ?? null,
    hidden: memory.hiddenAt !== null,
  };
}

export const memories: MemoriesHandlers<Services> = {
  async createMemory({ body }, { memories, user }) {
    return toMemory(await memories.create(user.id, body));
  },

  async getMemory({ params }, { memories, user }) {
    return toMemory(await memories.get(user?.id ?? null, params.memoryId));
  },

  async updateMemory({ params, body }, { memories, user }) {
    return toMemory(await memories.update(user.id, params.memoryId, body));
  },

  async deleteMemory({ params }, { memories, user }) {
    await memories.remove(user.id, params.memoryId);
  },

  async removeMyMemoryTag({ params }, { memories, user }) {
    await memories.untag(user.id, params.memoryId);
  },

  async listMyMemories({ query, page }, { memories, user }) {
    const list = await memories.list(user.id, query.tagged === 'true', page);
    return { items: list.items.map(toMemory), next: list.next };
  },

  async listMemoriesOnThisDay({ query, page }, { memories, user }) {
    const list = await memories.onThisDay(user.id, query.date ?? new Date().toISOString().slice(0, 10), page);
    return { items: list.items.map(toMemory), next: list.next };
  },
};
