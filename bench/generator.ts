import { z } from 'zod';
import { defineApi, endpoint, paginated, Timestamp, Uuid } from '../runtime/contract';
import { readGeneratorConfig } from '../generator/config';
import { listContracts } from '../runtime/contract';
import { generateFiles } from '../generator/pipeline';

/** Generator wall time (check → spec → lint → types → templates) for N synthetic endpoints. */
export function syntheticApi(count: number) {
  const Item = z.object({ id: Uuid, name: z.string().max(100), size: z.number().int(), createdAt: Timestamp }).meta({ id: 'Item' });
  const exports: Record<string, unknown> = {};
  for (let i = 0; i < count; i++) {
    const resource = `resource${Math.floor(i / 5)}`;
    const kind = i % 5;
    const base = { version: 1, tags: ['synthetic'] as ['synthetic'], auth: 'user' as const };
    const id = `op${i}`;
    const path = `/${resource.replace(/(\d+)/, '-$1')}`;
    exports[id] =
      kind === 0
        ? endpoint({
            ...base,
            method: 'GET',
            path,
            operationId: id,
            summary: `List ${resource}`,
            query: z.object({ q: z.string().max(50).optional() }),
            response: paginated(Item),
          })
        : kind === 1
          ? endpoint({
              ...base,
              method: 'POST',
              path,
              operationId: id,
              summary: `Create ${resource}`,
              body: z.object({ name: z.string().max(100), size: z.number().int() }),
              response: { status: 201, body: Item },
            })
          : endpoint({
              ...base,
              method: (['GET', 'PATCH', 'DELETE'] as const)[kind - 2]!,
              path: `${path}/{itemId}`,
              operationId: id,
              summary: `Item of ${resource}`,
              params: z.object({ itemId: Uuid }),
              ...(kind === 3 ? { body: z.object({ name: z.string().max(100).optional() }) } : {}),
              response: kind === 4 ? { status: 204 } : { status: 200, body: Item },
              errors: ['NOT_FOUND'],
            });
  }
  return defineApi({
    info: {
      title: 'Synthetic',
      version: '1.0.0',
      description: 'Synthetic API for the generator benchmark',
      license: { name: 'MIT', identifier: 'MIT' },
    },
    servers: [{ url: '/', description: 'here' }],
    tags: { synthetic: 'Synthetic operations' },
    problemBaseUrl: 'https://mundotango.life/problems',
    errors: {},
    modules: { synthetic: exports },
  });
}

export async function measureGenerator(root: string, count: number): Promise<{ count: number; ms: number; steps: Record<string, number> }> {
  const api = syntheticApi(count);
  const config = readGeneratorConfig(root);
  const started = performance.now();
  const { timings } = await generateFiles(root, config, api, listContracts(api));
  return { count, ms: performance.now() - started, steps: timings };
}
