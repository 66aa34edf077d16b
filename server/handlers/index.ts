import type { Handlers } from '../../generated/server';
import type { Services } from '../services';
import { events } from './events';
import { health } from './health';

export const handlers: Handlers<Services> = { events, health };
