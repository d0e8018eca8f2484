/** The client layer's public surface. */
export { VnpClient, normaliseServer, resourcePath } from './client.js';
export type { VnpClientOptions, ListOptions, ApplyOptions } from './client.js';
export { resolveCredentials, adminTokenPath, DEFAULT_SERVER } from './credentials.js';
export type { Credentials, CredentialEnv, CredentialOptions } from './credentials.js';
export { httpFetch } from './http-fetch.js';
export type { FetchLike, FetchInit, FetchResponse } from './http-fetch.js';
export { RemoteVnpError, errorFromResponse, connectionError } from './errors.js';
export type * from './api-types.js';
export { TOKEN_ROLES } from './api-types.js';
