/**
 * What Swagger UI fills in, computed from the spec as its own components do (read against the live
 * page by a reviewer: every parameter and body matched): the operations, examples, `$ref`s followed.
 */
// biome-ignore lint/suspicious/noExplicitAny: the spec, read field by field.
type Json = any;

export function operations(spec: Json): { path: string; method: string; op: Json }[] {
  return Object.entries<Json>(spec.paths).flatMap(([path, item]) =>
    Object.entries<Json>(item)
      .filter(([, op]) => typeof op === 'object' && op?.operationId)
      .map(([method, op]) => ({ path, method, op })),
  );
}

export function firstExample(node: Json): unknown {
  if (node?.examples && typeof node.examples === 'object') return (Object.values<Json>(node.examples)[0] as Json)?.value;
  return node?.example;
}

/** The schema with its `$ref`s followed, as Swagger UI's resolver gives it (a schema met again inside itself is cut). */
export function resolved(spec: Json, schema: Json, seen: string[] = []): Json {
  if (Array.isArray(schema)) return schema.map((item) => resolved(spec, item, seen));
  if (!schema || typeof schema !== 'object') return schema;
  if (typeof schema.$ref === 'string') {
    if (seen.includes(schema.$ref)) return {};
    const target = schema.$ref
      .replace('#/', '')
      .split('/')
      .reduce((node: Json, key: string) => node[key], spec);
    return resolved(spec, target, [...seen, schema.$ref]);
  }
  return Object.fromEntries(Object.entries(schema).map(([key, value]) => [key, resolved(spec, value, seen)]));
}

/** What Swagger UI fills in a parameter's field with (its ParameterRow): the example, else the schema's, else a default. */
export function filledParameter(parameter: Json): string | undefined {
  const value = firstExample(parameter) ?? parameter.schema?.example ?? parameter.schema?.default;
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : JSON.stringify(value);
}
