// One-node ONNX models (Conv / MaxPool / AveragePool) built in memory with onnx-proto, weights as initializers.
import { onnx } from 'onnx-proto';
import type { Case } from '../cases.js';
import { outputShape } from '../work.js';

const OPSET = 17;
const { AttributeType } = onnx.AttributeProto;

function ints(name: string, values: readonly number[]): onnx.IAttributeProto {
  return { name, type: AttributeType.INTS, ints: [...values] };
}

function int(name: string, value: number): onnx.IAttributeProto {
  return { name, type: AttributeType.INT, i: value };
}

function valueInfo(name: string, shape: readonly number[]): onnx.IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: shape.map((d) => ({ dimValue: d })) } } },
  };
}

/** The serialized model: input 'x', output 'y', and for Conv the initializer 'w' holding `weight`. */
export function onnxModel(c: Case, weight: Float32Array | null): Uint8Array {
  const pads = [...c.padding, ...c.padding]; // ONNX: all begins, then all ends
  let node: onnx.INodeProto;
  const initializer: onnx.ITensorProto[] = [];
  if (c.kind === 'conv') {
    if (!weight) throw new Error('onnxModel: a Conv needs its weight');
    initializer.push({
      name: 'w',
      dataType: onnx.TensorProto.DataType.FLOAT,
      dims: c.w,
      rawData: new Uint8Array(weight.buffer, weight.byteOffset, weight.byteLength), // little-endian float32
    });
    node = {
      opType: 'Conv', input: ['x', 'w'], output: ['y'],
      attribute: [
        ints('kernel_shape', c.w.slice(2)), ints('strides', c.stride), ints('pads', pads),
        ints('dilations', c.dilation), int('group', c.groups),
      ],
    };
  } else {
    const attribute = [ints('kernel_shape', c.kernel), ints('strides', c.stride), ints('pads', pads)];
    if (c.kind === 'avgpool') attribute.push(int('count_include_pad', 1)); // convnd's (and PyTorch's) default
    node = { opType: c.kind === 'maxpool' ? 'MaxPool' : 'AveragePool', input: ['x'], output: ['y'], attribute };
  }
  const model: onnx.IModelProto = {
    irVersion: 8,
    producerName: 'convnd-bench',
    opsetImport: [{ domain: '', version: OPSET }],
    graph: {
      name: c.name,
      node: [node],
      initializer,
      input: [valueInfo('x', c.x)],
      output: [valueInfo('y', outputShape(c))],
    },
  };
  return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
}
