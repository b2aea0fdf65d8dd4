/**
 * Access-phase order of the suite (higher runs first). All AI plugins run below Kong's API layer
 * (key-auth 1250, request-size-limiting 951, acl 950, rate-limiting 910) so identity and coarse
 * limits are settled first, and above Kong's own ai-proxy (770) in case it is co-deployed.
 *
 * - prompt guard first: a blocked prompt costs nothing and reserves no budget;
 * - PII redaction next: nothing after it (accounting ledger, cache keys, router, upstream) sees raw PII;
 * - token accounting: reserves budget before any upstream or cache work;
 * - semantic cache: keyed on the redacted prompt and the requested model alias;
 * - model router last: it rewrites the upstream only for requests that will really be proxied.
 * The Lua response tap only has header/body filters; its priority orders it among other filters.
 */
export const PRIORITY = {
  promptGuard: 880,
  piiRedaction: 870,
  tokenAccounting: 860,
  semanticCache: 850,
  modelRouter: 840,
  responseTap: 800,
} as const;
