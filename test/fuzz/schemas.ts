import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { deref, document, type Schema } from './spec';

/**
 * JSON Schema checks against the spec: Ajv's 2020-12 dialect (OpenAPI 3.1's) with the full format
 * checks of ajv-formats, `$ref`s resolved into the document's components. Plus one check JSON
 * Schema does not make: an object whose schema lists `properties` holds no field it does not list
 * (the runtime filters responses to their schema, so an extra field is a leak).
 */

const BASE = 'https://fuzz.invalid/openapi.json';

export class SchemaChecker {
  private readonly ajv: Ajv2020;
  private readonly compiled = new WeakMap<object, ValidateFunction>();

  constructor() {
    // strict: false, because OpenAPI adds keywords of its own (`example`, `discriminator`, …).
    this.ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
    addFormats(this.ajv, { mode: 'full' });
    this.ajv.addSchema({ $id: BASE, components: rebase(document.components ?? {}) });
  }

  /** Why a value breaks a schema (empty when it does not). */
  errors(schema: Schema, value: unknown): string[] {
    const validate = this.validator(schema);
    if (validate(value)) return [];
    return (validate.errors ?? [])
      .slice(0, 8)
      .map(
        (e) =>
          `${e.instancePath || '/'} ${e.message ?? e.keyword}${e.params && 'allowedValues' in e.params ? ` ${JSON.stringify(e.params.allowedValues)}` : ''}`,
      );
  }

  isValid(schema: Schema, value: unknown): boolean {
    return this.validator(schema)(value) === true;
  }

  /** Fields of objects the schema describes with `properties` but that it does not declare. */
  undeclared(schema: Schema, value: unknown, path = ''): string[] {
    const s = merged(schema);
    const branches = (s.oneOf ?? s.anyOf) as Schema[] | undefined;
    if (branches) {
      // The branches the value matches; it is fine when one of them declares every field.
      const results = branches.filter((b) => this.isValid(b, value)).map((b) => this.undeclared(b, value, path));
      return results.find((r) => r.length === 0) ?? results[0] ?? [];
    }
    const out: string[] = [];
    if (Array.isArray(value)) {
      const prefix = (s.prefixItems as Schema[] | undefined) ?? [];
      value.forEach((item, i) => {
        const itemSchema = prefix[i] ?? (typeof s.items === 'object' ? (s.items as Schema) : undefined);
        if (itemSchema) out.push(...this.undeclared(itemSchema, item, `${path}/${i}`));
      });
      return out;
    }
    if (typeof value !== 'object' || value === null) return out;
    const properties = s.properties as Record<string, Schema> | undefined;
    const patterns = Object.entries((s.patternProperties as Record<string, Schema> | undefined) ?? {}).map(
      ([p, sub]) => [new RegExp(p, 'u'), sub] as const,
    );
    const additional = s.additionalProperties;
    for (const [key, child] of Object.entries(value)) {
      const at = `${path}/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`;
      const declared = properties && Object.hasOwn(properties, key) ? properties[key] : patterns.find(([re]) => re.test(key))?.[1];
      if (declared) out.push(...this.undeclared(declared, child, at));
      else if (typeof additional === 'object' && additional !== null) out.push(...this.undeclared(additional as Schema, child, at));
      else if (properties && additional !== true) out.push(`${at} is not a declared field`);
    }
    return out;
  }

  private validator(schema: Schema): ValidateFunction {
    let validate = this.compiled.get(schema);
    if (!validate) {
      validate = this.ajv.compile(rebase(schema) as object);
      this.compiled.set(schema, validate);
    }
    return validate;
  }
}

/** The schema with `$ref`s followed and `allOf` parts folded into one (properties and required joined). */
export function merged(schema: Schema): Schema {
  const s = deref(schema);
  const parts = s.allOf as Schema[] | undefined;
  if (!parts) return s;
  const out: Schema = { ...s };
  delete out.allOf;
  for (const part of parts.map(merged)) {
    for (const [k, v] of Object.entries(part)) {
      if (k === 'properties') out.properties = { ...(out.properties as object), ...(v as object) };
      else if (k === 'required') out.required = [...((out.required as string[]) ?? []), ...(v as string[])];
      else if (!(k in out)) out[k] = v;
    }
  }
  return out;
}

/** A copy whose local `$ref`s point into the components registered under BASE. */
function rebase(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(rebase);
  if (typeof node !== 'object' || node === null) return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) out[k] = k === '$ref' && typeof v === 'string' && v.startsWith('#') ? BASE + v : rebase(v);
  return out;
}
