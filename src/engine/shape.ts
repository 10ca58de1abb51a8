/**
 * Static shapes with symbolic dims. A dim is a number or a name such as `batch`; products of
 * names (`batch*src`) are kept in a canonical form so that a reshape from [batch, src, 256] to
 * [-1, 256] and back can be checked. Names starting with `?` are unknown dims (an op could not
 * tell its output size at build time); checks involving them are skipped rather than guessed.
 */
export type Dim = number | string;
export type Shape = readonly Dim[];

let unknownCounter = 0;

/** A fresh unknown dim, distinct from every other. */
export function unknownDim(): string {
  unknownCounter += 1;
  return `?${unknownCounter}`;
}

export function isUnknown(dim: Dim): boolean {
  return typeof dim === 'string' && dim.includes('?');
}

interface Monomial {
  coef: number;
  /** Factor names, sorted, with repetition. */
  factors: string[];
}

function splitTopLevel(text: string, separator: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === separator && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts.map((p) => p.trim());
}

function toMonomial(dim: Dim): Monomial {
  if (typeof dim === 'number') return { coef: dim, factors: [] };
  let coef = 1;
  const factors: string[] = [];
  for (const part of splitTopLevel(dim, '*')) {
    if (/^\d+$/.test(part)) coef *= Number(part);
    else factors.push(part.includes('+') && !part.startsWith('(') ? `(${part})` : part);
  }
  factors.sort();
  return { coef, factors };
}

function fromMonomial(m: Monomial): Dim {
  if (m.factors.length === 0) return m.coef;
  if (m.coef === 1 && m.factors.length === 1) {
    const only = m.factors[0];
    return only.startsWith('(') && only.endsWith(')') ? only.slice(1, -1) : only;
  }
  const parts = m.coef === 1 ? m.factors : [String(m.coef), ...m.factors];
  if (m.coef === 0) return 0;
  return parts.join('*');
}

/** The canonical form of a dim (`src*batch` and `batch*src` are the same dim). */
export function normalizeDim(dim: Dim): Dim {
  if (typeof dim === 'number') {
    if (!Number.isInteger(dim) || dim < 0) throw new Error(`invalid dim ${dim}: dims are non-negative integers or names`);
    return dim;
  }
  if (dim.trim() === '') throw new Error('invalid dim: empty name');
  return fromMonomial(toMonomial(dim));
}

export function dimEq(a: Dim, b: Dim): boolean {
  return normalizeDim(a) === normalizeDim(b);
}

export function dimMul(a: Dim, b: Dim): Dim {
  const ma = toMonomial(a);
  const mb = toMonomial(b);
  return fromMonomial({ coef: ma.coef * mb.coef, factors: [...ma.factors, ...mb.factors].sort() });
}

/** a / b when it divides exactly in this algebra, else undefined. */
export function dimDiv(a: Dim, b: Dim): Dim | undefined {
  const ma = toMonomial(a);
  const mb = toMonomial(b);
  if (mb.coef === 0 || ma.coef % mb.coef !== 0) return undefined;
  const rest = [...ma.factors];
  for (const f of mb.factors) {
    const at = rest.indexOf(f);
    if (at < 0) return undefined;
    rest.splice(at, 1);
  }
  return fromMonomial({ coef: ma.coef / mb.coef, factors: rest });
}

export function dimSum(a: Dim, b: Dim): Dim {
  if (typeof a === 'number' && typeof b === 'number') return a + b;
  if (a === 0) return b;
  if (b === 0) return a;
  const terms = [...splitTopLevel(String(a), '+'), ...splitTopLevel(String(b), '+')];
  let constant = 0;
  const names: string[] = [];
  for (const t of terms) {
    if (/^\d+$/.test(t)) constant += Number(t);
    else names.push(t);
  }
  names.sort();
  if (constant !== 0) names.push(String(constant));
  return names.join('+');
}

/** Product of all dims. */
export function numel(shape: Shape): Dim {
  return shape.reduce<Dim>((acc, d) => dimMul(acc, d), 1);
}

export function isStatic(shape: Shape): shape is readonly number[] {
  return shape.every((d) => typeof d === 'number');
}

export function formatShape(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

/**
 * Numpy-style broadcast of two dims; undefined when they cannot broadcast. Two different names
 * are refused: in a model they almost always mean a mix-up (queries vs keys length).
 */
export function broadcastDim(a: Dim, b: Dim): Dim | undefined {
  if (a === 1) return b;
  if (b === 1) return a;
  if (isUnknown(a)) return b;
  if (isUnknown(b)) return a;
  if (dimEq(a, b)) return normalizeDim(a);
  // A named dim against a number other than 1: trust the number (the name must equal it at run time).
  if (typeof a === 'string' && typeof b === 'number') return b;
  if (typeof b === 'string' && typeof a === 'number') return a;
  return undefined;
}

/** Broadcast of several shapes, or a message saying which dims clash. */
export function broadcastShapes(shapes: readonly Shape[]): Shape | string {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    let dim: Dim = 1;
    for (const s of shapes) {
      const at = s.length - rank + i;
      if (at < 0) continue;
      const next = broadcastDim(dim, s[at]);
      if (next === undefined) {
        return `dims ${dim} and ${s[at]} at axis ${i - rank} cannot broadcast (shapes ${shapes.map(formatShape).join(' and ')})`;
      }
      dim = next;
    }
    out.push(dim);
  }
  return out;
}

/** Resolves a possibly negative axis against `rank`; undefined when out of range. */
export function resolveAxis(axis: number, rank: number): number | undefined {
  const a = axis < 0 ? axis + rank : axis;
  return Number.isInteger(a) && a >= 0 && a < rank ? a : undefined;
}
