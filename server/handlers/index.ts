import type { Handlers } from '../../generated/server';
import type { Services } from '../services';
import { auth } from './auth';
import { events } from './events';
import { groups } from './groups';
import { health } from './health';
import { messages } from './messages';
import { notifications } from './notifications';
import { posts } from './posts';
import { social } from './social';
import { users } from './users';

export const handlers: Handlers<Services> = { auth, events, groups, health, messages, users, notifications, posts, social };
