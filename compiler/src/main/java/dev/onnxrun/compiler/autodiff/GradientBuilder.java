package dev.onnxrun.compiler.autodiff;

import dev.onnxrun.compiler.ir.Attribute;
import dev.onnxrun.compiler.ir.Attributes;
import dev.onnxrun.compiler.ir.Node;
import dev.onnxrun.compiler.ir.OpsetImports;
import dev.onnxrun.compiler.ir.ValueType;
import dev.onnxrun.compiler.ir.ValueType.TensorType;
import dev.onnxrun.runtime.DType;
import dev.onnxrun.runtime.OnnxrunException;
import dev.onnxrun.runtime.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What a gradient rule sees of one forward node, and how it emits backward nodes. Forward
 * values are read by position ({@link #x}, {@link #y}); the incoming gradient of output i is
 * {@link #dy}. Emitted nodes are standard ONNX ops at the model's default-domain opset (the
 * helpers choose the attribute or input form of axes by that opset), except where a rule names
 * onnxrun's own domain. {@link ExpandAutodiffOps} uses the same view of an own-domain node to
 * emit its standard form.
 */
public final class GradientBuilder {
    private final Node node;
    private final OpsetImports opsets;
    private final Map<String, ValueType> types;
    private final Map<String, Tensor> constants;
    private final List<String> dys;
    private final Set<String> requiresGrad;
    private final Emitter emitter;

    /** Where emitted nodes go and how their values are named; shared by every rule of one backward pass. */
    static final class Emitter {
        final List<Node> nodes = new ArrayList<>();
        private final Set<String> taken;
        private int counter;

        Emitter(Set<String> taken) { this.taken = taken; }

        String fresh(String hint) {
            String name;
            do {
                name = "grad/" + hint + "/" + counter++;
            } while (!taken.add(name));
            return name;
        }
    }

    GradientBuilder(Node node, OpsetImports opsets, Map<String, ValueType> types, Map<String, Tensor> constants,
                    List<String> dys, Set<String> requiresGrad, Emitter emitter) {
        this.node = node;
        this.opsets = opsets;
        this.types = types;
        this.constants = constants;
        this.dys = dys;
        this.requiresGrad = requiresGrad;
        this.emitter = emitter;
    }

    // ---- the forward node ----

    public Node node() { return node; }

    public Attributes attrs() { return node.attrs(); }

    /** The version of the forward node's domain that the model imports. */
    public int opset() { return opsets.version(node.domain()); }

    /** The default-domain opset the emitted standard ops are read at. */
    public int onnxOpset() { return opsets.version(""); }

    public int inputCount() { return node.inputs().size(); }

    public boolean hasInput(int i) { return i < node.inputs().size() && !node.inputs().get(i).isEmpty(); }

    /** Forward input {@code i}, or null when omitted. */
    public String x(int i) { return hasInput(i) ? node.inputs().get(i) : null; }

    /** Forward output {@code i}, or null when not named. */
    public String y(int i) { return i < node.outputs().size() && !node.outputs().get(i).isEmpty() ? node.outputs().get(i) : null; }

    /** The gradient flowing into output {@code i}, or null when none does. */
    public String dy(int i) { return i < dys.size() ? dys.get(i) : null; }

    /** True when the gradient of input {@code i} is wanted; rules skip the others' terms. */
    public boolean needs(int i) { return hasInput(i) && requiresGrad.contains(x(i)); }

    /** The static tensor type of a value, or null when not known to be a tensor. */
    public TensorType type(String value) {
        return types.get(value) instanceof TensorType t ? t : null;
    }

    /** The element type of a value; a rule needs it to type constants. */
    public DType dtype(String value) {
        TensorType t = type(value);
        if (t == null) throw fail("the element type of '" + value + "' is not known");
        return t.dtype();
    }

    /** The rank of a value; fails when not known statically. */
    public int rank(String value) {
        TensorType t = type(value);
        if (t == null || !t.hasRank()) throw fail("the rank of '" + value + "' is not known");
        return t.rank();
    }

    /** The static shape of a value, or null when any dim is not known. */
    public long[] staticShape(String value) {
        TensorType t = type(value);
        return t != null && t.isStatic() ? t.shape() : null;
    }

    /** The compile-time value of a forward value (initializer or folded constant), or null. */
    public Tensor constant(String value) { return value == null ? null : constants.get(value); }

    /** Input {@code i} as a list of ints when it is a compile-time constant; null when omitted; fails when not constant. */
    public long[] constantInts(int i) {
        if (!hasInput(i)) return null;
        Tensor t = constant(x(i));
        if (t == null) throw fail("input " + i + " must be a compile-time constant for the gradient");
        return t.toLongArray();
    }

    /** An UNSUPPORTED error naming the forward node. */
    public OnnxrunException fail(String message) {
        return OnnxrunException.unsupported("gradient of " + node.describe() + ": " + message);
    }

    // ---- emitting ----

    /** Emits one standard op and returns its (single) output. */
    public String op(String opType, List<String> inputs, Attribute... attrs) {
        return ops("", opType, inputs, 1, attrs).getFirst();
    }

    public String op(String opType, String... inputs) { return op(opType, Arrays.asList(inputs)); }

    /** Emits an op with {@code outputs} outputs and returns their names. */
    public List<String> ops(String domain, String opType, List<String> inputs, int outputs, Attribute... attrs) {
        List<String> outs = new ArrayList<>();
        for (int i = 0; i < outputs; i++) outs.add(emitter.fresh(opType));
        Map<String, Attribute> a = new LinkedHashMap<>();
        for (Attribute attr : attrs) a.put(attr.name(), attr);
        List<String> ins = inputs.stream().map(v -> v == null ? "" : v).toList();
        emitter.nodes.add(new Node(outs.getFirst(), domain, opType, ins, outs, a));
        return outs;
    }

    // ---- constants ----

    /** A scalar constant with {@code like}'s element type. */
    public String scalar(double value, String like) {
        Tensor t = Tensor.allocate(dtype(like));
        t.setDouble(0, value);
        return op("Constant", List.of(), Attribute.of("value", t));
    }

    /** A 1-D int64 constant. */
    public String ints(long... values) {
        return op("Constant", List.of(), Attribute.of("value", Tensor.of(values.clone(), values.length)));
    }

    /** Zeros of {@code like}'s shape and element type. */
    public String zerosLike(String like) { return filledLike(0, like); }

    /** {@code value} everywhere, in {@code like}'s shape and element type. */
    public String filledLike(double value, String like) { return filled(value, like, dtype(like)); }

    /** {@code value} everywhere, in {@code shapeOf}'s shape, with element type {@code dtype}. */
    public String filled(double value, String shapeOf, DType dtype) {
        Tensor v = Tensor.allocate(dtype, 1);
        v.setDouble(0, value);
        return op("ConstantOfShape", List.of(shape(shapeOf)), Attribute.of("value", v));
    }

    // ---- arithmetic and shapes ----

    public String add(String a, String b) { return op("Add", a, b); }

    public String sub(String a, String b) { return op("Sub", a, b); }

    public String mul(String a, String b) { return op("Mul", a, b); }

    public String div(String a, String b) { return op("Div", a, b); }

    public String neg(String a) { return op("Neg", a); }

    public String shape(String x) { return op("Shape", x); }

    /** {@code x} with element type {@code to}. */
    public String cast(String x, DType to) { return op("Cast", List.of(x), Attribute.of("to", (long) to.onnxCode())); }

    public String reshape(String x, String shape) { return op("Reshape", x, shape); }

    /** {@code x} reshaped to {@code like}'s shape. */
    public String reshapeLike(String x, String like) { return reshape(x, shape(like)); }

    public String transpose(String x, long... perm) { return op("Transpose", List.of(x), Attribute.ints("perm", boxed(perm))); }

    /**
     * A gradient shaped like output 0 of an elementwise (broadcasting) op, summed back to the
     * shape of the input it flows to: the identity when their static shapes agree, else
     * {@code dev.onnxrun.SumToShape(grad, Shape(input))}, which also handles shapes known only at
     * run time.
     */
    public String unbroadcast(String grad, String input) {
        long[] y = staticShape(y(0)), x = staticShape(input);
        if (y != null && x != null && Arrays.equals(y, x)) return grad;
        return sumToShape(grad, input);
    }

    /** {@code dev.onnxrun.SumToShape(grad, Shape(like))}: sums broadcast dims of grad away. */
    public String sumToShape(String grad, String like) {
        return ops(OpsetImports.ONNXRUN_DOMAIN, "SumToShape", List.of(grad, shape(like)), 1).getFirst();
    }

    /** Sum over {@code axes} (all axes when empty), keeping reduced dims when {@code keepDims}. */
    public String reduceSum(String x, long[] axes, boolean keepDims) {
        return reduce("ReduceSum", 13, x, axes, keepDims);
    }

    public String reduceMean(String x, long[] axes, boolean keepDims) {
        return reduce("ReduceMean", 18, x, axes, keepDims);
    }

    private String reduce(String op, int axesAsInputSince, String x, long[] axes, boolean keepDims) {
        Attribute keep = Attribute.of("keepdims", keepDims ? 1L : 0L);
        if (axes.length == 0) return op(op, List.of(x), keep);
        if (onnxOpset() >= axesAsInputSince) return op(op, List.of(x, ints(axes)), keep);
        return op(op, List.of(x), keep, Attribute.ints("axes", boxed(axes)));
    }

    /** Inserts size-1 dims at {@code axes} (of the result). */
    public String unsqueeze(String x, long... axes) {
        if (onnxOpset() >= 13) return op("Unsqueeze", x, ints(axes));
        return op("Unsqueeze", List.of(x), Attribute.ints("axes", boxed(axes)));
    }

    /** A tensor of {@code x}'s shape holding each element's row-major position (int64). */
    public String flatPositions(String x) {
        if (onnxOpset() < 11) throw fail("needs Range (opset 11)");
        Tensor zero = Tensor.scalar(0L), one = Tensor.scalar(1L);
        String range = op("Range", constantNode(zero), op("Size", x), constantNode(one));
        return reshape(range, shape(x));
    }

    /**
     * Zeros of {@code x}'s shape with {@code grad} written at the flat {@code positions} (as
     * {@link #flatPositions} numbers them): added where positions repeat when {@code add}.
     * ScatterElements with reduction "add" is the standard form from opset 16 (onnxrun accepts
     * it at every opset).
     */
    public String scatterToPositions(String positions, String grad, String x, boolean add) {
        String flat = ints(-1);
        String zeros = reshape(zerosLike(x), flat);
        List<Attribute> attrs = new ArrayList<>(List.of(Attribute.of("axis", 0L)));
        if (add) attrs.add(Attribute.of("reduction", "add"));
        String scattered = op("ScatterElements", List.of(zeros, reshape(positions, flat), reshape(grad, flat)), attrs.toArray(Attribute[]::new));
        return reshapeLike(scattered, x);
    }

    /** A Constant node holding {@code value}. */
    public String constantNode(Tensor value) { return op("Constant", List.of(), Attribute.of("value", value)); }

    /** {@code cond ? a : b}, broadcasting. */
    public String where(String cond, String a, String b) { return op("Where", cond, a, b); }

    /** Normalizes a possibly negative axis against {@code rank}. */
    public static long axis(long axis, int rank) { return axis < 0 ? axis + rank : axis; }

    public static List<Long> boxed(long... values) { return Arrays.stream(values).boxed().toList(); }

    /** 0, 1, …, n−1 except the given (normalized) axes. */
    public static long[] otherAxes(int rank, long... axes) {
        List<Long> out = new ArrayList<>();
        outer:
        for (long a = 0; a < rank; a++) {
            for (long b : axes) if (a == b) continue outer;
            out.add(a);
        }
        return out.stream().mapToLong(Long::longValue).toArray();
    }

    /** Axes {@code from}…{@code rank−1}. */
    public static long[] axesFrom(long from, int rank) {
        long[] a = new long[(int) Math.max(0, rank - from)];
        for (int i = 0; i < a.length; i++) a[i] = from + i;
        return a;
    }

    /** A list with one entry per forward input. */
    public static List<String> grads(String... perInput) { return Arrays.asList(perInput); }
}
