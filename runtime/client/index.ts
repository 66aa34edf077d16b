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
} from './types';
export { ApiClientError, type ApiClientErrorInit, type ClientErrorCode } from './errors';
export { createTransport } from './transport';
export { createTokenStore, memoryTokenStorage, type SessionTokens, type SessionTokenStore, type TokenStorage } from './token-store';
