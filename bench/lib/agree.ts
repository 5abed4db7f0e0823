/** Comparing the outputs of two implementations, with the first difference named by its path. */

/** What a case's output may be made of: plain data and typed arrays (compared element-wise). */
export type Comparable =
  | null
  | boolean
  | number
  | string
  | Uint8Array
  | Uint32Array
  | Int32Array
  | readonly Comparable[]
  | { readonly [key: string]: Comparable };

type TypedArray = Uint8Array | Uint32Array | Int32Array;

function isTyped(v: Comparable): v is TypedArray {
  return ArrayBuffer.isView(v);
}

function show(v: Comparable): string {
  if (v instanceof Uint8Array) {
    const hex = Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex');
    return `${v.length} bytes ${hex.length > 48 ? `${hex.slice(0, 48)}…` : hex}`;
  }
  if (isTyped(v)) return `[${Array.from(v).slice(0, 8).join(', ')}${v.length > 8 ? ', …' : ''}]`;
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 80 ? `${s.slice(0, 80)}…` : s;
}

/**
 * The first difference between `a` and `b` as `path: a vs b`, or null when they are equal.
 * Typed arrays compare by kind and elements; numbers with `Object.is` except that 0 equals -0.
 */
export function firstDifference(a: Comparable, b: Comparable, path = '$'): string | null {
  if (isTyped(a) || isTyped(b)) {
    if (!isTyped(a) || !isTyped(b) || a.constructor !== b.constructor) return `${path}: ${show(a)} vs ${show(b)}`;
    if (a.length !== b.length) return `${path}: length ${a.length} vs ${b.length} (${show(a)} vs ${show(b)})`;
    for (let i = 0; i < a.length; i++) {
      if (a[i] !== b[i]) return `${path}[${i}]: ${a[i]} vs ${b[i]} (${show(a)} vs ${show(b)})`;
    }
    return null;
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b)) return `${path}: ${show(a)} vs ${show(b)}`;
    const xs = a as readonly Comparable[];
    const ys = b as readonly Comparable[];
    if (xs.length !== ys.length) return `${path}: ${xs.length} entries vs ${ys.length}`;
    for (let i = 0; i < xs.length; i++) {
      const d = firstDifference(xs[i], ys[i], `${path}[${i}]`);
      if (d) return d;
    }
    return null;
  }
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object') {
    const ao = a as { readonly [key: string]: Comparable };
    const bo = b as { readonly [key: string]: Comparable };
    const keys = new Set([...Object.keys(ao), ...Object.keys(bo)]);
    for (const k of keys) {
      if (!(k in ao) || !(k in bo)) return `${path}.${k}: ${k in ao ? 'present' : 'missing'} vs ${k in bo ? 'present' : 'missing'}`;
      const d = firstDifference(ao[k], bo[k], `${path}.${k}`);
      if (d) return d;
    }
    return null;
  }
  if (a === b || (typeof a === 'number' && typeof b === 'number' && Number.isNaN(a) && Number.isNaN(b))) return null;
  return `${path}: ${show(a)} vs ${show(b)}`;
}
