import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { z } from 'zod';

/** generator.config.json: where the contracts are and where the output goes. */
const GeneratorConfig = z.object({
  contracts: z.string().min(1),
  export: z.string().min(1).default('api'),
  outDir: z.string().min(1).default('generated'),
  /** The runtime package the generated code imports, by name. */
  runtime: z.string().min(1).default('@contract-kit/runtime'),
  /** The name of the generated client's package (outDir/client/package.json). */
  clientPackage: z.string().min(1).default('api-client'),
  /** The published contract of each major version (see published.ts), from the project folder. */
  published: z.string().min(1).default('api-lock'),
  handlers: z.object({
    dir: z.string().min(1),
    servicesImport: z.string().min(1),
    servicesType: z.string().min(1),
  }),
});

export type GeneratorConfig = z.output<typeof GeneratorConfig>;

export function readGeneratorConfig(root: string, file = 'generator.config.json'): GeneratorConfig {
  const path = resolve(root, file);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`Cannot read the generator config ${path}: ${(error as Error).message}`);
  }
  const result = GeneratorConfig.safeParse(raw);
  if (!result.success) throw new Error(`${file}: ${result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  // The output folder is emptied of files the generator did not write: it must be a folder of its own.
  const outDir = resolve(root, result.data.outDir);
  const contractsDir = dirname(resolve(root, result.data.contracts));
  const inside = (parent: string, child: string) => child === parent || child.startsWith(parent + sep);
  if (
    inside(outDir, resolve(root)) ||
    inside(outDir, contractsDir) ||
    existsSync(join(outDir, '.git')) ||
    existsSync(join(outDir, 'package.json'))
  ) {
    throw new Error(
      `${file}: outDir "${result.data.outDir}" must be a folder of its own (not the project, nor one holding the contracts): the generator removes files there that it did not write`,
    );
  }
  return result.data;
}
