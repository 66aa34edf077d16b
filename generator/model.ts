import {
  errorCodes,
  isFile,
  isStream,
  isPaged,
  runtimeErrors,
  type ApiDefinition,
  type ContractEntry,
  type Endpoint,
  type ErrorSpec,
  type UploadContract,
  type UploadEntry,
  uploadErrorCodes,
} from '@contract-kit/runtime/contract';

/**
 * Contracts → one plain model that every output is rendered from (spec responses, server stubs,
 * client, reference docs). Decisions live here; templates only lay the model out.
 */
export interface OperationModel {
  module: string;
  exportName: string;
  operationId: string;
  /** PascalCase operationId, for type names: GetEvent. */
  typeName: string;
  tag: string;
  method: Endpoint['method'];
  path: string;
  summary: string;
  authRequired: boolean;
  /** The client sends its token when it has one: signed-in and optional-auth operations. */
  sendsToken: boolean;
  paged: boolean;
  /** The answer is a file (bytes of a declared media type), not JSON. */
  file: boolean;
  /** The answer is NDJSON items, read one by one. */
  stream: boolean;
  status: number;
  hasParams: boolean;
  hasQuery: boolean;
  hasBody: boolean;
  deprecated: boolean;
  /** Every code the operation can answer with: its domain codes and what the runtime adds. */
  errorCodes: string[];
  endpoint: Endpoint;
}

/** A resumable upload resource: four protocol operations in the spec, one method in the client. */
export interface UploadModel {
  module: string;
  exportName: string;
  operationId: string;
  typeName: string;
  tag: string;
  path: string;
  summary: string;
  /** Every code any of its operations can answer with. */
  errorCodes: string[];
  upload: UploadContract;
}

export interface TagModel {
  name: string;
  /** PascalCase tag, for the handler interface: EventsHandlers. */
  typeName: string;
  description: string;
  operations: OperationModel[];
  uploads: UploadModel[];
}

export interface ApiModel {
  tags: TagModel[];
  operations: OperationModel[];
  uploads: UploadModel[];
  /** Contract modules the generated code imports, in a stable order. */
  modules: string[];
  errors: Record<string, ErrorSpec>;
}

export function buildModel(api: ApiDefinition, contracts: ContractEntry[], uploadEntries: UploadEntry[] = []): ApiModel {
  const operations = contracts.map(({ module, exportName, endpoint }) => operationModel(module, exportName, endpoint));
  const uploads = uploadEntries.map(({ module, exportName, upload }) => ({
    module,
    exportName,
    operationId: upload.operationId,
    typeName: pascal(upload.operationId),
    tag: upload.tags[0],
    path: upload.fullPath,
    summary: upload.summary,
    errorCodes: [...new Set(Object.values(uploadErrorCodes(upload)).flat())],
    upload,
  }));
  const tags = Object.entries(api.tags)
    .map(([name, description]) => ({
      name,
      typeName: pascal(name),
      description,
      operations: operations.filter((op) => op.tag === name),
      uploads: uploads.filter((u) => u.tag === name),
    }))
    .filter((tag) => tag.operations.length > 0 || tag.uploads.length > 0);
  return {
    tags,
    operations,
    uploads,
    modules: [...new Set(operations.map((op) => op.module))],
    errors: { ...runtimeErrors, ...api.errors },
  };
}

function operationModel(module: string, exportName: string, endpoint: Endpoint): OperationModel {
  return {
    module,
    exportName,
    operationId: endpoint.operationId,
    typeName: pascal(endpoint.operationId),
    tag: endpoint.tags[0],
    method: endpoint.method,
    path: endpoint.fullPath,
    summary: endpoint.summary,
    authRequired: endpoint.auth !== 'public' && endpoint.auth !== 'optional',
    sendsToken: endpoint.auth !== 'public',
    paged: isPaged(endpoint),
    file: isFile(endpoint),
    stream: isStream(endpoint),
    status: endpoint.response.status,
    hasParams: endpoint.params !== undefined,
    hasQuery: endpoint.requestQuery !== undefined,
    hasBody: endpoint.body !== undefined,
    deprecated: endpoint.deprecated !== undefined,
    errorCodes: errorCodes(endpoint),
    endpoint,
  };
}

function pascal(name: string): string {
  return name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part) => part[0]!.toUpperCase() + part.slice(1))
    .join('');
}
