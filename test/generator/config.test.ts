import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readGeneratorConfig } from '../../generator/config';

/** The output folder is swept of files the generator did not write, so it must be one of its own. */
const root = mkdtempSync(join(tmpdir(), 'mundo-config-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function configWith(outDir: string): string {
  const file = join(root, `config-${Math.random().toString(36).slice(2)}.json`);
  const handlers = { dir: 'server/handlers', servicesImport: '../services', servicesType: 'Services' };
  writeFileSync(file, JSON.stringify({ contracts: 'contracts/index.ts', outDir, handlers }));
  return file;
}

describe('generator config', () => {
  it.each(['.', '..', 'contracts/..', 'contracts'])('refuses outDir %s, which would hold the project or its contracts', (outDir) => {
    expect(() => readGeneratorConfig(root, configWith(outDir))).toThrow(/must be a folder of its own/);
  });

  it('accepts a folder of its own', () => {
    expect(readGeneratorConfig(root, configWith('generated')).outDir).toBe('generated');
  });

  it('names a missing config file without a stack', () => {
    expect(() => readGeneratorConfig(root, 'nope.json')).toThrow(/Cannot read the generator config/);
  });
});
