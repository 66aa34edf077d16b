import type { RouteConfig } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import {
  rateLimitsOf,
  TUS_VERSION,
  uploadErrorCodes,
  uploadOperationIds,
  type RateLimit,
  type RuntimeHeader,
} from '@contract-kit/runtime/contract';
import type { UploadModel } from './model';

/**
 * An upload resource as the spec shows it: the four tus operations, with their protocol headers,
 * the binary body of PATCH and the accepted types and sizes, so a reader (or a generated client in
 * another language) can upload without knowing tus beforehand.
 */
export interface SpecHelpers {
  problems: (codes: readonly string[]) => RouteConfig['responses'];
  headers: (...names: RuntimeHeader[]) => Record<string, { $ref: string }>;
  limits: (limits: readonly RateLimit[]) => string[];
}

const TUS_DOCS = 'https://tus.io/protocols/resumable-upload';

export function uploadRoutes(model: UploadModel, helpers: SpecHelpers): RouteConfig[] {
  const u = model.upload;
  const ids = uploadOperationIds(u);
  const codes = uploadErrorCodes(u);
  const tags = [...u.tags];
  const security = [{ bearerAuth: [] }];
  const roles = typeof u.auth === 'object' ? [`Requires one of the roles: ${u.auth.roles.join(', ')}.`] : [];
  const item = `${u.fullPath}/{uploadId}`;
  const params = z.object({ uploadId: z.uuid().meta({ description: 'From the `Location` of the creation' }) });
  const tus = header(
    'Tus-Resumable',
    `The protocol version, \`${TUS_VERSION}\`, on every request but OPTIONS`,
    {
      type: 'string',
      const: TUS_VERSION,
    },
    TUS_VERSION,
  );
  const sent = (extra: Record<string, unknown>) => ({
    ...helpers.headers('X-Request-Id'),
    'Tus-Resumable': { schema: { type: 'string', const: TUS_VERSION } },
    ...extra,
  });
  const offset = { description: 'How many bytes the server holds', schema: { type: 'integer', minimum: 0, maximum: u.maxBytes } };
  const types = Object.entries(u.types)
    .map(([type, { maxBytes }]) => `\`${type}\` up to ${size(maxBytes)}`)
    .join(', ');

  const routes: RouteConfig[] = [
    {
      method: 'post',
      path: u.fullPath,
      operationId: ids.create,
      summary: u.summary,
      description: [
        u.description ?? u.summary,
        `A resumable upload ([tus ${TUS_VERSION}](${TUS_DOCS}): creation, core, termination and expiration). Create it here, ` +
          'send the bytes with PATCH to its `Location` (in chunks, each continuing at the offset the server holds; after a ' +
          'dropped connection, HEAD tells where to go on), and the last PATCH answers `200` with what the upload became. ' +
          `The generated client's \`${model.operationId}\` method does all of it.`,
        `Accepted types, read from the file's bytes (the claimed \`filetype\` must be one of them too): ${types}. ` +
          `An unfinished upload is deleted ${hours(u.expiresAfterSeconds)} after its creation.`,
        ...roles,
        ...helpers.limits(rateLimitsOf(u)),
      ].join('\n\n'),
      tags,
      security,
      parameters: [
        tus,
        header('Upload-Length', 'Size of the whole file in bytes', { type: 'integer', minimum: 1, maximum: u.maxBytes }),
        header(
          'Upload-Metadata',
          'Comma-separated `key base64(value)` pairs: `filetype` (the claimed media type, required) and `filename` (optional)',
          { type: 'string', maxLength: 2048 },
          // filetype image/jpeg, filename milonga.jpg
          `filetype ${btoa('image/jpeg')},filename ${btoa('milonga.jpg')}`,
        ),
      ],
      'x-upload-types': Object.fromEntries(Object.entries(u.types).map(([type, { maxBytes }]) => [type, { maxBytes }])),
      responses: {
        201: {
          description: 'Created; send the bytes to `Location`',
          headers: sent({
            ...(u.rateLimit ? helpers.headers('RateLimit-Policy', 'RateLimit') : {}),
            Location: { description: 'The upload’s URL', schema: { type: 'string', maxLength: 2048 } },
            'Upload-Expires': { description: 'When an unfinished upload is deleted', schema: { type: 'string', maxLength: 40 } },
          }),
        },
        ...helpers.problems(codes.create),
      },
    } as RouteConfig,
    {
      method: 'head',
      path: item,
      operationId: ids.status,
      summary: 'How much of an upload the server holds',
      description: 'Ask before resuming after a dropped connection: continue with PATCH at `Upload-Offset`.',
      tags,
      security,
      request: { params },
      parameters: [tus],
      responses: {
        200: {
          description: 'The upload’s state',
          headers: sent({
            'Upload-Offset': offset,
            'Upload-Length': { description: 'Size of the whole file', schema: { type: 'integer', minimum: 1, maximum: u.maxBytes } },
            'Cache-Control': { schema: { type: 'string', const: 'no-store' } },
          }),
        },
        ...helpers.problems(codes.status),
      },
    } as RouteConfig,
    {
      method: 'patch',
      path: item,
      operationId: ids.append,
      summary: 'Send the next bytes of an upload',
      description:
        'The body continues the file at `Upload-Offset`, which must equal the server’s (else 409 `UPLOAD_OFFSET_CONFLICT`: ask ' +
        'with HEAD). When the file is whole, it is checked (real type from its bytes, size) and processed, and the answer is ' +
        '`200` with the result; a file that fails is deleted whole.',
      tags,
      security,
      request: {
        params,
        body: {
          required: true,
          content: { 'application/offset+octet-stream': { schema: { type: 'string', format: 'binary' } } },
        },
      },
      parameters: [tus, header('Upload-Offset', 'Where these bytes start: the server’s offset', { type: 'integer', minimum: 0 }, 0)],
      responses: {
        200: {
          description: u.response.description ?? 'The upload is whole and processed',
          headers: sent({ 'Upload-Offset': offset }),
          content: { 'application/json': { schema: z.object({ data: u.response.body }) } },
        },
        204: { description: 'Stored; more bytes are expected', headers: sent({ 'Upload-Offset': offset }) },
        ...helpers.problems(codes.append),
      },
    } as RouteConfig,
    {
      method: 'delete',
      path: item,
      operationId: ids.cancel,
      summary: 'Cancel an unfinished upload',
      description: 'Deletes the bytes received so far. A finished upload cannot be cancelled (409 `CONFLICT`).',
      tags,
      security,
      request: { params },
      parameters: [tus],
      responses: { 204: { description: 'Cancelled', headers: sent({}) }, ...helpers.problems(codes.cancel) },
    } as RouteConfig,
  ];
  // Marks the operations that speak tus rather than JSON, for tools that read the spec.
  return routes.map((route) => ({ ...route, 'x-tus-resumable': TUS_VERSION }) as RouteConfig);
}

/** A required header; `example` is what Swagger UI fills in (none where only the user can know the value). */
function header(name: string, description: string, schema: Record<string, unknown>, example?: string | number) {
  return { name, in: 'header' as const, required: true, description, schema, ...(example === undefined ? {} : { example }) };
}

function size(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${Math.round(bytes / 1024 / 1024)} MiB` : `${Math.round(bytes / 1024)} KiB`;
}

function hours(seconds: number): string {
  return seconds % 3600 === 0 ? `${seconds / 3600} h` : `${seconds} s`;
}
