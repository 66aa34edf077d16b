import type { ErrorRegistry } from './errors';
import { DEFAULT_BASE_PATH, isEndpoint, servedPath, type Endpoint } from './endpoint';
import { isClientEvent, isServerEvent, type ClientEvent, type ServerEvent } from './realtime';
import { isUpload, type UploadContract } from './upload';

/** The whole API: its description for the spec, its tags, its domain errors and its contract modules. */
export interface ApiDefinition {
  readonly info: {
    readonly title: string;
    readonly version: string;
    readonly description: string;
    readonly contact?: { readonly name?: string; readonly url?: string; readonly email?: string };
    readonly license: { readonly name: string; readonly identifier?: string; readonly url?: string };
  };
  readonly servers: readonly { readonly url: string; readonly description: string }[];
  /**
   * Where every operation is served, before its own path; `{version}` stands for its major
   * version. `/api/v{version}` by default (`/api/v1/events`); `/v{version}` or `/music/v{version}` work too.
   */
  readonly basePath?: string;
  /** Tag name → description; every tag an endpoint uses must be listed here. */
  readonly tags: Readonly<Record<string, string>>;
  /** Base URI of the problem types, e.g. https://api.example.com/problems. */
  readonly problemBaseUrl: string;
  readonly errors: ErrorRegistry;
  /** Contract modules by name (`import * as events from './events'`); their endpoint exports are the API. */
  readonly modules: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  /** Where the real-time endpoint is served, when the API has real-time events in its modules. */
  readonly realtime?: { readonly path: string; readonly description: string };
}

export interface EventEntry {
  readonly module: string;
  readonly exportName: string;
  readonly event: ClientEvent | ServerEvent;
}

export interface ContractEntry {
  /** Module the contract is exported from, and its export name. */
  readonly module: string;
  readonly exportName: string;
  readonly endpoint: Endpoint;
}

/** Segments of letters, digits, `-`, `_` and the `{version}` placeholder: no other parameter, no `.` or `..`. */
const BASE_PATH = /^(\/([A-Za-z0-9_-]|\{version\})+)+$/;

/**
 * Declares the API; its endpoints are then served under its base path. The generated routes
 * import the API's module, so the base path applies before any route is built.
 */
export function defineApi<const A extends ApiDefinition>(api: A): A {
  const basePath = api.basePath ?? DEFAULT_BASE_PATH;
  if (!BASE_PATH.test(basePath)) {
    throw new Error(
      `basePath "${basePath}" must be "/"-separated segments of letters, digits, "-", "_" and "{version}", not ending with "/"`,
    );
  }
  for (const { endpoint } of listContracts(api)) {
    (endpoint as { fullPath: string }).fullPath = servedPath(basePath, endpoint.version, endpoint.path);
  }
  for (const { upload } of listUploads(api)) {
    (upload as { fullPath: string }).fullPath = servedPath(basePath, upload.version, upload.path);
  }
  return api;
}

/** Every endpoint of the API, in module then export order (stable across runs). */
export function listContracts(api: ApiDefinition): ContractEntry[] {
  const entries: ContractEntry[] = [];
  for (const [module, exports] of Object.entries(api.modules)) {
    for (const [exportName, value] of Object.entries(exports)) {
      if (isEndpoint(value)) entries.push({ module, exportName, endpoint: value });
    }
  }
  return entries;
}

export interface UploadEntry {
  readonly module: string;
  readonly exportName: string;
  readonly upload: UploadContract;
}

/** Every upload resource of the API, in module then export order. */
export function listUploads(api: ApiDefinition): UploadEntry[] {
  const entries: UploadEntry[] = [];
  for (const [module, exports] of Object.entries(api.modules)) {
    for (const [exportName, value] of Object.entries(exports)) {
      if (isUpload(value)) entries.push({ module, exportName, upload: value });
    }
  }
  return entries;
}

/** Every real-time event of the API, client and server, in module then export order. */
export function listEvents(api: ApiDefinition): EventEntry[] {
  const entries: EventEntry[] = [];
  for (const [module, exports] of Object.entries(api.modules)) {
    for (const [exportName, value] of Object.entries(exports)) {
      if (isClientEvent(value) || isServerEvent(value)) entries.push({ module, exportName, event: value });
    }
  }
  return entries;
}
