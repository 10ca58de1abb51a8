/**
 * Gradient rules by ONNX op type. Each op file registers the rule for the node types it emits,
 * right beside the function that builds them; `gradients()` looks rules up here.
 */
import type { Node, Tensor } from './graph.js';

export interface GradientContext {
  readonly node: Node;
  /** Gradient of the loss with respect to each node output; null where no gradient flows. */
  readonly outputGrads: readonly (Tensor | null)[];
  /** Which inputs need a gradient (they depend on a differentiated tensor). */
  readonly needs: readonly boolean[];
}

/** Returns the gradient for each input (null/undefined where none is needed or none exists). */
export type GradientRule = (ctx: GradientContext) => readonly (Tensor | null | undefined)[];

const rules = new Map<string, GradientRule | 'none'>();

function key(opType: string, domain: string): string {
  return domain === '' ? opType : `${domain}::${opType}`;
}

/** A second registration of one op type is a bug (two files emitting one op), not an override. */
function register(opType: string, domain: string, rule: GradientRule | 'none'): void {
  const name = key(opType, domain);
  if (rules.has(name)) throw new Error(`engine registry: op type '${name}' already has a gradient rule`);
  rules.set(name, rule);
}

export function registerGradient(opType: string, rule: GradientRule, domain = ''): void {
  register(opType, domain, rule);
}

/** For ops whose outputs carry no gradient (shapes, comparisons, integer arithmetic). */
export function registerNonDifferentiable(opType: string, domain = ''): void {
  register(opType, domain, 'none');
}

/** The rule for an op type: a function, 'none' for non-differentiable ops, undefined if unknown. */
export function gradientRule(opType: string, domain = ''): GradientRule | 'none' | undefined {
  return rules.get(key(opType, domain));
}

export function registeredOpTypes(): string[] {
  return [...rules.keys()].sort();
}

/** Op types with a gradient function (not the non-differentiable ones). */
export function differentiableOpTypes(): string[] {
  return [...rules]
    .filter(([, rule]) => rule !== 'none')
    .map(([name]) => name)
    .sort();
}
