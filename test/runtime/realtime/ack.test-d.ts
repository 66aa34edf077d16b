/**
 * The real-time client restates the contract's `Ack` (it is copied into the generated client,
 * which imports nothing of the runtime); `npm run typecheck` fails the day the two drift apart.
 */
import { expectTypeOf } from 'vitest';
import type { Ack as ContractAck } from '../../../runtime/contract';
import type { Ack as ClientAck } from '../../../runtime/realtime/client';

expectTypeOf<ClientAck<{ id: string }>>().toEqualTypeOf<ContractAck<{ id: string }>>();
