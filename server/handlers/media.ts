import type { MediaHandlers } from '../../generated/server';
import type { Services } from '../services';
import { toWireMedia } from '../services/media';

export const media: MediaHandlers<Services> = {
  async getMedia({ params }, { media, user }) {
    return toWireMedia(await media.get(user?.id ?? null, params.mediaId));
  },

  async downloadMedia({ params, query }, { media, user }) {
    return media.file(user?.id ?? null, params.mediaId, query.variant);
  },

  async listMyMedia({ page }, { media, user }) {
    const found = await media.listMine(user.id, page);
    return { items: found.items.map(toWireMedia), next: found.next };
  },

  async getMediaQuota(_input, { media, user }) {
    return media.quota(user.id);
  },

  async deleteMedia({ params }, { media, user }) {
    await media.remove(user.id, params.mediaId);
  },
};
