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
} from './types.js';
export { ApiClientError, type ApiClientErrorInit, type ClientErrorCode } from './errors.js';
export { createTransport } from './transport.js';
export { createTokenStore, memoryTokenStorage, type SessionTokens, type SessionTokenStore, type TokenStorage } from './token-store.js';
