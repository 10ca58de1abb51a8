// The engine's public surface: graph building, ops, autodiff, ONNX export, runtime, gradient checks.
export { Graph, Tensor, GraphError, type AttrValue, type Attrs, type Node, type TensorLike } from './graph.js';
export type { DType, HostArray } from './dtype.js';
export { type Dim, type Shape, formatShape } from './shape.js';
export * from './ops/index.js';
export { gradients } from './autodiff.js';
export { registerGradient, registerNonDifferentiable, type GradientContext, type GradientRule } from './registry.js';
export {
  exportModel,
  decodeModel,
  describeModel,
  liveNodes,
  type ModelInterface,
  type ModelValueInfo,
  OPSET,
  type ExportOptions,
  type ExportedModel,
  type ParamValues,
} from './onnx.js';
export { Session, toOrtTensor, type HostTensor, type SessionOptions, type Spinning } from './runtime.js';
export { DEVICES, checkDevice, parseDevice, type Device } from './device.js';
export { checkGradients, type GradCheckInput, type GradCheckOptions, type GradCheckReport } from './gradcheck.js';
