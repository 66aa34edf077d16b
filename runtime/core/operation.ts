import type { z } from 'zod';
import { isClientFailure, type ErrorRegistry, type RateLimit } from '../contract';
import { ApiError } from './api-error';
import { compiledSchema, FAIL } from './compiled-schema';
import { createOperationLimits, type LimiterFactory, type LimitSubject, type OperationLimits } from './rate-limit';
import { parseInput } from './validation';

/**
 * The transport-independent core of every operation, HTTP or socket event:
 * limits → validate → (transport step) → handler → settle the limits → output check.
 * A transport decodes its request into raw parts and encodes the outcome; the rules in between
 * live here once.
 */
export type InputPart = 'params' | 'query' | 'headers' | 'body' | 'payload';

export interface OperationSpec {
  /** operationId or event name: limit policies and error messages say it. */
  name: string;
  rateLimits: readonly RateLimit[];
  /** The input parts the handler gets, in reading order; one without a schema is `{}` (undefined for a body). */
  parts: readonly InputPart[];
  input: Partial<Record<InputPart, z.ZodType | undefined>>;
  /** Checks and filters what the handler returned; throws on a result that breaks the contract. */
  output: (result: unknown) => unknown;
}

export interface CompiledOperation {
  spec: OperationSpec;
  limits: OperationLimits | undefined;
}

export interface CoreOptions {
  limiters: LimiterFactory;
  /** The HTTP status of an error code, for the one client-failure rule. */
  errors: ErrorRegistry;
  /** A refused request is a security event (a lockout, for sign-in); the transport logs it. */
  onRateLimited?: (operation: CompiledOperation, call: Call, refusal: ApiError) => void;
}

/** One request as the core sees it: who asks, how to read its input, what runs around the handler. */
export interface Call {
  subject: LimitSubject;
  /** For the log lines the core asks the transport to write. */
  requestId?: string;
  /**
   * One raw input part, asked for in the order params → query → headers → body, after the first
   * limits: a refused request is never read, and a bad path is reported before a body is read.
   */
  read(part: InputPart): unknown;
  /**
   * After validation, before the handler: the transport's own step (shaping the page query,
   * claiming an Idempotency-Key). Returning `{ replay }` answers without calling the handler.
   */
  prepare?(input: Record<string, unknown>): Promise<{ replay: unknown } | undefined> | { replay: unknown } | undefined;
  handler(input: Record<string, unknown>): unknown;
}

export interface Outcome {
  /** The checked result, or the replayed answer when `replayed`. */
  value: unknown;
  replayed: boolean;
  /** Rate-limit headers of this request. */
  headers: Record<string, string> | undefined;
}

export function createCore(options: CoreOptions) {
  const statusOf = (code: string) => options.errors[code]?.status;

  function compile(spec: OperationSpec): CompiledOperation {
    const limits = spec.rateLimits.length > 0 ? createOperationLimits(spec.name, spec.rateLimits, options.limiters) : undefined;
    return { spec, limits };
  }

  async function limited(operation: CompiledOperation, stage: 'before-validation' | 'after-validation', call: Call) {
    try {
      return await operation.limits!.check(stage, call.subject);
    } catch (error) {
      if (error instanceof ApiError && error.code === 'RATE_LIMITED') options.onRateLimited?.(operation, call, error);
      throw error;
    }
  }

  async function execute(operation: CompiledOperation, call: Call): Promise<Outcome> {
    const { spec, limits } = operation;
    const { subject } = call;
    let headers = limits ? await limited(operation, 'before-validation', call) : undefined;

    const input: Record<string, unknown> = {};
    for (const part of spec.parts) {
      const schema = spec.input[part];
      if (!schema) {
        input[part] = part === 'body' || part === 'payload' ? undefined : {};
        continue;
      }
      let value = call.read(part);
      if (value instanceof Promise) value = await value;
      input[part] = parseInput(schema, value, part);
    }
    if (limits) {
      subject.body = input.body ?? input.payload;
      headers = merge(headers, await limited(operation, 'after-validation', call));
    }

    let early = call.prepare?.(input);
    if (early instanceof Promise) early = await early;
    if (early) {
      // A replay counts as the success the first answer was.
      if (limits?.countsFailures) await limits.settle(subject, 'success');
      return { value: early.replay, replayed: true, headers };
    }

    let result: unknown;
    try {
      result = await call.handler(input);
    } catch (error) {
      if (limits?.countsFailures) {
        const clientFailure = error instanceof ApiError && isClientFailure(statusOf(error.code));
        await limits.settle(subject, clientFailure ? 'client-failure' : 'server-failure');
      }
      throw error;
    }
    if (limits?.countsFailures) await limits.settle(subject, 'success');
    return { value: spec.output(result), replayed: false, headers };
  }

  return { compile, execute };
}

/**
 * Parsing through the output schema drops undeclared fields (a stray passwordHash never leaves)
 * and refuses a result that breaks the contract: the caller gets an internal error rather than
 * data its types do not describe, and the log names the operation and the broken fields.
 */
export function checkOutput(name: string, schema: z.ZodType, value: unknown): unknown {
  const checked = compiledSchema(schema)(value);
  if (checked !== FAIL) return checked;
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new Error(`The result of ${name} breaks its response schema: ${parsed.error.message}`);
}

function merge(a: Record<string, string> | undefined, b: Record<string, string> | undefined): Record<string, string> | undefined {
  return a && b ? { ...a, ...b } : (a ?? b);
}
