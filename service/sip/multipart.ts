/**
 * multipart/mixed bodies (RFC 2046) as SIP carries them: eCall INVITEs put the SDP offer and the MSD
 * side by side (RFC 8147 §6), PSAP answers may add a control block. Bodies are binary strings (one
 * character per byte), as the `sip` package sends them.
 */
export interface BodyPart {
  headers: Record<string, string>;
  /** Binary string. */
  body: string;
}

export function buildMultipart(boundary: string, parts: BodyPart[]): string {
  const out: string[] = [];
  for (const p of parts) {
    out.push(`--${boundary}\r\n`);
    for (const [k, v] of Object.entries(p.headers)) {
      out.push(`${k}: ${v}\r\n`);
    }
    out.push(`\r\n${p.body}\r\n`);
  }
  out.push(`--${boundary}--\r\n`);
  return out.join('');
}

export function boundaryOf(contentType: string): string | undefined {
  const m = /;\s*boundary="?([^";]+)"?/i.exec(contentType);
  return /^\s*multipart\//i.test(contentType) ? m?.[1] : undefined;
}

/** A multipart body that cannot be split: what a peer sent, not a fault of ours. */
export class MultipartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MultipartError';
  }
}

/** Splits a multipart body; header names come back lower-case. MultipartError for a body without its boundaries. */
export function parseMultipart(body: string, boundary: string): BodyPart[] {
  const delimiter = `--${boundary}`;
  const start = body.indexOf(delimiter);
  if (start < 0) {
    throw new MultipartError('multipart body without its boundary');
  }
  const parts: BodyPart[] = [];
  let pos = start + delimiter.length;
  for (;;) {
    if (body.startsWith('--', pos)) {
      break; // close delimiter
    }
    const next = body.indexOf(`\r\n${delimiter}`, pos);
    if (next < 0) {
      throw new MultipartError('multipart body without its closing boundary');
    }
    const chunk = body.slice(body.indexOf('\r\n', pos) + 2, next);
    const split = chunk.indexOf('\r\n\r\n');
    const head = split >= 0 ? chunk.slice(0, split) : '';
    const headers: Record<string, string> = {};
    for (const line of head.split('\r\n')) {
      const m = /^([^:]+):\s*(.*)$/.exec(line);
      if (m?.[1]) {
        headers[m[1].trim().toLowerCase()] = m[2] ?? '';
      }
    }
    parts.push({ headers, body: split >= 0 ? chunk.slice(split + 4) : '' });
    pos = next + 2 + delimiter.length;
  }
  return parts;
}

/** The part of a given content type in a body that is either that type or multipart. */
export function findBodyPart(
  contentType: string | undefined,
  body: string | undefined,
  wanted: string,
): string | undefined {
  if (!body || !contentType) {
    return undefined;
  }
  if (contentType.toLowerCase().startsWith(wanted.toLowerCase())) {
    return body;
  }
  const boundary = boundaryOf(contentType);
  if (!boundary) {
    return undefined;
  }
  return parseMultipart(body, boundary).find((p) =>
    (p.headers['content-type'] ?? '').toLowerCase().startsWith(wanted.toLowerCase()),
  )?.body;
}
