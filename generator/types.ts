import openapiTS, { astToString } from 'openapi-typescript';
import type { OpenApiDocument } from './openapi';

/** TypeScript types of the spec (paths, operations, components) for the standalone client. */
export async function specTypes(document: OpenApiDocument): Promise<string> {
  const ast = await openapiTS(document as unknown as Parameters<typeof openapiTS>[0], { alphabetize: false });
  return astToString(ast);
}
