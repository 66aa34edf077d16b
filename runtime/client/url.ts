import type { OperationDescriptor, RequestInput } from './types.js';

export function buildUrl(baseUrl: string, op: OperationDescriptor, input: RequestInput): string {
  const path = op.path.replace(/\{([^}]+)\}/g, (_match, name: string) => {
    const value = input.params?.[name];
    if (value === undefined || value === null) {
      throw new TypeError(`${op.operationId}: missing path parameter "${name}"`);
    }
    return encodeURIComponent(String(value));
  });
  const query = serializeQuery(input.query);
  return `${baseUrl.replace(/\/+$/, '')}${path}${query ? `?${query}` : ''}`;
}

function serializeQuery(query: Record<string, unknown> | undefined): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    for (const item of Array.isArray(value) ? value : [value]) {
      if (item === undefined || item === null) continue;
      search.append(key, item instanceof Date ? item.toISOString() : String(item));
    }
  }
  return search.toString();
}
