import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toRequest, validCase, type Case, type Inputs } from './cases';
import { mutatedCases } from './mutations';
import { describeRequest, describeResponse, judge, snippet } from './check';
import { Pools } from './generate';
import { Accounts, startFuzzApp, type FuzzApp, type FuzzRequest, type FuzzResponse } from './harness';
import { Rng } from '../../runtime/core/seeded-random';
import { SchemaChecker } from './schemas';
import { operations } from './spec';

/**
 * The contract fuzzer: for every operation of the generated OpenAPI document (none is named here,
 * so a new one is covered without editing this file) it sends valid requests drawn from the
 * operation's schemas, probes at the edges of valid, and invalid ones that each break one rule
 * (see cases.ts), and checks every answer against the spec (see check.ts).
 *
 *   FUZZ_SEED=<n>  replays a run (the seed is printed on every failure and in the summary);
 *                  without it each run draws a new one.
 *   FUZZ_RUNS=<n>  valid requests drawn per operation (default 5); the probes and invalid
 *                  requests are one per rule and field (a seeded few of the values that break
 *                  one rule the same way).
 *   FUZZ_MUTATIONS=<n>  probes and invalid requests sent per operation: a seeded sample of them
 *                  (default 12, to keep `npm test` within its time; each run samples others), 0
 *                  for every one (`npm run fuzz`, which .ci/run runs too).
 *
 * Operations run in document order against one app, so later ones reuse the ids earlier answers
 * handed out (an event created by createEvent is read by getEvent). Replaying one operation alone
 * (`-t`) draws the same cases but may meet other records.
 */

const seed = envInteger('FUZZ_SEED') ?? Math.floor(Math.random() * 2 ** 31);
const runs = envInteger('FUZZ_RUNS') ?? 5;
const mutations = envInteger('FUZZ_MUTATIONS') ?? 12;
const replay = `FUZZ_SEED=${seed}${process.env.FUZZ_RUNS ? ` FUZZ_RUNS=${runs}` : ''} FUZZ_MUTATIONS=${mutations} npx vitest run test/fuzz`;
const MAX_REPORTED = 40;
/** More valid requests drawn when none of the first passed input validation. */
const EXTRA_RUNS = 24;
/** Invalid requests in flight at once (they are independent; the app is in this process). */
const CONCURRENCY = 4;

const ops = operations();
const checker = new SchemaChecker();
const pools = new Pools();
const covered = new Set<string>();
let requests = 0;
/** Operations none of whose valid requests passed input validation (their invalid ones are then not required to name the field). */
const unvalidated: string[] = [];
let app: FuzzApp;
let accounts: Accounts;

// Opening and migrating the embedded database takes seconds, more on a busy machine.
beforeAll(async () => {
  app = await startFuzzApp();
  accounts = new Accounts(app);
}, 60_000);
afterAll(async () => {
  const note = unvalidated.length > 0 ? `; no valid request passed input validation for ${unvalidated.join(', ')}` : '';
  const sampled = mutations === 0 ? 'every' : `up to ${mutations}`;
  console.log(
    `contract fuzz: ${covered.size} of ${ops.length} operations, ${requests} requests (${sampled} invalid and edge cases each), seed ${seed} (replay: ${replay})${note}`,
  );
  await app?.close();
});

describe('contract fuzz', () => {
  it.each(ops.map((op) => [op.id, op] as const))('%s', async (_, op) => {
    const ctx = { rng: new Rng(`${seed}/${op.id}`), pools, checker };
    const failures: string[] = [];
    const check = async (c: Case) => {
      const { req, res } = await exchange(op, c);
      const verdict = judge(op, c, req, res, checker);
      if (verdict.problems.length > 0) {
        const logged = res.status >= 500 ? serverLog(verdict.json) : '';
        failures.push(
          `  [${c.kind}] ${c.label}\n    request:  ${describeRequest(req)}\n    response: ${describeResponse(res)}${logged}\n${verdict.problems.map((p) => `    ✗ ${p}`).join('\n')}`,
        );
      } else if (res.status < 300) {
        // What a success handed out (ids, usernames, cursors) feeds the next requests.
        pools.record(verdict.schema, verdict.json);
        if (c.kind === 'valid' && c.inputs.body && 'json' in c.inputs.body && op.body) pools.record(op.body.schema, c.inputs.body.json);
      }
      return { res, json: verdict.json };
    };

    // Valid requests, one after the other (each may hand out what the next one uses). Those the
    // runtime lets through its input validation become the bases of the invalid requests. When
    // none does (a rule the spec states only in prose, ids of records that do not exist), plain
    // requests whose ids all come from one pool are tried: the users', the events', ….
    const bases: Inputs[] = [];
    const tryValid = async (c: Case) => {
      const { res, json } = await check(c);
      const code = (json as { code?: unknown } | undefined)?.code;
      // A signed-in request refused at authentication tells nothing of its input; a public one answered 401 got past validation.
      const refused = typeof code === 'string' && (INPUT_REFUSALS.has(code) || (op.secured && AUTH_REFUSALS.has(code)));
      if (res.status < 500 && !refused) bases.push(c.inputs);
    };
    for (let i = 0; i < runs; i++) await tryValid(validCase(op, ctx, `valid #${i + 1}`));
    const idPools = pools.uuidPools();
    for (let i = 0; bases.length === 0 && i < EXTRA_RUNS && (op.parameters.length > 0 || op.body); i++) {
      const uuidPool = idPools.length > 0 ? idPools[i % idPools.length] : undefined;
      const mode = Math.floor(i / Math.max(1, idPools.length)) % 2 ? 'random' : 'plain';
      await tryValid(validCase(op, ctx, `valid, retry #${i + 1}${uuidPool ? ` (ids from ${uuidPool})` : ''}`, { mode, uuidPool }));
    }
    if (bases.length === 0 && (op.parameters.length > 0 || op.body)) unvalidated.push(op.id);

    // Probes and invalid requests, independent of each other: a few at a time.
    const all = mutatedCases(op, ctx, bases);
    const cases = mutations === 0 ? all : ctx.rng.sample(all, mutations);
    for (let i = 0; i < cases.length; i += CONCURRENCY) await Promise.all(cases.slice(i, i + CONCURRENCY).map(check));

    covered.add(op.id);
    if (failures.length > 0) {
      const shown = failures.slice(0, MAX_REPORTED).join('\n');
      const more = failures.length > MAX_REPORTED ? `\n  … and ${failures.length - MAX_REPORTED} more` : '';
      expect.fail(
        `${op.id} (${op.method} ${op.path}): ${failures.length} failing request(s); seed ${seed}, replay: ${replay}\n${shown}${more}`,
      );
    }
  });

  it('covered every operation of the spec', () => {
    expect([...covered].sort()).toEqual(ops.map((op) => op.id).sort());
  });
});

/** Codes of the runtime's input checks: a valid request answered with one is not a base. */
const INPUT_REFUSALS = new Set([
  'VALIDATION_FAILED',
  'MALFORMED_JSON',
  'INVALID_CURSOR',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'RATE_LIMITED',
]);
const AUTH_REFUSALS = new Set(['UNAUTHENTICATED', 'TOKEN_EXPIRED']);

function envInteger(name: string): number | undefined {
  const text = process.env[name];
  if (text === undefined || text === '') return undefined;
  if (!/^\d+$/.test(text)) throw new Error(`${name} must be a non-negative integer, got ${JSON.stringify(text)}`);
  return Number(text);
}

/** What the app logged about a failed request (by its request id): the error behind a 500. */
function serverLog(problem: unknown): string {
  const id = (problem as { requestId?: unknown } | undefined)?.requestId;
  const line = app.logLines.find((l) => l.reqId === id && typeof l.err === 'object');
  const err = line?.err as { type?: string; message?: string } | undefined;
  return err ? `\n    server log: ${err.type ?? 'Error'}: ${snippet(err.message ?? '', 200)}` : '';
}

/** Sends a case; a signed-in request whose session some earlier case ended is sent again with a fresh account. */
async function exchange(op: (typeof ops)[number], c: Case): Promise<{ req: FuzzRequest; res: FuzzResponse }> {
  for (let attempt = 0; ; attempt++) {
    const account = c.inputs.auth !== 'account' ? undefined : op.roles.length > 0 ? await accounts.privileged() : await accounts.get();
    // The fuzz accounts are users the requests may name (their names, passwords and ids).
    for (const a of accounts.all) {
      pools.add('username', a.username);
      pools.add('password', a.password);
      pools.add('userId', a.userId);
      pools.add('*uuid', a.userId);
    }
    const req = toRequest(op, c.inputs, account?.accessToken);
    const res = await app.send(req);
    requests++;
    if (!account || res.status !== 401 || attempt > 0) return { req, res };
    const code = (() => {
      try {
        return (JSON.parse(res.body.toString('utf8')) as { code?: unknown }).code;
      } catch {
        return undefined;
      }
    })();
    if (code !== 'UNAUTHENTICATED' && code !== 'TOKEN_EXPIRED') return { req, res };
    accounts.drop(account.accessToken);
  }
}
