/**
 * Small helpers for field paths in error messages: `egress[2].to.cidr`,
 * `tags["app.kubernetes.io/name"]`. Paths are what users see, so they read like
 * the document (JS accessor syntax), and the empty base is the document itself.
 */

const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Appends an object key to a field path.
 *
 * @example joinField('egress[2].to', 'cidr') // 'egress[2].to.cidr'
 * @example joinField('tags', 'app.kubernetes.io/name') // 'tags["app.kubernetes.io/name"]'
 * @example joinField('', 'name') // 'name'
 */
export function joinField(base: string, key: string): string {
  if (PLAIN_KEY.test(key)) return base === '' ? key : `${base}.${key}`;
  return `${base}[${JSON.stringify(key)}]`;
}

/**
 * Appends an array index to a field path.
 *
 * @example indexField('ips', 1) // 'ips[1]'
 */
export function indexField(base: string, i: number): string {
  return `${base}[${i}]`;
}

/** How a field is named in a message: the document itself when the path is empty. */
export function shownField(field: string): string {
  return field === '' ? 'document' : field;
}

/** Whether v is a plain (JSON-like) object: not null, not an array. */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/** Sets an own enumerable property even for keys like `__proto__` (no prototype games). */
export function defineField(obj: Record<string, unknown>, key: string, value: unknown): void {
  // defineProperty is slow (it can push objects into dictionary mode): only where needed.
  if (key === '__proto__') {
    Object.defineProperty(obj, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  } else {
    obj[key] = value;
  }
}
