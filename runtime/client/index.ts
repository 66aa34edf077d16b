export type {
  ClientOptions,
  HttpMethod,
  OperationDescriptor,
  Page,
  Problem,
  RequestInput,
  RetryOptions,
  TokenStore,
  Transport,
  UploadInput,
} from './types.js';
export { ApiClientError, type ApiClientErrorInit, type ClientErrorCode } from './errors.js';
export { createTransport } from './transport.js';
export { createTokenStore, memoryTokenStorage, type SessionTokens, type SessionTokenStore, type TokenStorage } from './token-store.js';
export { uploadResumable, type ResumableUploadOptions, type ResumableUploadResult } from './upload.js';
