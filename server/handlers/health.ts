import { ApiError } from '../../runtime/server';
import type { HealthHandlers } from '../../generated/server';
import type { Services } from '../services';

const version = process.env.npm_package_version ?? '0.0.0';

export const health: HealthHandlers<Services> = {
  async getHealth(_input, { database, startedAt, log }) {
    try {
      await database.ping();
    } catch (error) {
      log.error({ err: error }, 'health check: database unreachable');
      throw new ApiError('SERVICE_UNAVAILABLE', 'The database is unreachable');
    }
    return { status: 'ok', database: 'reachable', version, uptimeSeconds: Math.round((Date.now() - startedAt) / 1000) };
  },
};
