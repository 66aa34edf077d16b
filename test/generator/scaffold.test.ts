import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { api } from '../../contracts';
import { buildModel } from '../../generator/model';
import { renderScaffold } from '../../generator/render';
import { listContracts } from '../../runtime/contract';
import { REPO } from './fixtures/project';

/**
 * The scaffold is text the generator writes, so that it compiles needs its text compiled: the
 * health tag's scaffold is kept as scaffolded-health.test-d.ts, which `npm run typecheck` compiles,
 * and this test keeps that file equal to what the generator writes today.
 */
describe('the --scaffold stub of a tag', () => {
  it('is the text that scaffolded-health.test-d.ts type-checks', () => {
    const tag = buildModel(api, listContracts(api)).tags.find((t) => t.name === 'health')!;
    const rendered = renderScaffold(tag, {
      root: REPO,
      contractsFile: 'contracts/index.ts',
      outDir: 'generated',
      runtime: '@contract-kit/runtime',
      handlersDir: 'test/generator',
      servicesImport: '../../server/services',
      servicesType: 'Services',
    });
    const kept = readFileSync(new URL('./scaffolded-health.test-d.ts', import.meta.url), 'utf8').replace(/^\/\*\*[\s\S]*?\*\/\n/, '');
    expect(kept, 'the scaffold template changed: write its new output for health into scaffolded-health.test-d.ts').toBe(rendered);
  });
});
