import type { Handlers } from '../../generated/server';
import type { Services } from '../services';
import { admin } from './admin';
import { auth } from './auth';
import { events } from './events';
import { groups } from './groups';
import { health } from './health';
import { media } from './media';
import { memories } from './memories';
import { messages } from './messages';
import { moderation } from './moderation';
import { notifications } from './notifications';
import { posts } from './posts';
import { social } from './social';
import { stories } from './stories';
import { users } from './users';

export const handlers: Handlers<Services> = {
  admin,
  auth,
  events,
  groups,
  health,
  media,
  memories,
  messages,
  moderation,
  users,
  notifications,
  posts,
  social,
  stories,
};
