/**
 * Redaction of credentials in URLs and in text that prints URLs, for error messages and log
 * lines: a chain RPC URL may carry an API key in its path or query
 * (`https://host/v3/<key>`, `?apikey=`), DATABASE_URL and REDIS_URL a password. What is kept:
 * scheme, user name, host, port and the non-secret path, so the message still says where.
 */

/** What replaces a secret. */
export const REDACTED = '[redacted]';

/** Schemes whose path and query may carry an API key (JSON-RPC providers). */
const RPC_SCHEMES = new Set(['http:', 'https:', 'ws:', 'wss:']);

/** A path segment that looks like a key or token: 16+ characters of a key alphabet. */
const TOKEN_SEGMENT = /^[A-Za-z0-9_-]{16,}$/;

/** Query parameters of any scheme whose value is a secret. */
const SECRET_PARAM = /pass|pwd|key|token|secret|auth|sig/i;

/** A URL inside text: scheme://, then up to whitespace, a quote or a bracket. */
const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s'"<>()[\]{}]+/gi;

/**
 * `url` with its password, and for http(s)/ws(s) URLs every token-like path segment and every
 * query value, replaced by `[redacted]`. Text that is not a URL, or a URL with nothing secret,
 * is returned unchanged.
 */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url;
  }
  const rpc = RPC_SCHEMES.has(parsed.protocol);
  let changed = false;
  let userinfo = '';
  if (parsed.username !== '' || parsed.password !== '') {
    userinfo = `${parsed.username}${parsed.password !== '' ? `:${REDACTED}` : ''}@`;
    changed ||= parsed.password !== '';
  }
  let path = parsed.pathname;
  if (rpc) {
    path = path
      .split('/')
      .map((segment) => {
        if (!TOKEN_SEGMENT.test(segment)) return segment;
        changed = true;
        return REDACTED;
      })
      .join('/');
  }
  const params: string[] = [];
  for (const [name, value] of parsed.searchParams) {
    const secret = value !== '' && (rpc || SECRET_PARAM.test(name));
    changed ||= secret;
    params.push(`${name}=${secret ? REDACTED : value}`);
  }
  if (!changed) return url;
  const query = params.length > 0 ? `?${params.join('&')}` : '';
  return `${parsed.protocol}//${userinfo}${parsed.host}${path}${query}`;
}

/** `text` with every URL in it passed through {@link redactUrl}. */
export function redactSecretsInText(text: string): string {
  if (!text.includes('://')) return text;
  return text.replace(URL_IN_TEXT, (url) => redactUrl(url));
}

/**
 * A copy of `value` with every string passed through {@link redactSecretsInText}, plain objects
 * and arrays walked to `depth`; anything else (class instances, buffers) is returned as is.
 * The input is never modified; unchanged parts are shared.
 */
export function redactSecretsDeep<T>(value: T, depth = 6): T {
  if (typeof value === 'string') return redactSecretsInText(value) as T;
  if (depth <= 0 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    let changed = false;
    const out = value.map((v: unknown) => {
      const r = redactSecretsDeep(v, depth - 1);
      changed ||= r !== v;
      return r;
    });
    return (changed ? out : value) as T;
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return value;
  let out: Record<string, unknown> | null = null;
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const r = redactSecretsDeep(v, depth - 1);
    if (r !== v) {
      out ??= { ...(value as Record<string, unknown>) };
      out[k] = r;
    }
  }
  return (out ?? value) as T;
}
