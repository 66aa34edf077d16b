import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet from 'helmet';

/**
 * helmet's headers, computed once: helmet stays the source of truth for what to send, and the hot
 * path writes them as one precomputed list instead of a dozen setHeader calls per request.
 * No upgrade-insecure-requests: it breaks the Swagger UI over plain HTTP on a developer's machine;
 * production sits behind TLS with HSTS.
 */
export function securityHeaders(): string[] {
  const flat: string[] = [];
  const capture = {
    setHeader(name: string, value: string | number | readonly string[]) {
      flat.push(name, String(value));
    },
    removeHeader() {},
  } as unknown as ServerResponse;
  helmet({ contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } } })({} as IncomingMessage, capture, () => {});
  return flat;
}
