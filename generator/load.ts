import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { listContracts, type ApiDefinition, type ContractEntry } from '@contract-kit/runtime/contract';

/** Loads the API definition from the module the config names (the generator never imports contracts/ directly). */
export async function loadApi(
  root: string,
  modulePath: string,
  exportName: string,
): Promise<{ api: ApiDefinition; contracts: ContractEntry[] }> {
  const file = resolve(root, modulePath);
  const mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  const api = mod[exportName] as ApiDefinition | undefined;
  if (!api || typeof api !== 'object' || !('modules' in api)) {
    throw new Error(`${modulePath} does not export an API definition named "${exportName}" (use defineApi)`);
  }
  for (const name of Object.keys(api.modules)) {
    if (!existsSync(join(dirname(file), `${name}.ts`))) {
      throw new Error(
        `Contract module "${name}" must be the file ${join(dirname(modulePath), `${name}.ts`)} (modules are keyed by file name)`,
      );
    }
  }
  const inNameOrder = {
    ...api,
    modules: Object.fromEntries(Object.entries(api.modules).map(([name, exports]) => [name, sortedByKey(exports)])),
  };
  return { api: inNameOrder, contracts: listContracts(inNameOrder) };
}

/**
 * A module's exports in name order, the order an ES module namespace has: the output is then the same
 * however the contracts were loaded (a test runner's transform keeps them in declaration order).
 */
function sortedByKey(exports: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return Object.fromEntries(
    Object.keys(exports)
      .sort()
      .map((key) => [key, exports[key]]),
  );
}
