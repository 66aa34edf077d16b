/**
 * What `npm run generate -- --scaffold` writes for the health tag, byte for byte below this comment
 * (scaffold.test.ts checks that): `npm run typecheck` compiles it against the full handler types.
 */
import { ApiError } from '@contract-kit/runtime/server';
import type { HealthHandlers } from '../../generated/server';
import type { Services } from '../../server/services';

// Written once by `npm run generate -- --scaffold`; yours to edit, never overwritten.
// Each handler answers 501 NOT_IMPLEMENTED until it is implemented.
export const health: HealthHandlers<Services> = {
  getHealth() {
    throw new ApiError('NOT_IMPLEMENTED', 'getHealth is not implemented yet');
  },
};
