/**
 * A minimal JSON-RPC 2.0 call over HTTP for the stack's chain checks (no provider, no retries,
 * a hard timeout), so a probe can never hang on a port that accepts and stays silent.
 */

/** The node answered with a JSON-RPC error object. */
export class JsonRpcError extends Error {
  readonly rpcCode: number;
  constructor(method: string, rpcCode: number, message: string) {
    super(`${method}: ${message} (code ${rpcCode})`);
    this.name = 'JsonRpcError';
    this.rpcCode = rpcCode;
  }
}

/** The HTTP form of an RPC URL: anvil and Hardhat serve ws:// and http:// on the same port. */
export function httpRpcUrl(rpcUrl: string): string {
  const url = new URL(rpcUrl);
  if (url.protocol === 'ws:') url.protocol = 'http:';
  if (url.protocol === 'wss:') url.protocol = 'https:';
  return url.toString();
}

/** Calls `method`; throws on transport errors, non-JSON answers, JSON-RPC errors and after `timeoutMs`. */
export async function rpcCall<T>(rpcUrl: string, method: string, params: unknown[] = [], timeoutMs = 2_000): Promise<T> {
  const response = await fetch(httpRpcUrl(rpcUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await response.text();
  let body: { result?: T; error?: { code: number; message: string } };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    throw new Error(`${method}: HTTP ${response.status}, not JSON-RPC (${text.slice(0, 60).replace(/\s+/g, ' ')})`);
  }
  if (body.error !== undefined) throw new JsonRpcError(method, body.error.code, body.error.message);
  if (!('result' in body)) throw new Error(`${method}: HTTP ${response.status}, no result in the answer`);
  return body.result as T;
}
