/** An append-only Uint32 buffer that doubles as it fills; used while building postings. */
export class GrowableUint32Array {
  private buffer: Uint32Array;
  length = 0;

  constructor(initialCapacity = 1024) {
    this.buffer = new Uint32Array(Math.max(16, initialCapacity));
  }

  push(value: number): void {
    if (this.length === this.buffer.length) {
      const grown = new Uint32Array(this.buffer.length * 2);
      grown.set(this.buffer);
      this.buffer = grown;
    }
    this.buffer[this.length++] = value;
  }

  /** A view of the filled part (valid until the next push). */
  view(): Uint32Array {
    return this.buffer.subarray(0, this.length);
  }
}

/** A typed array of `length` elements over a SharedArrayBuffer, so worker threads can read it without a copy. */
export function sharedUint32(length: number): Uint32Array {
  return new Uint32Array(new SharedArrayBuffer(Math.max(1, length) * 4), 0, length);
}

export function sharedUint16(length: number): Uint16Array {
  return new Uint16Array(new SharedArrayBuffer(Math.max(1, length) * 2), 0, length);
}

export function sharedUint8(length: number): Uint8Array {
  return new Uint8Array(new SharedArrayBuffer(Math.max(1, length)), 0, length);
}
