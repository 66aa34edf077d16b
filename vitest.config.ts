import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';
import { SlowestFirstSequencer } from './test/support/sequencer.ts';

const tier = process.env.BROWSER_TESTS ? 'browser' : process.env.PROCESS_TESTS ? 'processes' : undefined;

export default defineConfig({
  // Vitest keeps each file's last duration here and starts the slowest first: kept by this machine
  // rather than the checkout, a fresh clone (CI's) starts with the timings of earlier runs.
  cacheDir: join(tmpdir(), 'mundo-tango-vite'),
  test: {
    // Two folders are tiers of their own, each run by its script and by .ci/run, not by `npm test`:
    // test/browser/ drives a real Chromium (`npm run test:browser`), test/processes/ runs the server
    // as real processes, kills and restarts them, runs the generator's command on copies of the
    // project, and compiles and runs the generated client as another project (`npm run
    // test:processes`): seconds of CPU each.
    include: tier ? [`test/${tier}/**/*.test.ts`] : ['test/**/*.test.ts'],
    exclude: tier ? [] : ['test/browser/**', 'test/processes/**'],
    environment: 'node',
    // Migrates a PGlite template once per run and finds out whether PostgreSQL and Redis are reachable.
    globalSetup: ['test/support/global-setup.ts'],
    // Vitest's default is one worker fewer than the cores: a single one on a 2-core machine. Most
    // files spend much of their time waiting (sockets, PostgreSQL, timers), so one more than the
    // cores keeps them busy: 82.7 s against 87.3 s with one per core (same machine, back to back).
    // test/processes/ one file at a time: each starts two to five server processes of its own.
    maxWorkers: tier === 'processes' ? 1 : availableParallelism() + 1,
    // The slowest files first, also on a machine that has not run them yet (see the sequencer).
    sequence: { sequencer: SlowestFirstSequencer },
    // Worker threads rather than child processes: 127 s of CPU against 132 s, 104.6 s against
    // 110.2 s of wall time (same machine, back to back, the slower run on the faster minute).
    pool: 'threads',
    // A worker keeps its loaded modules from one file to the next: importing the app and the
    // generated code again for each file cost seconds per file. Files share no state but their
    // databases, which are their own.
    isolate: false,
    // Passwords are hashed at argon2id's lowest cost (server/auth/password-hash.ts says why and how
    // it is confined to test runs); test/server/auth/password-hash.test.ts checks the OWASP cost.
    env: { PASSWORD_HASH_COST: 'test' },
    // Modules as Vite transformed them, kept between runs (keyed by path and content): transforming
    // the app, the contracts and the generated code again cost each run seconds of CPU. Kept by this
    // machine like cacheDir above, so a fresh clone at the same path starts with them too.
    experimental: { fsModuleCache: true, fsModuleCachePath: join(tmpdir(), 'mundo-tango-vitest-modules') },
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
});
