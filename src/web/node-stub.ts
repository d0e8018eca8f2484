/**
 * Stands in for node:http and node:https in the browser bundle (src/web/vite.config.ts):
 * the UI gives the client the browser's fetch, so these are never called.
 */
export function request(): never {
  throw new Error('node:http is not available in the browser: pass fetch to VnpClient');
}
