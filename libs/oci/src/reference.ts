// Image references as docker normalises them: "busybox" → "docker.io/library/busybox:latest".
export class InvalidReferenceError extends Error {
  constructor(value: string, why: string) {
    super(`invalid image reference "${value}": ${why}`);
    this.name = 'InvalidReferenceError';
  }
}

export interface ImageReference {
  /** Registry host, with port: "docker.io", "127.0.0.1:5000". */
  domain: string;
  /** Repository path: "library/busybox". */
  path: string;
  tag?: string;
  digest?: string;
}

const DEFAULT_DOMAIN = 'docker.io';
const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;

export function parseReference(input: string): ImageReference {
  if (!input || input.length > 255) throw new InvalidReferenceError(input, 'empty or longer than 255 characters');
  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw new InvalidReferenceError(input, `"${digest}" is not a sha256 digest`);
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw new InvalidReferenceError(input, `"${tag}" is not a valid tag`);
  }
  let domain = DEFAULT_DOMAIN;
  let repo = rest;
  const slash = rest.indexOf('/');
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    if (first.includes('.') || first.includes(':') || first === 'localhost') {
      domain = first;
      repo = rest.slice(slash + 1);
    }
  }
  if (!/^[a-zA-Z0-9.-]+(:\d+)?$/.test(domain)) throw new InvalidReferenceError(input, `"${domain}" is not a valid registry host`);
  if (!repo) throw new InvalidReferenceError(input, 'no repository name');
  for (const part of repo.split('/')) {
    if (!COMPONENT.test(part)) {
      throw new InvalidReferenceError(input, `"${part}" must be lowercase letters, digits and separators (. _ __ -)`);
    }
  }
  if (domain === DEFAULT_DOMAIN && !repo.includes('/')) repo = `library/${repo}`;
  if (!tag && !digest) tag = 'latest';
  const ref: ImageReference = { domain, path: repo };
  if (tag) ref.tag = tag;
  if (digest) ref.digest = digest;
  return ref;
}

/** The full normalised name: "docker.io/library/busybox:latest", "host:5000/a/b@sha256:...". */
export function formatReference(ref: ImageReference): string {
  let s = `${ref.domain}/${ref.path}`;
  if (ref.tag) s += `:${ref.tag}`;
  if (ref.digest) s += `@${ref.digest}`;
  return s;
}

export function normaliseReference(input: string): string {
  return formatReference(parseReference(input));
}

/** The short form docker prints: "busybox:latest", "127.0.0.1:5000/app:1". */
export function familiarName(full: string): string {
  const ref = parseReference(full);
  let name = ref.domain === DEFAULT_DOMAIN ? ref.path.replace(/^library\//, '') : `${ref.domain}/${ref.path}`;
  if (ref.tag) name += `:${ref.tag}`;
  if (ref.digest) name += `@${ref.digest}`;
  return name;
}
