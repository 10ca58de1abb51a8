/**
 * Reverse-mode autodiff over a Graph. The backward pass is appended to the same graph as
 * ordinary ONNX nodes built by each op's registered gradient rule, so it runs in the same ORT
 * session as the forward pass and every intermediate is shared.
 */
import { isFloat } from './dtype.js';
import { GraphError, Tensor, type Node } from './graph.js';
import { gradientRule } from './registry.js';
import { formatShape } from './shape.js';
import { expand, shapeOf, sum, zerosLike } from './ops/index.js';
import { shapesCompatible } from './ops/util.js';

/**
 * Gradients of `loss` with respect to each of `wrt`, in order. Only nodes that lie on a path
 * from some `wrt` tensor to `loss` are differentiated, and a rule is asked only for the inputs
 * that need a gradient. `seed` is the upstream gradient (default: 1 for a scalar loss).
 */
export function gradients(loss: Tensor, wrt: readonly Tensor[], seed?: Tensor): Tensor[] {
  const g = loss.graph;
  if (!isFloat(loss.dtype)) throw new GraphError(`gradients: loss ${loss.toString()} is not a float tensor`);
  if (!seed && loss.rank !== 0) throw new GraphError(`gradients: loss ${loss.toString()} is not a scalar; pass a seed gradient`);
  for (const w of wrt) {
    if (w.graph !== g) throw new GraphError(`gradients: ${w.name} belongs to graph ${w.graph.name}, loss to ${g.name}`);
    if (!isFloat(w.dtype)) throw new GraphError(`gradients: cannot differentiate with respect to ${w.toString()}`);
  }
  const nodes = g.nodes.slice();

  // Tensors that depend on some wrt tensor through float values.
  const dependent = new Set<Tensor>(wrt);
  for (const node of nodes) {
    if (node.inputs.some((t) => t !== null && dependent.has(t))) {
      for (const out of node.outputs) if (isFloat(out.dtype)) dependent.add(out);
    }
  }
  // Nodes whose outputs lead to the loss.
  const leadsToLoss = new Set<Node>();
  const reaches = new Set<Tensor>([loss]);
  for (let i = nodes.length - 1; i >= 0; i--) {
    const node = nodes[i];
    if (!node.outputs.some((t) => reaches.has(t))) continue;
    leadsToLoss.add(node);
    for (const t of node.inputs) if (t) reaches.add(t);
  }

  const pending = new Map<Tensor, Tensor[]>();
  const addGrad = (t: Tensor, grad: Tensor): void => {
    const list = pending.get(t);
    if (list) list.push(grad);
    else pending.set(t, [grad]);
  };
  const total = (t: Tensor): Tensor | null => {
    const list = pending.get(t);
    if (!list || list.length === 0) return null;
    const s = list.length === 1 ? list[0] : g.scope('grad', () => sum(list));
    pending.set(t, [s]);
    return s;
  };
  addGrad(loss, seed ?? g.scalar(1, loss.dtype));
  if (seed && !shapesCompatible(seed.shape, loss.shape)) {
    throw new GraphError(`gradients: seed ${seed.toString()} does not match loss ${loss.toString()}`);
  }

  for (let i = nodes.length - 1; i >= 0; i--) {
    const node = nodes[i];
    if (!leadsToLoss.has(node) || !node.outputs.some((t) => dependent.has(t))) continue;
    const outputGrads = node.outputs.map((t) => (dependent.has(t) ? total(t) : null));
    if (outputGrads.every((d) => d === null)) continue;
    const needs = node.inputs.map((t) => t !== null && dependent.has(t));
    const rule = gradientRule(node.opType, node.domain);
    if (rule === undefined || rule === 'none') {
      throw new GraphError(
        `gradients: no gradient rule for ${node.opType} (node ${node.scope ? `${node.scope}/` : ''}${node.opType}_${node.id})`,
      );
    }
    const inputGrads = g.scope(node.scope ? `${node.scope}/grad` : 'grad', () => rule({ node, outputGrads, needs }));
    node.inputs.forEach((input, k) => {
      const grad = inputGrads[k];
      if (!needs[k] || !input || !grad) return;
      if (grad.dtype !== input.dtype || !shapesCompatible(grad.shape, input.shape)) {
        throw new GraphError(
          `gradients: rule for ${node.opType} gave ${grad.dtype}${formatShape(grad.shape)} for input ${k} of ${input.dtype}${formatShape(input.shape)}`,
        );
      }
      addGrad(input, grad);
    });
  }
  return wrt.map((w) => {
    const grad = total(w);
    if (grad) return grad;
    // loss does not depend on w: its gradient is zero.
    return w.source.kind === 'param' ? zerosLike(w) : expand(g.scalar(0, w.dtype), shapeOf(w), w.shape);
  });
}
