"""Writing a frozen network straight into a LiteRT flatbuffer, without TensorFlow's converter.

The converter needs TensorFlow (4 s to import) and a SavedModel export: 16 s in a process of its
own before a new user's first training could compute a single feature. A network made of a few
plain operators can be written directly: `Graph` collects constants, activations and operators
in the layout the converter itself writes (the schema ships with ai-edge-litert), and `to_bytes`
packs them. Every activation keeps a batch of 1 in its shape and -1 in its signature, as the
converter's output does, so the interpreter resizes the whole graph to any batch.
"""

from __future__ import annotations

import flatbuffers
import numpy as np
from ai_edge_litert import schema_py_generated as schema

Op = schema.BuiltinOperator
FILE_IDENTIFIER = b"TFL3"
SCHEMA_VERSION = 3
SIGNATURE_KEY = "serving_default"
_TENSOR_TYPES = {np.dtype(np.float32): schema.TensorType.FLOAT32, np.dtype(np.int32): schema.TensorType.INT32}
# The operator version a runtime must support for the options used here (the converter's rule).
_VERSIONS = {Op.RESIZE_BILINEAR: 3}  # half-pixel centres arrived in version 3


class Graph:
    """One subgraph under construction. Tensors are ints (their index); each operator method
    returns its output tensor, so a network reads as a chain of calls, like a Keras model."""

    def __init__(self) -> None:
        self._tensors: list[schema.TensorT] = []
        self._buffers: list[schema.BufferT] = [schema.BufferT()]  # buffer 0: "no data", for activations
        self._operators: list[schema.OperatorT] = []
        self._opcodes: dict[int, int] = {}  # builtin code -> index in the model's operator codes

    def _tensor(self, name: str, shape, dtype, buffer: int, batched: bool) -> int:
        tensor = schema.TensorT()
        tensor.name = name.encode()
        tensor.shape = np.array([1, *shape] if batched else shape, dtype=np.int32)
        if batched:
            tensor.shapeSignature = np.array([-1, *shape], dtype=np.int32)
        tensor.type = _TENSOR_TYPES[np.dtype(dtype)]
        tensor.buffer = buffer
        self._tensors.append(tensor)
        return len(self._tensors) - 1

    def shape(self, tensor: int) -> tuple[int, ...]:
        """A tensor's shape without the batch dimension (constants: their whole shape)."""
        t = self._tensors[tensor]
        return tuple(int(d) for d in (t.shape[1:] if t.shapeSignature is not None else t.shape))

    def input(self, name: str, shape) -> int:
        return self._tensor(name, shape, np.float32, 0, batched=True)

    def constant(self, name: str, array) -> int:
        array = np.ascontiguousarray(array)
        if array.dtype == np.float64:
            array = array.astype(np.float32)
        buffer = schema.BufferT()
        buffer.data = array.astype(array.dtype.newbyteorder("<")).view(np.uint8).reshape(-1)
        self._buffers.append(buffer)
        return self._tensor(name, array.shape, array.dtype, len(self._buffers) - 1, batched=False)

    def _operator(self, code: int, inputs, shape, name: str, options=None) -> int:
        output = self._tensor(name, shape, np.float32, 0, batched=True)
        op = schema.OperatorT()
        op.opcodeIndex = self._opcodes.setdefault(code, len(self._opcodes))
        op.inputs = np.array(inputs, dtype=np.int32)
        op.outputs = np.array([output], dtype=np.int32)
        if options is not None:
            op.builtinOptionsType = getattr(schema.BuiltinOptions, type(options).__name__.removesuffix("T"))
            op.builtinOptions = options
        self._operators.append(op)
        return output

    def _strided(self, x: int, stride: int) -> tuple[int, int]:
        """(height, width) of `x` after a "same"-padded window moved by `stride`: rounded up."""
        height, width, _ = self.shape(x)
        return -(-height // stride), -(-width // stride)

    # The operators, each named after what it does, with the options the converter writes.

    def conv(self, x: int, kernel: np.ndarray, bias: np.ndarray, stride: int, relu6: bool, name: str) -> int:
        """2-D convolution with an OHWI `kernel`, "same" padding (TensorFlow's, as Keras pads)."""
        options = schema.Conv2DOptionsT()
        # A 1x1 kernel needs no padding; VALID is what the converter writes for it.
        options.padding = schema.Padding.VALID if kernel.shape[1:3] == (1, 1) else schema.Padding.SAME
        options.strideW = options.strideH = stride
        options.fusedActivationFunction = _activation(relu6)
        shape = (*self._strided(x, stride), kernel.shape[0])
        inputs = [x, self.constant(name + "/kernel", kernel), self.constant(name + "/bias", bias)]
        return self._operator(Op.CONV_2D, inputs, shape, name, options)

    def depthwise_conv(self, x: int, kernel: np.ndarray, bias: np.ndarray, stride: int, relu6: bool, name: str) -> int:
        """Depthwise convolution with a 1HWC `kernel`, "same" padding."""
        options = schema.DepthwiseConv2DOptionsT()
        options.padding = schema.Padding.SAME
        options.strideW = options.strideH = stride
        options.depthMultiplier = 1
        options.fusedActivationFunction = _activation(relu6)
        shape = (*self._strided(x, stride), self.shape(x)[-1])
        inputs = [x, self.constant(name + "/kernel", kernel), self.constant(name + "/bias", bias)]
        return self._operator(Op.DEPTHWISE_CONV_2D, inputs, shape, name, options)

    def add(self, x: int, y: int, name: str) -> int:
        """Elementwise x + y; `y` may be a tensor of the same shape or a scalar constant."""
        return self._operator(Op.ADD, [x, y], self.shape(x), name, schema.AddOptionsT())

    def multiply(self, x: int, y: int, name: str) -> int:
        return self._operator(Op.MUL, [x, y], self.shape(x), name, schema.MulOptionsT())

    def spatial_mean(self, x: int, name: str) -> int:
        """(H, W, C) -> (C,): global average pooling."""
        axes = self.constant(name + "/axes", np.array([1, 2], dtype=np.int32))
        return self._operator(Op.MEAN, [x, axes], self.shape(x)[-1:], name, schema.ReducerOptionsT())

    def dense(self, x: int, weights: np.ndarray, bias: np.ndarray, name: str) -> int:
        """x @ weights.T + bias, with `weights` (out, in) as PyTorch and LiteRT keep them."""
        inputs = [x, self.constant(name + "/weights", weights), self.constant(name + "/bias", bias)]
        return self._operator(Op.FULLY_CONNECTED, inputs, weights.shape[:1], name, schema.FullyConnectedOptionsT())

    def softmax(self, x: int, name: str) -> int:
        options = schema.SoftmaxOptionsT()
        options.beta = 1.0
        return self._operator(Op.SOFTMAX, [x], self.shape(x), name, options)

    def concatenate(self, xs: list[int], name: str) -> int:
        """Side by side along the last axis."""
        options = schema.ConcatenationOptionsT()
        options.axis = len(self.shape(xs[0]))  # the last, counting the batch
        shape = (*self.shape(xs[0])[:-1], sum(self.shape(x)[-1] for x in xs))
        return self._operator(Op.CONCATENATION, xs, shape, name, options)

    def resize(self, x: int, side: int, name: str) -> int:
        """Bilinear resize to side x side, as Keras' Resizing layer (tf.image.resize) does it."""
        options = schema.ResizeBilinearOptionsT()
        options.halfPixelCenters = True
        size = self.constant(name + "/size", np.array([side, side], dtype=np.int32))
        return self._operator(Op.RESIZE_BILINEAR, [x, size], (side, side, self.shape(x)[-1]), name, options)

    def to_bytes(self, inputs: dict[str, int], outputs: dict[str, int]) -> bytes:
        """The model: one subgraph, one signature naming `inputs` and `outputs`."""

        def tensor_maps(named: dict[str, int]) -> list[schema.TensorMapT]:
            maps = []
            for name, index in named.items():
                tensor_map = schema.TensorMapT()
                tensor_map.name, tensor_map.tensorIndex = name.encode(), index
                maps.append(tensor_map)
            return maps

        subgraph = schema.SubGraphT()
        subgraph.tensors, subgraph.operators = self._tensors, self._operators
        subgraph.inputs = np.array(list(inputs.values()), dtype=np.int32)
        subgraph.outputs = np.array(list(outputs.values()), dtype=np.int32)
        subgraph.name = b"main"
        signature = schema.SignatureDefT()
        signature.inputs, signature.outputs = tensor_maps(inputs), tensor_maps(outputs)
        signature.signatureKey, signature.subgraphIndex = SIGNATURE_KEY.encode(), 0
        model = schema.ModelT()
        model.version, model.description = SCHEMA_VERSION, b"catbreed"
        model.operatorCodes = []
        for code in sorted(self._opcodes, key=self._opcodes.get):
            opcode = schema.OperatorCodeT()
            opcode.builtinCode = code
            opcode.deprecatedBuiltinCode = min(code, Op.PLACEHOLDER_FOR_GREATER_OP_CODES)
            opcode.version = _VERSIONS.get(code, 1)
            model.operatorCodes.append(opcode)
        model.subgraphs, model.buffers, model.signatureDefs = [subgraph], self._buffers, [signature]
        builder = flatbuffers.Builder(1024 + sum(b.data.size for b in self._buffers if b.data is not None))
        builder.Finish(model.Pack(builder), file_identifier=FILE_IDENTIFIER)
        return bytes(builder.Output())


def _activation(relu6: bool) -> int:
    return schema.ActivationFunctionType.RELU6 if relu6 else schema.ActivationFunctionType.NONE
