package dev.onnxrun.compiler.ops;

import static dev.onnxrun.compiler.autodiff.GradientBuilder.grads;
import static dev.onnxrun.compiler.ops.TensorOps.dims;
import static dev.onnxrun.compiler.ops.TensorOps.one;
import static dev.onnxrun.compiler.ops.TensorOps.tensor;
import static dev.onnxrun.compiler.ops.TensorOps.tensorType;

import dev.onnxrun.compiler.autodiff.GradientBuilder;
import dev.onnxrun.compiler.ir.Dim;
import dev.onnxrun.compiler.ir.ValueType;
import dev.onnxrun.compiler.ir.ValueType.TensorType;
import dev.onnxrun.compiler.ops.TensorOps.ListArg;
import dev.onnxrun.runtime.DType;
import dev.onnxrun.runtime.OnnxrunException;
import dev.onnxrun.runtime.Shapes;
import dev.onnxrun.runtime.Tensor;
import dev.onnxrun.runtime.Value;
import dev.onnxrun.runtime.kernels.RandomSampling;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Supplier;

/**
 * Ops that change only a tensor's shape (returning views that share the input's storage) or read
 * its shape: Reshape, Flatten, Squeeze, Unsqueeze, Dropout at inference, Shape, Size.
 */
final class ShapeOps {
    private ShapeOps() {}

    static List<OpDef> defs() {
        return List.of(
                OpDef.onnx("Reshape").inputs(1, 2).outputs(1, 1).infer(ShapeOps::inferReshape).cpu(ctx -> {
                    ListArg shapeArg = ListArg.of(ctx, "shape", 1, 5);
                    boolean allowZero = ctx.attrs().getInt("allowzero", 0) != 0;
                    return (in, ec) -> {
                        Tensor x = tensor(in, 0);
                        long[] shape = shapeArg.get(in);
                        if (shape == null) throw OnnxrunException.invalidModel("Reshape: no target shape");
                        return new Value[] {x.reshape(reshapeTarget(x.shape(), shape, allowZero))};
                    };
                }).build(),
                OpDef.onnx("Flatten").inputs(1, 1).outputs(1, 1).infer(ShapeOps::inferFlatten).cpu(ctx -> {
                    long axis = ctx.attrs().getInt("axis", 1);
                    return (in, ec) -> {
                        Tensor x = tensor(in, 0);
                        int a = flattenAxis(axis, x.rank());
                        if (a < 0) throw OnnxrunException.invalidInput("Flatten: axis " + axis + " is out of range for " + x.describe());
                        long[] s = x.shape();
                        long outer = Shapes.size(Arrays.copyOf(s, a));
                        return new Value[] {x.reshape(outer, Shapes.size(Arrays.copyOfRange(s, a, s.length)))};
                    };
                }).build(),
                OpDef.onnx("Squeeze").inputs(1, 2).outputs(1, 1).infer(ShapeOps::inferSqueeze).cpu(ctx -> {
                    ListArg axesArg = ListArg.of(ctx, "axes", 1, 13);
                    return (in, ec) -> {
                        Tensor x = tensor(in, 0);
                        return new Value[] {x.reshape(squeezed(x.shape(), axesArg.get(in)))};
                    };
                }).build(),
                OpDef.onnx("Unsqueeze").inputs(1, 2).outputs(1, 1).infer(ShapeOps::inferUnsqueeze).cpu(ctx -> {
                    ListArg axesArg = ListArg.of(ctx, "axes", 1, 13);
                    return (in, ec) -> {
                        Tensor x = tensor(in, 0);
                        long[] axes = axesArg.get(in);
                        if (axes == null) throw OnnxrunException.invalidModel("Unsqueeze: axes are required");
                        return new Value[] {x.reshape(unsqueezed(x.shape(), axes))};
                    };
                }).build(),
                OpDef.onnx("Dropout").inputs(1, 3).outputs(1, 2).infer(ShapeOps::inferDropout).cpu(ShapeOps::lowerDropout).build(),
                OpDef.onnx("Shape").inputs(1, 1).outputs(1, 1).infer(ShapeOps::inferShape).cpu(ctx -> {
                    long start = ctx.attrs().getInt("start", 0);
                    Long end = ctx.attrs().has("end") ? ctx.attrs().getInt("end") : null;
                    return (in, ec) -> {
                        long[] s = tensor(in, 0).shape();
                        long[] range = shapeRange(s.length, start, end);
                        long[] dims = Arrays.copyOfRange(s, (int) range[0], (int) Math.max(range[0], range[1]));
                        return new Value[] {Tensor.of(dims, dims.length)};
                    };
                }).build(),
                OpDef.onnx("Size").inputs(1, 1).outputs(1, 1).infer(ctx -> one(TensorType.of(DType.INT64)))
                        .cpu(ctx -> (in, ec) -> new Value[] {Tensor.of(new long[] {tensor(in, 0).size()})}).build());
    }

    /** Gradient rules: a reshape's gradient is reshaped back; Dropout passes it where the mask kept, scaled. */
    static Map<String, OpDef.GradientRule> gradients() {
        OpDef.GradientRule reshapeBack = g -> grads(g.reshapeLike(g.dy(0), g.x(0)));
        return Map.of("Reshape", reshapeBack, "Flatten", reshapeBack, "Squeeze", reshapeBack, "Unsqueeze", reshapeBack,
                "Dropout", ShapeOps::dropoutGradient);
    }

    /** Identity at inference; in training mode dy ⊙ mask / (1 − ratio), which needs the mask output. */
    private static List<String> dropoutGradient(GradientBuilder g) {
        Tensor training = g.opset() >= 12 ? g.constant(g.x(2)) : null;
        if (g.opset() >= 12 && g.hasInput(2) && training == null) throw g.fail("training_mode must be a compile-time constant");
        if (training == null || !training.getBoolean(0)) return grads(g.dy(0));
        if (g.y(1) == null) throw g.fail("training-mode Dropout needs its mask output for the gradient");
        String x = g.x(0);
        String keep = g.hasInput(1) ? g.sub(g.scalar(1, x), g.cast(g.x(1), g.dtype(x))) : g.scalar(0.5, x);
        return grads(g.div(g.mul(g.dy(0), g.cast(g.y(1), g.dtype(x))), keep));
    }

    // ---- Reshape ----

    /** The concrete Reshape target: 0 copies the input dim (unless allowzero), one -1 takes what is left. */
    static long[] reshapeTarget(long[] input, long[] shape, boolean allowZero) {
        long[] out = shape.clone();
        int inferred = -1;
        long known = 1;
        for (int i = 0; i < out.length; i++) {
            if (out[i] == -1) {
                if (inferred >= 0) throw OnnxrunException.invalidInput("Reshape: more than one -1 in " + Shapes.toString(shape));
                inferred = i;
                continue;
            }
            if (out[i] == 0 && !allowZero) {
                if (i >= input.length) {
                    throw OnnxrunException.invalidInput("Reshape: 0 at position " + i + " of " + Shapes.toString(shape)
                            + " has no input dim to copy from " + Shapes.toString(input));
                }
                out[i] = input[i];
            }
            if (out[i] < 0) throw OnnxrunException.invalidInput("Reshape: invalid dim " + out[i] + " in " + Shapes.toString(shape));
            if (out[i] != 0 && known > Long.MAX_VALUE / out[i]) {
                throw OnnxrunException.invalidInput("Reshape: target " + Shapes.toString(shape) + " is too large");
            }
            known *= out[i];
        }
        long size = Shapes.size(input);
        if (inferred >= 0) {
            if (known == 0 || size % known != 0) {
                throw OnnxrunException.invalidInput("Reshape: cannot infer -1 reshaping " + Shapes.toString(input)
                        + " to " + Shapes.toString(shape));
            }
            out[inferred] = size / known;
        }
        return out;
    }

    private static List<ValueType> inferReshape(NodeContext ctx) {
        DType dtype = ctx.inputDType(0);
        long[] shape = ListArg.of(ctx, "shape", 1, 5).known(ctx);
        if (shape == null) {
            int rank = ctx.opset() >= 5 ? TensorOps.lengthOf(ctx, 1) : -1;
            return one(tensorType(dtype, rank < 0 ? null : TensorOps.unknownDims(rank)));
        }
        boolean allowZero = ctx.attrs().getInt("allowzero", 0) != 0;
        List<Dim> in = dims(ctx, 0);
        List<Dim> out = new ArrayList<>();
        int inferred = -1;
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] == 0 && !allowZero) out.add(in != null && i < in.size() ? in.get(i) : Dim.UNKNOWN);
            else if (shape[i] == -1) {
                inferred = i;
                out.add(Dim.UNKNOWN);
            } else out.add(Dim.of(shape[i]));
        }
        if (inferred >= 0 && in != null) {
            // Dims copied by 0 cancel out; the -1 is what is left of the other input dims over the other entries.
            long rest = 1;
            boolean known = true;
            for (int i = 0; i < in.size(); i++) {
                boolean copied = i < shape.length && shape[i] == 0 && !allowZero;
                if (copied) continue;
                if (in.get(i) instanceof Dim.Known k) rest *= k.size();
                else known = false;
            }
            long others = 1;
            for (int i = 0; i < shape.length; i++) {
                if (i == inferred || (shape[i] == 0 && !allowZero)) continue;
                others *= shape[i];
            }
            if (known && others != 0 && rest % others == 0) out.set(inferred, Dim.of(rest / others));
        }
        return one(tensorType(dtype, out));
    }

    // ---- Flatten ----

    /** Flatten's split point in [0, rank] (negative counts from the end), or -1 when out of range. */
    static int flattenAxis(long axis, int rank) {
        long a = axis < 0 ? axis + rank : axis;
        return a < 0 || a > rank ? -1 : (int) a;
    }

    private static List<ValueType> inferFlatten(NodeContext ctx) {
        List<Dim> in = dims(ctx, 0);
        DType dtype = ctx.inputDType(0);
        if (in == null) return one(tensorType(dtype, TensorOps.unknownDims(2)));
        long axis = ctx.attrs().getInt("axis", 1);
        int a = flattenAxis(axis, in.size());
        if (a < 0) throw ctx.error("axis " + axis + " is out of range for rank " + in.size());
        List<Dim> outer = in.subList(0, a);
        List<Dim> inner = in.subList(a, in.size());
        return one(tensorType(dtype, List.of(outer.isEmpty() ? Dim.of(1) : TensorOps.product(outer),
                inner.isEmpty() ? Dim.of(1) : TensorOps.product(inner))));
    }

    // ---- Squeeze / Unsqueeze ----

    /** The shape without the listed axes (each must be 1), or without every 1 when axes is null. */
    static long[] squeezed(long[] shape, long[] axes) {
        boolean[] drop = new boolean[shape.length];
        if (axes == null) {
            for (int i = 0; i < shape.length; i++) drop[i] = shape[i] == 1;
        } else {
            for (long axis : axes) {
                int a = Shapes.axis(axis, shape.length);
                if (shape[a] != 1) {
                    throw OnnxrunException.invalidInput("Squeeze: axis " + axis + " of " + Shapes.toString(shape) + " is not 1");
                }
                drop[a] = true;
            }
        }
        long[] out = new long[shape.length];
        int n = 0;
        for (int i = 0; i < shape.length; i++) if (!drop[i]) out[n++] = shape[i];
        return Arrays.copyOf(out, n);
    }

    /** Which output positions Unsqueeze fills with 1; axes count in the output rank. */
    static boolean[] insertedAxes(int inputRank, long[] axes) {
        int rank = inputRank + axes.length;
        boolean[] inserted = new boolean[rank];
        for (long axis : axes) {
            int a = Shapes.axis(axis, rank);
            if (inserted[a]) throw OnnxrunException.invalidInput("Unsqueeze: axis " + axis + " is repeated");
            inserted[a] = true;
        }
        return inserted;
    }

    static long[] unsqueezed(long[] shape, long[] axes) {
        boolean[] inserted = insertedAxes(shape.length, axes);
        long[] out = new long[inserted.length];
        for (int i = 0, j = 0; i < out.length; i++) out[i] = inserted[i] ? 1 : shape[j++];
        return out;
    }

    private static List<ValueType> inferSqueeze(NodeContext ctx) {
        DType dtype = ctx.inputDType(0);
        List<Dim> in = dims(ctx, 0);
        ListArg axesArg = ListArg.of(ctx, "axes", 1, 13);
        long[] axes = axesArg.known(ctx);
        if (in == null || (axes == null && !axesArg.absent(ctx))) {
            int rank = in != null && axes == null && TensorOps.lengthOf(ctx, 1) >= 0 ? in.size() - TensorOps.lengthOf(ctx, 1) : -1;
            return one(tensorType(dtype, rank < 0 ? null : TensorOps.unknownDims(rank)));
        }
        List<Dim> out = new ArrayList<>();
        if (axes == null) {
            if (!in.stream().allMatch(Dim::isKnown)) return one(tensorType(dtype, null));
            for (Dim d : in) if (d.sizeOrMinus1() != 1) out.add(d);
        } else {
            boolean[] drop = new boolean[in.size()];
            for (long axis : axes) drop[TensorOps.axis(ctx, axis, in.size())] = true;
            for (int i = 0; i < in.size(); i++) if (!drop[i]) out.add(in.get(i));
        }
        return one(tensorType(dtype, out));
    }

    private static List<ValueType> inferUnsqueeze(NodeContext ctx) {
        DType dtype = ctx.inputDType(0);
        List<Dim> in = dims(ctx, 0);
        long[] axes = ListArg.of(ctx, "axes", 1, 13).known(ctx);
        if (in == null) return one(tensorType(dtype, null));
        if (axes == null) {
            int n = ctx.opset() >= 13 ? TensorOps.lengthOf(ctx, 1) : -1;
            return one(tensorType(dtype, n < 0 ? null : TensorOps.unknownDims(in.size() + n)));
        }
        boolean[] inserted;
        try {
            inserted = insertedAxes(in.size(), axes);
        } catch (OnnxrunException e) {
            throw ctx.error(e.getMessage());
        }
        List<Dim> out = new ArrayList<>();
        for (int i = 0, j = 0; i < inserted.length; i++) out.add(inserted[i] ? Dim.of(1) : in.get(j++));
        return one(tensorType(dtype, out));
    }

    // ---- Dropout ----

    private static List<ValueType> inferDropout(NodeContext ctx) {
        ValueType x = ctx.inputType(0);
        List<Dim> d = dims(ctx, 0);
        DType maskType = ctx.opset() >= 10 ? DType.BOOL : ctx.inputDType(0);
        return List.of(x, tensorType(maskType, d));
    }

    /**
     * Dropout at inference is the identity (mask all true). In training mode each run draws a
     * new mask (see {@link RandomSampling#perRun}: reproducible in sequence with the seed
     * attribute); ratio 0 keeps everything.
     */
    private static dev.onnxrun.runtime.Kernel lowerDropout(NodeContext ctx) {
        boolean boolMask = ctx.opset() >= 10;
        boolean wantMask = ctx.hasOutput(1);
        // Before opset 12 training was an attribute (is_test, removed in 7); onnxrun always runs inference there.
        int ratioInput = ctx.opset() >= 12 ? 1 : -1;
        int trainingInput = ctx.opset() >= 12 ? 2 : -1;
        Supplier<SplittableRandom> draws = RandomSampling.perRun(ctx.attrs().has("seed") ? ctx.attrs().getInt("seed") : null);
        return (in, ec) -> {
            Tensor x = tensor(in, 0);
            DType maskType = boolMask ? DType.BOOL : x.dtype();
            boolean training = trainingInput >= 0 && trainingInput < in.length && in[trainingInput] != null
                    && tensor(in, trainingInput).getBoolean(0);
            if (training) {
                double ratio = ratioInput < in.length && in[ratioInput] != null ? tensor(in, ratioInput).getDouble(0) : 0.5;
                Tensor[] yMask = RandomSampling.dropout(x, ratio, maskType, draws.get());
                return wantMask ? new Value[] {yMask[0], yMask[1]} : new Value[] {yMask[0]};
            }
            Tensor y = x.reshape(x.shape());
            if (!wantMask) return new Value[] {y};
            Tensor mask = Tensor.allocate(maskType, x.shape());
            for (long i = 0, n = mask.size(); i < n; i++) mask.setLong(i, 1);
            return new Value[] {y, mask};
        };
    }

    // ---- Shape ----

    /** [start, end) of the dims Shape returns: negative values count from the end, both clamp to [0, rank]. */
    static long[] shapeRange(int rank, long start, Long end) {
        long s = start < 0 ? start + rank : start;
        long e = end == null ? rank : (end < 0 ? end + rank : end);
        return new long[] {Math.clamp(s, 0, rank), Math.clamp(e, 0, rank)};
    }

    private static List<ValueType> inferShape(NodeContext ctx) {
        List<Dim> in = dims(ctx, 0);
        if (in == null) return one(new TensorType(DType.INT64, TensorOps.unknownDims(1)));
        long start = ctx.attrs().getInt("start", 0);
        Long end = ctx.attrs().has("end") ? ctx.attrs().getInt("end") : null;
        long[] r = shapeRange(in.size(), start, end);
        return one(TensorType.of(DType.INT64, Math.max(0, r[1] - r[0])));
    }
}
