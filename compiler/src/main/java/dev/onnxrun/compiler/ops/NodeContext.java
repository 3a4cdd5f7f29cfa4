package dev.onnxrun.compiler.ops;

import dev.onnxrun.compiler.ir.Attributes;
import dev.onnxrun.compiler.ir.Graph;
import dev.onnxrun.compiler.ir.Node;
import dev.onnxrun.compiler.ir.ValueType;
import dev.onnxrun.runtime.DType;
import dev.onnxrun.runtime.OnnxrunException;
import dev.onnxrun.runtime.Subgraph;
import dev.onnxrun.runtime.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * What an op's type rule and lowering see of one node: its attributes, the opset version in
 * force, what is statically known of its inputs (types, constant values), and a way to compile
 * its subgraph attributes.
 */
public final class NodeContext {
    private final Node node;
    private final int opset;
    private final List<ValueType> inputTypes;
    private final List<Tensor> constantInputs;
    private final Function<Graph, Subgraph> subgraphCompiler;

    public NodeContext(Node node, int opset, List<ValueType> inputTypes, List<Tensor> constantInputs,
                       Function<Graph, Subgraph> subgraphCompiler) {
        this.node = node;
        this.opset = opset;
        this.inputTypes = inputTypes;
        this.constantInputs = constantInputs;
        this.subgraphCompiler = subgraphCompiler;
    }

    /** The context of {@code node}, reading what is known of its inputs through {@code types} and {@code constants}. */
    public static NodeContext of(Node node, int opset, Map<String, ValueType> types, Map<String, Tensor> constants,
                                 Function<Graph, Subgraph> subgraphCompiler) {
        List<ValueType> inTypes = new ArrayList<>();
        List<Tensor> inConsts = new ArrayList<>();
        for (String in : node.inputs()) {
            inTypes.add(in.isEmpty() ? ValueType.UNKNOWN : types.getOrDefault(in, ValueType.UNKNOWN));
            inConsts.add(in.isEmpty() ? null : constants.get(in));
        }
        return new NodeContext(node, opset, inTypes, inConsts, subgraphCompiler);
    }

    /** A subgraph compiler for contexts that must not compile bodies (inference, folding). */
    public static final Function<Graph, Subgraph> NO_SUBGRAPHS = body -> {
        throw new IllegalStateException("subgraphs are not compiled here");
    };

    public Node node() { return node; }

    public Attributes attrs() { return node.attrs(); }

    /** The version of the node's domain that the model imports. */
    public int opset() { return opset; }

    public int inputCount() { return node.inputs().size(); }

    public int outputCount() { return node.outputs().size(); }

    /** True when input {@code i} is given (not omitted and not an empty name). */
    public boolean hasInput(int i) { return i < node.inputs().size() && !node.inputs().get(i).isEmpty(); }

    public boolean hasOutput(int i) { return i < node.outputs().size() && !node.outputs().get(i).isEmpty(); }

    public ValueType inputType(int i) {
        return hasInput(i) ? inputTypes.get(i) : ValueType.UNKNOWN;
    }

    /** The input's tensor type, or null when it is not known to be a tensor. */
    public ValueType.TensorType tensorType(int i) {
        return inputType(i) instanceof ValueType.TensorType t ? t : null;
    }

    /** The input's element type, or null when unknown. */
    public DType inputDType(int i) {
        ValueType.TensorType t = tensorType(i);
        return t == null ? null : t.dtype();
    }

    /** The input's value when it is known at compile time (an initializer or folded constant), else null. */
    public Tensor constantInput(int i) {
        return hasInput(i) && i < constantInputs.size() ? constantInputs.get(i) : null;
    }

    /** Compiles a graph attribute (If branch, Loop or Scan body) for this node's kernel. */
    public Subgraph subgraph(String attribute) {
        return subgraphCompiler.apply(attrs().requireGraph(attribute));
    }

    /** An INVALID_MODEL error naming this node. */
    public OnnxrunException error(String message) {
        return OnnxrunException.invalidModel(node.describe() + ": " + message);
    }
}
