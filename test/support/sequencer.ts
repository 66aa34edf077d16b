import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Files known to take longest (real processes, an embedded database created or fuzzed, the
 * generator on copies of the project), slowest first. Vitest starts the slowest files first when it
 * remembers their durations (see cacheDir in vitest.config.ts); without that memory, on a new
 * machine, it starts the largest, and these are short files: started last, they ran alone on one
 * core at the end of the run (97 s against 76 s for the same suite with the durations known).
 */
const SLOWEST = [
  'test/fuzz/contract-fuzz.test.ts',
  'test/e2e/realtime.test.ts',
  'test/runtime/core/compiled-schema.test.ts',
  'test/e2e/realtime-token-expiry.test.ts',
  'test/server/db/migrate.test.ts',
  'test/generator/pipeline.test.ts',
];

export class SlowestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const key = (file: TestSpecification) => `${file.project.name}:${relative(this.ctx.config.root, file.moduleId)}`;
    // The remembered durations, when there are some for every file, order them better than this list.
    if (sorted.every((file) => this.ctx.cache.getFileTestResults(key(file)))) return sorted;
    const rank = (file: TestSpecification) => {
      const index = SLOWEST.indexOf(relative(this.ctx.config.root, file.moduleId).replaceAll('\\', '/'));
      return index === -1 ? SLOWEST.length : index;
    };
    // Array.prototype.sort is stable: the rest keep the base order.
    return sorted.sort((a, b) => rank(a) - rank(b));
  }
}
