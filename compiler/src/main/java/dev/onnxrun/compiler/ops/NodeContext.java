package dev.onnxrun.compiler.ops;

import dev.onnxrun.compiler.ir.Attributes;
import dev.onnxrun.compiler.ir.Graph;
import dev.onnxrun.compiler.ir.Node;
import dev.onnxrun.compiler.ir.ValueType;
import dev.onnxrun.runtime.DType;
import dev.onnxrun.runtime.OnnxrunException;
import dev.onnxrun.runtime.Subgraph;
import dev.onnxrun.runtime.Tensor;
import dev.onnxrun.runtime.kernels.PackedForm;
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
    private final Packing packing;

    public NodeContext(Node node, int opset, List<ValueType> inputTypes, List<Tensor> constantInputs,
                       Function<Graph, Subgraph> subgraphCompiler) {
        this(node, opset, inputTypes, constantInputs, subgraphCompiler, Packing.NONE);
    }

    private NodeContext(Node node, int opset, List<ValueType> inputTypes, List<Tensor> constantInputs,
                        Function<Graph, Subgraph> subgraphCompiler, Packing packing) {
        this.node = node;
        this.opset = opset;
        this.inputTypes = inputTypes;
        this.constantInputs = constantInputs;
        this.subgraphCompiler = subgraphCompiler;
        this.packing = packing;
    }

    /** The context of {@code node}, reading what is known of its inputs through {@code types} and {@code constants}. */
    public static NodeContext of(Node node, int opset, Map<String, ValueType> types, Map<String, Tensor> constants,
                                 Function<Graph, Subgraph> subgraphCompiler) {
        return of(node, opset, types, constants, subgraphCompiler, Packing.NONE);
    }

    /** {@link #of(Node, int, Map, Map, Function)} for a lowering, whose packed weights go through {@code packing}. */
    public static NodeContext of(Node node, int opset, Map<String, ValueType> types, Map<String, Tensor> constants,
                                 Function<Graph, Subgraph> subgraphCompiler, Packing packing) {
        List<ValueType> inTypes = new ArrayList<>();
        List<Tensor> inConsts = new ArrayList<>();
        for (String in : node.inputs()) {
            inTypes.add(in.isEmpty() ? ValueType.UNKNOWN : types.getOrDefault(in, ValueType.UNKNOWN));
            inConsts.add(in.isEmpty() ? null : constants.get(in));
        }
        return new NodeContext(node, opset, inTypes, inConsts, subgraphCompiler, packing);
    }

    /**
     * Where lowerings find the packed weights a compiled model stores for their node, and leave
     * the packed weights they make (so that a compiled model can be written with them).
     */
    public interface Packing {
        /** The parts stored for {@code node}; {@link PackedForm.Stored#NONE} when there are none. */
        PackedForm.Stored stored(Node node);

        /** Records that {@code node}'s lowering packed its weights as {@code form}. */
        void made(Node node, PackedForm form);

        Packing NONE = new Packing() {
            @Override public PackedForm.Stored stored(Node node) { return PackedForm.Stored.NONE; }

            @Override public void made(Node node, PackedForm form) {}
        };
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

    /** The input's shape when it is statically known, else null. */
    public long[] staticShape(int i) {
        ValueType.TensorType t = tensorType(i);
        return t != null && t.isStatic() ? t.shape() : null;
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

    /**
     * This node's constant weights as {@code pack} packs them, offered the parts a compiled model
     * stores for the node: the one place a lowering gets packed weights, so every packed form is
     * both read from and written to compiled models.
     */
    public <P extends PackedForm> P packed(Function<PackedForm.Stored, P> pack) {
        P form = pack.apply(packing.stored(node));
        if (form != null) packing.made(node, form);
        return form;
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
