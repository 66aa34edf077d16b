import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Files that take longest (child processes, the generator, on-disk databases, the fuzzer), started
 * first even when vitest has no timings of an earlier run (a fresh clone, as in CI): started last,
 * one of them would finish alone after every other file and add its whole time to the run's.
 */
const SLOW_FIRST = [
  'test/generator/cli.test.ts',
  'test/server/main.test.ts',
  'test/server/db/migrate.test.ts',
  'test/fuzz/contract-fuzz.test.ts',
  'test/generator/client-package.test.ts',
  'test/generator/pipeline.test.ts',
  'test/e2e/realtime.test.ts',
];

export default class SlowFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (file: TestSpecification) => {
      const index = SLOW_FIRST.findIndex((path) => file.moduleId.endsWith(path));
      return index === -1 ? SLOW_FIRST.length : index;
    };
    // Stable: the rest keep the order of the timings vitest has (or its own default).
    return sorted
      .map((file, position) => ({ file, position }))
      .sort((a, b) => rank(a.file) - rank(b.file) || a.position - b.position)
      .map((e) => e.file);
  }
}
