/**
 * Typed arrays that serialise as JSON arrays. `JSON.stringify` (and so every HTTP framework) writes a plain
 * typed array as an object (`{"0":109,"1":97}`); these subclasses add a `toJSON` that gives `[109,97]`.
 * They stay typed arrays (instanceof Uint32Array, same speed, same buffer), so results keep their public
 * types. Every typed array the API returns is made here: as a view over the native buffer (O(1), no copy) or
 * filled in place by the subclass's own `from` / constructor. (NaN and ±Infinity become null in JSON, as in
 * any array.)
 */

export class JsonUint8Array extends Uint8Array {
  toJSON(): number[] {
    return Array.from(this);
  }
}

export class JsonUint32Array extends Uint32Array {
  toJSON(): number[] {
    return Array.from(this);
  }
}

export class JsonFloat32Array extends Float32Array {
  toJSON(): number[] {
    return Array.from(this);
  }
}

export class JsonFloat64Array extends Float64Array {
  toJSON(): number[] {
    return Array.from(this);
  }
}

/** The same elements, as a view (no copy) that serialises as a JSON array. */
export function jsonArray(a: Uint8Array): Uint8Array;
export function jsonArray(a: Uint32Array): Uint32Array;
export function jsonArray(a: Float32Array): Float32Array;
export function jsonArray(a: Float64Array): Float64Array;
export function jsonArray(a: Uint8Array | Uint32Array | Float32Array | Float64Array): Uint8Array | Uint32Array | Float32Array | Float64Array {
  if (a instanceof JsonUint8Array || a instanceof JsonUint32Array || a instanceof JsonFloat32Array || a instanceof JsonFloat64Array) return a;
  if (a instanceof Uint8Array) return new JsonUint8Array(a.buffer as ArrayBuffer, a.byteOffset, a.length);
  if (a instanceof Uint32Array) return new JsonUint32Array(a.buffer as ArrayBuffer, a.byteOffset, a.length);
  if (a instanceof Float32Array) return new JsonFloat32Array(a.buffer as ArrayBuffer, a.byteOffset, a.length);
  return new JsonFloat64Array(a.buffer as ArrayBuffer, a.byteOffset, a.length);
}
