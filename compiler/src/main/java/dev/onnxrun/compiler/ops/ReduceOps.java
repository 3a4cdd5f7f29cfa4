package dev.onnxrun.compiler.ops;

import static dev.onnxrun.compiler.autodiff.GradientBuilder.grads;

import dev.onnxrun.compiler.autodiff.GradientBuilder;
import dev.onnxrun.compiler.ir.Attribute;
import dev.onnxrun.compiler.ir.Dim;
import dev.onnxrun.compiler.ir.ValueType;
import dev.onnxrun.compiler.ir.ValueType.TensorType;
import dev.onnxrun.runtime.DType;
import dev.onnxrun.runtime.Kernel;
import dev.onnxrun.runtime.OnnxrunException;
import dev.onnxrun.runtime.Shapes;
import dev.onnxrun.runtime.Tensor;
import dev.onnxrun.runtime.Value;
import dev.onnxrun.runtime.kernels.AxisLayout;
import dev.onnxrun.runtime.kernels.AxisNormalization;
import dev.onnxrun.runtime.kernels.CumSum;
import dev.onnxrun.runtime.kernels.Einsum;
import dev.onnxrun.runtime.kernels.Losses;
import dev.onnxrun.runtime.kernels.Losses.LossReduction;
import dev.onnxrun.runtime.kernels.Reduce;
import dev.onnxrun.runtime.kernels.Reduce.Reduction;
import dev.onnxrun.runtime.kernels.Softmax;
import dev.onnxrun.runtime.kernels.TopK;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Ops that reduce or normalize along axes: the Reduce* ops, ArgMax/ArgMin, Softmax/LogSoftmax/
 * Hardmax, TopK, CumSum, Einsum, the NLL and softmax cross-entropy losses,
 * MeanVarianceNormalization and LpNormalization.
 */
public final class ReduceOps {
    private ReduceOps() {}

    /** What ReduceSum, ReduceMean, ... accept (opset 13+ adds bfloat16; older models never carry it). */
    private static final Set<DType> REDUCE_TYPES = EnumSet.of(DType.FLOAT, DType.DOUBLE, DType.FLOAT16, DType.BFLOAT16,
            DType.INT32, DType.INT64, DType.UINT32, DType.UINT64);
    /** ReduceMax and ReduceMin also take 8-bit integers (opset 12+) and bool (opset 20+). */
    private static final Set<DType> MIN_MAX_TYPES = DTypes.union(REDUCE_TYPES, EnumSet.of(DType.INT8, DType.UINT8, DType.BOOL));
    private static final Set<DType> CUMSUM_TYPES = EnumSet.of(DType.FLOAT, DType.DOUBLE, DType.FLOAT16, DType.BFLOAT16,
            DType.INT32, DType.INT64, DType.UINT32, DType.UINT64);

    public static List<OpDef> defs() {
        List<OpDef> defs = new ArrayList<>();
        for (ReduceOp op : ReduceOp.values()) defs.add(op.def());
        defs.add(argExtreme("ArgMax", true));
        defs.add(argExtreme("ArgMin", false));
        defs.add(softmax("Softmax", Softmax.Kind.SOFTMAX));
        defs.add(softmax("LogSoftmax", Softmax.Kind.LOG_SOFTMAX));
        defs.add(softmax("Hardmax", Softmax.Kind.HARDMAX));
        defs.add(topK());
        defs.add(cumSum());
        defs.add(einsum());
        defs.add(negativeLogLikelihoodLoss());
        defs.add(softmaxCrossEntropyLoss());
        defs.add(meanVarianceNormalization());
        defs.add(lpNormalization());
        return defs;
    }

    /** The Reduce* ops: one {@link Reduction} each, axes as an attribute until they became an input. */
    private enum ReduceOp {
        REDUCE_SUM("ReduceSum", Reduction.SUM, 13),
        REDUCE_MEAN("ReduceMean", Reduction.MEAN, 18),
        REDUCE_MAX("ReduceMax", Reduction.MAX, 18),
        REDUCE_MIN("ReduceMin", Reduction.MIN, 18),
        REDUCE_PROD("ReduceProd", Reduction.PROD, 18),
        REDUCE_L1("ReduceL1", Reduction.L1, 18),
        REDUCE_L2("ReduceL2", Reduction.L2, 18),
        REDUCE_LOG_SUM("ReduceLogSum", Reduction.LOG_SUM, 18),
        REDUCE_LOG_SUM_EXP("ReduceLogSumExp", Reduction.LOG_SUM_EXP, 18),
        REDUCE_SUM_SQUARE("ReduceSumSquare", Reduction.SUM_SQUARE, 18);

        private final String onnxName;
        private final Reduction reduction;
        /** First opset where axes come from input 1 (and noop_with_empty_axes exists). */
        private final int axesInputSince;

        ReduceOp(String onnxName, Reduction reduction, int axesInputSince) {
            this.onnxName = onnxName;
            this.reduction = reduction;
            this.axesInputSince = axesInputSince;
        }

        OpDef def() {
            boolean minMax = reduction == Reduction.MAX || reduction == Reduction.MIN;
            return OpDef.onnx(onnxName).since(1).types(minMax ? MIN_MAX_TYPES : REDUCE_TYPES).inputs(1, 2).outputs(1, 1)
                    .infer(ctx -> List.of(reducedType(ctx.tensorType(0), staticAxes(ctx), keepdims(ctx), noopWithEmptyAxes(ctx))))
                    .cpu(this::lower).build();
        }

        private Kernel lower(NodeContext ctx) {
            boolean keepdims = keepdims(ctx);
            boolean noop = noopWithEmptyAxes(ctx);
            if (ctx.opset() < axesInputSince) {
                long[] axes = ctx.attrs().getInts("axes");
                return (in, ec) -> {
                    Tensor x = tensor(in, 0);
                    return new Value[] {Reduce.reduce(x, reduction, reducedFlags(axes, x.rank(), false), keepdims, ec.parallel())};
                };
            }
            return (in, ec) -> {
                Tensor x = tensor(in, 0);
                Tensor axes = optionalTensor(in, 1);
                long[] axisList = axes == null ? null : axes.toLongArray();
                return new Value[] {Reduce.reduce(x, reduction, reducedFlags(axisList, x.rank(), noop), keepdims, ec.parallel())};
            };
        }

        private boolean noopWithEmptyAxes(NodeContext ctx) {
            return ctx.opset() >= axesInputSince && ctx.attrs().getInt("noop_with_empty_axes", 0) != 0;
        }

        /** The axes when known at compile time (an empty array when absent), else null. */
        private long[] staticAxes(NodeContext ctx) {
            if (ctx.opset() < axesInputSince) {
                long[] axes = ctx.attrs().getInts("axes");
                return axes == null ? new long[0] : axes;
            }
            if (!ctx.hasInput(1)) return new long[0];
            Tensor axes = ctx.constantInput(1);
            return axes == null ? null : axes.toLongArray();
        }
    }

    private static boolean keepdims(NodeContext ctx) { return ctx.attrs().getInt("keepdims", 1) != 0; }

    /** Which axes to reduce: those listed, or with none listed every axis, unless {@code noop} asks for none. */
    private static boolean[] reducedFlags(long[] axes, int rank, boolean noop) {
        if (axes == null || axes.length == 0) {
            boolean[] all = new boolean[rank];
            Arrays.fill(all, !noop);
            return all;
        }
        return Reduce.axisFlags(axes, rank);
    }

    /** Type of a reduction's output; {@code axes} null means not known before run time. */
    private static ValueType reducedType(TensorType in, long[] axes, boolean keepdims, boolean noop) {
        if (in == null) return ValueType.UNKNOWN;
        if (!in.hasRank()) return TensorType.unknownShape(in.dtype());
        int rank = in.rank();
        if (axes == null) return new TensorType(in.dtype(), keepdims ? TypeRules.unknownDims(rank) : null);
        boolean[] flags;
        try {
            flags = reducedFlags(axes, rank, noop);
        } catch (OnnxrunException e) {
            return TensorType.unknownShape(in.dtype()); // the kernel reports the bad axes
        }
        List<Dim> dims = new ArrayList<>();
        for (int d = 0; d < rank; d++) {
            if (!flags[d]) dims.add(in.dims().get(d));
            else if (keepdims) dims.add(Dim.of(1));
        }
        return new TensorType(in.dtype(), dims);
    }

    /** ArgMax/ArgMin: int64 index of the extreme element along {@code axis}. */
    private static OpDef argExtreme(String name, boolean max) {
        return OpDef.onnx(name).since(1).types(DTypes.NUMERIC).inputs(1, 1).outputs(1, 1)
                .infer(ctx -> {
                    TensorType in = ctx.tensorType(0);
                    if (in == null || !in.hasRank()) return List.of(TypeRules.unknownShape(DType.INT64));
                    ValueType t = reducedType(new TensorType(DType.INT64, in.dims()),
                            new long[] {ctx.attrs().getInt("axis", 0)}, keepdims(ctx), false);
                    return List.of(t);
                })
                .cpu(ctx -> {
                    long axis = ctx.attrs().getInt("axis", 0);
                    boolean keepdims = keepdims(ctx);
                    boolean selectLast = ctx.attrs().getInt("select_last_index", 0) != 0;
                    return (in, ec) -> {
                        Tensor x = tensor(in, 0);
                        return new Value[] {Reduce.argExtreme(x, Shapes.axis(axis, x.rank()), max, keepdims, selectLast, ec.parallel())};
                    };
                }).build();
    }

    /**
     * Softmax, LogSoftmax, Hardmax. Before opset 13 the input is seen as 2-D, split at {@code axis}
     * (default 1), and each row over all trailing dims is normalized; from 13 on, only {@code axis}
     * (default -1).
     */
    private static OpDef softmax(String name, Softmax.Kind kind) {
        return OpDef.onnx(name).since(1).types(DTypes.FLOATS).inputs(1, 1).outputs(1, 1).infer(TypeRules.SAME_AS_INPUT)
                .cpu(ctx -> {
                    boolean flattened = ctx.opset() < 13;
                    long axis = ctx.attrs().getInt("axis", flattened ? 1 : -1);
                    return (in, ec) -> {
                        Tensor x = tensor(in, 0);
                        long[] shape = x.shape();
                        int a = Shapes.axis(axis, Math.max(x.rank(), 1));
                        AxisLayout layout = x.rank() == 0 ? new AxisLayout(1, 1, 1)
                                : flattened ? AxisLayout.spanning(shape, a, shape.length) : AxisLayout.around(shape, a);
                        return new Value[] {Softmax.apply(x, layout, kind, ec)};
                    };
                }).build();
    }

    /** TopK: k from an attribute before opset 10, from input 1 after; largest and sorted since 11. */
    private static OpDef topK() {
        return OpDef.onnx("TopK").since(1).types(DTypes.NUMERIC).inputs(1, 2).outputs(2, 2)
                .infer(ctx -> {
                    TensorType in = ctx.tensorType(0);
                    if (in == null) return List.of(ValueType.UNKNOWN, TypeRules.unknownShape(DType.INT64));
                    Long k = ctx.opset() < 10 ? Long.valueOf(ctx.attrs().getInt("k", 1))
                            : ctx.constantInput(1) != null && ctx.constantInput(1).size() == 1 ? ctx.constantInput(1).getLong(0) : null;
                    List<Dim> dims = null;
                    if (in.hasRank() && in.rank() > 0) {
                        dims = new ArrayList<>(in.dims());
                        long axis = ctx.attrs().getInt("axis", -1);
                        if (axis >= -in.rank() && axis < in.rank()) dims.set(Shapes.axis(axis, in.rank()), k == null ? Dim.UNKNOWN : Dim.of(k));
                        else dims = null;
                    }
                    return List.of(new TensorType(in.dtype(), dims), new TensorType(DType.INT64, dims));
                })
                .cpu(ctx -> {
                    long axis = ctx.attrs().getInt("axis", -1);
                    boolean largest = ctx.attrs().getInt("largest", 1) != 0;
                    long attrK = ctx.opset() < 10 ? ctx.attrs().getInt("k") : -1;
                    return (in, ec) -> {
                        Tensor x = tensor(in, 0);
                        long k = attrK;
                        if (attrK < 0) {
                            Tensor kt = tensor(in, 1);
                            if (kt.size() != 1) throw OnnxrunException.invalidInput("TopK k must hold one value, got " + kt.describe());
                            k = kt.getLong(0);
                        }
                        return TopK.topK(x, Shapes.axis(axis, x.rank()), k, largest, ec.parallel());
                    };
                }).build();
    }

    /** CumSum along the axis given by input 1. */
    private static OpDef cumSum() {
        return OpDef.onnx("CumSum").since(11).types(CUMSUM_TYPES).inputs(2, 2).outputs(1, 1).infer(TypeRules.SAME_AS_INPUT)
                .cpu(ctx -> {
                    boolean exclusive = ctx.attrs().getInt("exclusive", 0) != 0;
                    boolean reverse = ctx.attrs().getInt("reverse", 0) != 0;
                    return (in, ec) -> {
                        Tensor x = tensor(in, 0), axis = tensor(in, 1);
                        if (axis.size() != 1) throw OnnxrunException.invalidInput("CumSum axis must hold one value, got " + axis.describe());
                        return new Value[] {CumSum.cumSum(x, Shapes.axis(axis.getLong(0), x.rank()), exclusive, reverse, ec.parallel())};
                    };
                }).build();
    }

    /** Einsum: sums of products of the operands as the equation spells out. */
    private static OpDef einsum() {
        return OpDef.onnx("Einsum").since(12).types(DTypes.NUMERIC).inputs(1, Integer.MAX_VALUE).outputs(1, 1)
                .infer(ctx -> List.of(einsumType(ctx)))
                .cpu(ctx -> {
                    Einsum spec = Einsum.parse(equation(ctx), ctx.inputCount());
                    return (in, ec) -> {
                        Tensor[] operands = new Tensor[in.length];
                        for (int i = 0; i < in.length; i++) operands[i] = tensor(in, i);
                        return new Value[] {spec.apply(operands, ec.parallel())};
                    };
                }).build();
    }

    private static String equation(NodeContext ctx) {
        String equation = ctx.attrs().getString("equation", null);
        if (equation == null) throw ctx.error("missing required attribute 'equation'");
        return equation;
    }

    /**
     * Einsum's output type: each output dim is its label's size, taken from an operand dim with
     * that label (a known size other than 1 wins, since size 1 may be broadcast).
     */
    private static ValueType einsumType(NodeContext ctx) {
        DType dtype = ctx.inputDType(0);
        if (dtype == null) return ValueType.UNKNOWN;
        int n = ctx.inputCount();
        int[] ranks = new int[n];
        for (int i = 0; i < n; i++) {
            TensorType t = ctx.tensorType(i);
            if (t == null || !t.hasRank()) return TensorType.unknownShape(dtype);
            ranks[i] = t.rank();
        }
        Einsum.Labeling labeling;
        try {
            labeling = Einsum.parse(equation(ctx), n).labeling(ranks);
        } catch (OnnxrunException e) {
            return TensorType.unknownShape(dtype); // the lowering or the kernel reports it
        }
        List<Dim> dims = new ArrayList<>();
        for (int label : labeling.outLabels()) {
            Dim best = null;
            for (int i = 0; i < n; i++) {
                for (int d = 0; d < ranks[i]; d++) {
                    if (labeling.dimLabels()[i][d] != label) continue;
                    Dim dim = ctx.tensorType(i).dims().get(d);
                    boolean knownSize = dim.isKnown() && dim.sizeOrMinus1() != 1;
                    boolean bestIsOne = best != null && best.sizeOrMinus1() == 1;
                    if (best == null || knownSize || (bestIsOne && dim.sizeOrMinus1() != 1)) best = dim;
                }
            }
            dims.add(best);
        }
        return new TensorType(dtype, dims);
    }

    /** Shape of a loss: the target's for reduction "none", else a scalar. */
    private static ValueType lossType(NodeContext ctx) {
        DType dtype = ctx.inputDType(0);
        if (dtype == null) return ValueType.UNKNOWN;
        if (!ctx.attrs().getString("reduction", "mean").equals("none")) return TensorType.of(dtype);
        TensorType target = ctx.tensorType(1);
        return new TensorType(dtype, target == null ? null : target.dims());
    }

    private static Long ignoreIndex(NodeContext ctx) {
        return ctx.attrs().has("ignore_index") ? ctx.attrs().getInt("ignore_index") : null;
    }

    /** NegativeLogLikelihoodLoss: minus the input at each target class, weighted, then reduced. */
    private static OpDef negativeLogLikelihoodLoss() {
        return OpDef.onnx("NegativeLogLikelihoodLoss").since(12).types(DTypes.FLOATS).inputs(2, 3).outputs(1, 1)
                .infer(ctx -> List.of(lossType(ctx)))
                .cpu(ctx -> {
                    LossReduction reduction = LossReduction.parse(ctx.attrs().getString("reduction", "mean"));
                    Long ignore = ignoreIndex(ctx);
                    return (in, ec) -> new Value[] {
                        Losses.negativeLogLikelihood(tensor(in, 0), tensor(in, 1), optionalTensor(in, 2), ignore, reduction)};
                }).build();
    }

    /** SoftmaxCrossEntropyLoss: NLL of the log-softmax over classes; the second output is that log-softmax. */
    private static OpDef softmaxCrossEntropyLoss() {
        return OpDef.onnx("SoftmaxCrossEntropyLoss").since(12).types(DTypes.FLOATS).inputs(2, 3).outputs(1, 2)
                .infer(ctx -> List.of(lossType(ctx), ctx.inputType(0)))
                .cpu(ctx -> {
                    LossReduction reduction = LossReduction.parse(ctx.attrs().getString("reduction", "mean"));
                    Long ignore = ignoreIndex(ctx);
                    return (in, ec) -> Losses.softmaxCrossEntropy(tensor(in, 0), tensor(in, 1), optionalTensor(in, 2),
                            ignore, reduction, ec.parallel());
                }).build();
    }

    /**
     * Gradient rules by op name: sums and means broadcast the gradient back over the reduced axes;
     * softmax-like ops use their Jacobian-vector products; the losses put the gradient on each
     * target class, weighted as the forward pass weighted it.
     */
    static Map<String, OpDef.GradientRule> gradients() {
        return Map.of(
                "ReduceSum", g -> grads(reduceGradient(g, 13, false)),
                "ReduceMean", g -> grads(reduceGradient(g, 18, true)),
                // dx = y ⊙ (dy − Σ dy ⊙ y)
                "Softmax", g -> {
                    long[] axes = softmaxAxes(g);
                    String dyY = g.mul(g.dy(0), g.y(0));
                    return grads(g.sub(dyY, g.mul(g.y(0), g.reduceSum(dyY, axes, true))));
                },
                // dx = dy − softmax(x) ⊙ Σ dy
                "LogSoftmax", g -> grads(logSoftmaxBackward(g, g.dy(0), g.op("Exp", g.y(0)), softmaxAxes(g))),
                "NegativeLogLikelihoodLoss", g -> grads(nllInputGradient(g)),
                // the loss is NLL of LogSoftmax(scores, axis 1): chain the two
                "SoftmaxCrossEntropyLoss", g -> {
                    String dLogProb = g.dy(0) == null ? null : nllInputGradient(g);
                    if (g.dy(1) != null) dLogProb = dLogProb == null ? g.dy(1) : g.add(dLogProb, g.dy(1));
                    String p = g.onnxOpset() >= 13 || g.rank(g.x(0)) == 2 ? g.op("Softmax", List.of(g.x(0)), Attribute.of("axis", 1L))
                            : g.op("Exp", g.op("LogSoftmax", List.of(g.x(0)), Attribute.of("axis", 1L)));
                    return grads(logSoftmaxBackward(g, dLogProb, p, new long[] {1}));
                });
    }

    private static String logSoftmaxBackward(GradientBuilder g, String dy, String softmax, long[] axes) {
        return g.sub(dy, g.mul(softmax, g.reduceSum(dy, axes, true)));
    }

    /** The axes a softmax normalizes over: one axis from opset 13, before that every axis from {@code axis} on. */
    private static long[] softmaxAxes(GradientBuilder g) {
        int rank = g.rank(g.x(0));
        if (g.opset() >= 13) return new long[] {GradientBuilder.axis(g.attrs().getInt("axis", -1), rank)};
        return GradientBuilder.axesFrom(GradientBuilder.axis(g.attrs().getInt("axis", 1), rank), rank);
    }

    /** dx of a sum or mean: dy (with reduced dims restored) broadcast to x, divided by the count for a mean. */
    private static String reduceGradient(GradientBuilder g, int axesInputSince, boolean mean) {
        String x = g.x(0);
        int rank = g.rank(x);
        long[] axes = g.opset() < axesInputSince ? g.attrs().getInts("axes") : g.constantInts(1);
        boolean all = axes == null || axes.length == 0;
        if (all && g.opset() >= axesInputSince && g.attrs().getInt("noop_with_empty_axes", 0) != 0) return g.dy(0);
        String d = g.dy(0);
        if (g.attrs().getInt("keepdims", 1) == 0 && !all) {
            long[] sorted = Arrays.stream(axes).map(a -> GradientBuilder.axis(a, rank)).sorted().toArray();
            d = g.unsqueeze(d, sorted);
        }
        String dx = g.op("Expand", d, g.shape(x));
        if (!mean) return dx;
        DType t = g.dtype(x);
        return g.div(dx, g.div(g.cast(g.op("Size", x), t), g.cast(g.op("Size", g.y(0)), t)));
    }

    /**
     * d loss / d input of NegativeLogLikelihoodLoss (also the log-probabilities of
     * SoftmaxCrossEntropyLoss): −w[t]·dloss at each target class t, 0 elsewhere; a mean divides by
     * the summed weight of the counted targets; ignored targets get nothing.
     */
    private static String nllInputGradient(GradientBuilder g) {
        String input = g.x(0), target = g.x(1);
        Long ignore = g.attrs().has("ignore_index") ? g.attrs().getInt("ignore_index") : null;
        String ignored = ignore == null ? null : g.op("Equal", target, g.scalar(ignore, target));
        // an ignored target may be out of range: gather and one-hot a safe class 0 instead
        String safeTarget = ignored == null ? target : g.where(ignored, g.scalar(0, target), target);
        String weight = g.hasInput(2) ? g.op("Gather", g.x(2), safeTarget) : g.filled(1, target, g.dtype(input));
        if (ignored != null) weight = g.where(ignored, g.scalar(0, input), weight);
        String coefficient = g.mul(g.dy(0), weight);
        if (g.attrs().getString("reduction", "mean").equals("mean")) {
            coefficient = g.div(coefficient, g.reduceSum(weight, new long[0], false));
        }
        String classes = g.op("Slice", g.shape(input), g.ints(1), g.ints(2));
        String offOn = g.op("Constant", List.of(), Attribute.of("value", offOn(g.dtype(input))));
        String oneHot = g.op("OneHot", List.of(safeTarget, classes, offOn), Attribute.of("axis", 1L));
        return g.neg(g.mul(oneHot, g.unsqueeze(coefficient, 1)));
    }

    private static Tensor offOn(DType t) {
        Tensor v = Tensor.allocate(t, 2);
        v.setDouble(1, 1);
        return v;
    }

    /** MeanVarianceNormalization: (x - mean) / std over {@code axes} (default 0, 2, 3). */
    private static OpDef meanVarianceNormalization() {
        return OpDef.onnx("MeanVarianceNormalization").since(9).types(DTypes.FLOATS).inputs(1, 1).outputs(1, 1).infer(TypeRules.SAME_AS_INPUT)
                .cpu(ctx -> {
                    long[] axes = ctx.attrs().getInts("axes");
                    long[] used = axes == null ? new long[] {0, 2, 3} : axes;
                    return (in, ec) -> {
                        Tensor x = tensor(in, 0);
                        return new Value[] {AxisNormalization.meanVariance(x, Reduce.axisFlags(used, x.rank()), ec.parallel())};
                    };
                }).build();
    }

    /** LpNormalization: x divided by its L1 or L2 norm along {@code axis}. */
    private static OpDef lpNormalization() {
        return OpDef.onnx("LpNormalization").since(1).types(DTypes.FLOATS).inputs(1, 1).outputs(1, 1).infer(TypeRules.SAME_AS_INPUT)
                .cpu(ctx -> {
                    long axis = ctx.attrs().getInt("axis", -1);
                    long p = ctx.attrs().getInt("p", 2);
                    if (p != 1 && p != 2) throw ctx.error("p must be 1 or 2, got " + p);
                    return (in, ec) -> {
                        Tensor x = tensor(in, 0);
                        return new Value[] {AxisNormalization.lpNormalize(x, Shapes.axis(axis, x.rank()), (int) p, ec.parallel())};
                    };
                }).build();
    }

    /** Input {@code i} as a tensor; fails clearly when it is not a tensor. */
    private static Tensor tensor(Value[] in, int i) {
        if (in[i] instanceof Tensor t) return t;
        throw OnnxrunException.invalidInput("input " + i + " must be a tensor");
    }

    /** Optional input {@code i}, or null when omitted. */
    private static Tensor optionalTensor(Value[] in, int i) {
        return i < in.length && in[i] != null ? tensor(in, i) : null;
    }
}
