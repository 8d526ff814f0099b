/**
 * Cross-site request check for cookie-authenticated writes. SameSite=Strict alone leaves
 * same-site attackers (a sibling subdomain, an old browser ignoring SameSite) able to post with
 * the session cookie; so an unsafe method with a session cookie must prove it comes from this
 * origin: `Sec-Fetch-Site: same-origin` (every current browser sends it), or, without that header,
 * an `Origin` equal to the origin the request was addressed to. A request with neither header is
 * refused: browsers always send one of them on a cross-origin-capable write, and non-browser
 * clients use bearer tokens, which a browser never attaches by itself and so are exempt.
 */

/** Methods that change state and must pass the check when authenticated by cookie. */
const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export interface OriginFacts {
  method: string;
  /** `Sec-Fetch-Site` header, if any. */
  fetchSite: string | undefined;
  /** `Origin` header, if any. */
  origin: string | undefined;
  /** The origin the request was addressed to, e.g. `https://review.example` (proxy-aware). */
  selfOrigin: string;
}

/** The reason a cookie-authenticated request is refused as cross-site, or null when it may proceed. */
export function crossSiteRefusal(facts: OriginFacts): string | null {
  if (!UNSAFE.has(facts.method.toUpperCase())) return null;
  if (facts.fetchSite !== undefined) return facts.fetchSite === 'same-origin' ? null : `Sec-Fetch-Site is ${facts.fetchSite}, not same-origin`;
  if (facts.origin === undefined) return 'neither Sec-Fetch-Site nor Origin says where the request comes from';
  return sameOrigin(facts.origin, facts.selfOrigin) ? null : 'Origin is not this site';
}

function sameOrigin(a: string, b: string): boolean {
  try {
    // URL normalises case and default ports (`http://host:80` == `http://host`); "null" fails to parse.
    return new URL(a).origin === new URL(b).origin;
  } catch {
    return false;
  }
}
