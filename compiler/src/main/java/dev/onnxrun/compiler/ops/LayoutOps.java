package dev.onnxrun.compiler.ops;

import java.util.Map;
import dev.onnxrun.compiler.ir.Attribute;
import dev.onnxrun.compiler.autodiff.GradientBuilder;
import static dev.onnxrun.compiler.autodiff.GradientBuilder.grads;

import static dev.onnxrun.compiler.ops.TensorOps.dims;
import static dev.onnxrun.compiler.ops.TensorOps.one;
import static dev.onnxrun.compiler.ops.TensorOps.tensor;
import static dev.onnxrun.compiler.ops.TensorOps.tensorType;

import dev.onnxrun.compiler.ir.Dim;
import dev.onnxrun.compiler.ir.ValueType;
import dev.onnxrun.compiler.ops.TensorOps.ListArg;
import dev.onnxrun.runtime.DType;
import dev.onnxrun.runtime.OnnxrunException;
import dev.onnxrun.runtime.Parallel;
import dev.onnxrun.runtime.Shapes;
import dev.onnxrun.runtime.Tensor;
import dev.onnxrun.runtime.Value;
import dev.onnxrun.runtime.kernels.Col2Im;
import dev.onnxrun.runtime.kernels.Generators;
import dev.onnxrun.runtime.kernels.Indexing;
import dev.onnxrun.runtime.kernels.Joining;
import dev.onnxrun.runtime.kernels.Padding;
import dev.onnxrun.runtime.kernels.StridedCopy;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Ops that rearrange elements by position: Transpose, Concat, Split, Slice, Expand, Tile, Pad,
 * CenterCropPad, DepthToSpace, SpaceToDepth, ReverseSequence, Col2Im, Trilu.
 */
final class LayoutOps {
    private LayoutOps() {}

    static List<OpDef> defs() {
        return List.of(
                OpDef.onnx("Transpose").inputs(1, 1).outputs(1, 1).infer(LayoutOps::inferTranspose).cpu(ctx -> {
                    long[] perm = ctx.attrs().getInts("perm");
                    return (in, ec) -> {
                        Tensor x = tensor(in, 0);
                        return new Value[] {StridedCopy.transpose(x, permutation(perm, x.rank()), ec)};
                    };
                }).build(),
                OpDef.onnx("Concat").inputs(1, Integer.MAX_VALUE).outputs(1, 1).infer(LayoutOps::inferConcat).cpu(ctx -> {
                    long axis = concatAxis(ctx);
                    return (in, ec) -> {
                        List<Tensor> parts = new ArrayList<>();
                        for (int i = 0; i < in.length; i++) if (in[i] != null) parts.add(tensor(in, i));
                        return new Value[] {Joining.concat(parts.toArray(Tensor[]::new), axis, ec)};
                    };
                }).build(),
                OpDef.onnx("Split").inputs(1, 2).outputs(1, Integer.MAX_VALUE).infer(LayoutOps::inferSplit).cpu(ctx -> {
                    long axis = ctx.attrs().getInt("axis", 0);
                    ListArg splitArg = splitArg(ctx);
                    int parts = splitParts(ctx);
                    boolean uneven = ctx.opset() >= 18;
                    return (in, ec) -> {
                        Tensor x = tensor(in, 0);
                        long[] sizes = splitArg.get(in);
                        if (sizes == null) sizes = Joining.evenSizes(x.dim(Shapes.axis(axis, x.rank())), parts, uneven);
                        if (sizes.length != parts) {
                            throw OnnxrunException.invalidInput("Split: " + sizes.length + " sizes for " + parts + " outputs");
                        }
                        return Joining.split(x, axis, sizes);
                    };
                }).build(),
                OpDef.onnx("Slice").inputs(1, 5).outputs(1, 1).infer(LayoutOps::inferSlice).cpu(ctx -> {
                    SliceArgs args = SliceArgs.of(ctx);
                    return (in, ec) -> {
                        Tensor x = tensor(in, 0);
                        long[] starts = args.starts().get(in);
                        long[] ends = args.ends().get(in);
                        if (starts == null || ends == null) throw OnnxrunException.invalidModel("Slice: starts and ends are required");
                        return new Value[] {StridedCopy.slice(x, starts, ends, args.axes().get(in), args.steps().get(in), ec.parallel())};
                    };
                }).build(),
                OpDef.onnx("Expand").since(8).inputs(2, 2).outputs(1, 1).infer(LayoutOps::inferExpand)
                        .cpu(ctx -> (in, ec) -> new Value[] {StridedCopy.expand(tensor(in, 0), tensor(in, 1).toLongArray(), ec.parallel())})
                        .build(),
                OpDef.onnx("Tile").inputs(2, 3).outputs(1, 1).infer(LayoutOps::inferTile).cpu(ctx -> {
                    boolean tileOne = ctx.opset() < 6;
                    // Tile-1 takes the repeat count and axis as inputs 1 and 2; from opset 6 input 1 holds all repeats.
                    int inputs = tileOne ? 3 : 2;
                    if (ctx.inputCount() != inputs) throw ctx.error("takes " + inputs + " inputs in opset " + ctx.opset() + ", has " + ctx.inputCount());
                    return (in, ec) -> {
                        Tensor x = tensor(in, 0);
                        return new Value[] {StridedCopy.tile(x, tileOne ? tileOneRepeats(x.rank(), in) : tensor(in, 1).toLongArray(), ec.parallel())};
                    };
                }).build(),
                OpDef.onnx("Pad").inputs(1, 4).outputs(1, 1).infer(LayoutOps::inferPad).cpu(LayoutOps::lowerPad).build(),
                OpDef.onnx("CenterCropPad").since(18).inputs(2, 2).outputs(1, 1).infer(LayoutOps::inferCenterCropPad).cpu(ctx -> {
                    long[] axes = ctx.attrs().getInts("axes");
                    return (in, ec) -> {
                        Tensor x = tensor(in, 0);
                        return new Value[] {Padding.centerCropPad(x, cropTarget(x.shape(), tensor(in, 1).toLongArray(), axes))};
                    };
                }).build(),
                OpDef.onnx("DepthToSpace").inputs(1, 1).outputs(1, 1).infer(ctx -> spaceDepthType(ctx, true)).cpu(ctx -> {
                    long block = blockSize(ctx);
                    boolean crd = ctx.opset() >= 11 && ctx.attrs().getString("mode", "DCR").equals("CRD");
                    return (in, ec) -> new Value[] {depthToSpace(tensor(in, 0), block, crd, ec.parallel())};
                }).build(),
                OpDef.onnx("SpaceToDepth").inputs(1, 1).outputs(1, 1).infer(ctx -> spaceDepthType(ctx, false)).cpu(ctx -> {
                    long block = blockSize(ctx);
                    return (in, ec) -> new Value[] {spaceToDepth(tensor(in, 0), block, ec.parallel())};
                }).build(),
                OpDef.onnx("ReverseSequence").since(10).inputs(2, 2).outputs(1, 1).infer(TypeRules.SAME_AS_INPUT).cpu(ctx -> {
                    long timeAxis = ctx.attrs().getInt("time_axis", 0);
                    long batchAxis = ctx.attrs().getInt("batch_axis", 1);
                    return (in, ec) -> new Value[] {Indexing.reverseSequence(tensor(in, 0), tensor(in, 1), timeAxis, batchAxis)};
                }).build(),
                OpDef.onnx("Col2Im").since(18).types(DTypes.FLOATS).inputs(3, 3).outputs(1, 1).infer(LayoutOps::inferCol2Im).cpu(ctx -> {
                    long[] dilations = ctx.attrs().getInts("dilations");
                    long[] pads = ctx.attrs().getInts("pads");
                    long[] strides = ctx.attrs().getInts("strides");
                    return (in, ec) -> {
                        long[] image = tensor(in, 1).toLongArray();
                        long[] block = tensor(in, 2).toLongArray();
                        int d = image.length;
                        return new Value[] {Col2Im.run(tensor(in, 0), image, block, orFilled(dilations, d, 1),
                                orFilled(pads, 2 * d, 0), orFilled(strides, d, 1))};
                    };
                }).build(),
                OpDef.onnx("Trilu").since(14).inputs(1, 2).outputs(1, 1).infer(TypeRules.SAME_AS_INPUT).cpu(ctx -> {
                    boolean upper = ctx.attrs().getInt("upper", 1) != 0;
                    return (in, ec) -> {
                        long k = in.length > 1 && in[1] != null ? tensor(in, 1).getLong(0) : 0;
                        return new Value[] {Generators.trilu(tensor(in, 0), k, upper)};
                    };
                }).build());
    }

    /** Gradient rules: each layout op's gradient is the inverse rearrangement of dy. */
    static Map<String, OpDef.GradientRule> gradients() {
        return Map.of(
                "Transpose", g -> {
                    long[] perm = g.attrs().getInts("perm");
                    if (perm == null) return grads(g.op("Transpose", g.dy(0))); // reversing twice is the identity
                    long[] inverse = new long[perm.length];
                    for (int i = 0; i < perm.length; i++) inverse[(int) GradientBuilder.axis(perm[i], perm.length)] = i;
                    return grads(g.transpose(g.dy(0), inverse));
                },
                "Concat", LayoutOps::concatGradient,
                // the output gradients joined back; an output nobody used contributes zeros
                "Split", g -> {
                    List<String> parts = new ArrayList<>();
                    for (int i = 0; i < g.node().outputs().size(); i++) parts.add(g.dy(i) != null ? g.dy(i) : g.zerosLike(g.y(i)));
                    return grads(g.op("Concat", parts, Attribute.of("axis", g.attrs().getInt("axis", 0))));
                },
                // the sliced positions, found by slicing a tensor of flat positions, get dy; the rest 0
                "Slice", g -> {
                    List<String> ins = new ArrayList<>(g.node().inputs());
                    ins.set(0, g.flatPositions(g.x(0)));
                    String positions = g.ops("", "Slice", ins, 1, g.node().attributes().values().toArray(Attribute[]::new)).getFirst();
                    return grads(g.scatterToPositions(positions, g.dy(0), g.x(0), false));
                },
                "Expand", g -> grads(g.sumToShape(g.dy(0), g.x(0))));
    }

    /** dy split along the axis into the inputs' extents there. */
    private static List<String> concatGradient(GradientBuilder g) {
        int rank = g.rank(g.x(0));
        long axis = GradientBuilder.axis(g.attrs().getInt("axis"), rank);
        int n = g.inputCount();
        List<String> sizes = new ArrayList<>();
        long[] known = new long[n];
        boolean allKnown = true;
        for (int i = 0; i < n; i++) {
            var t = g.type(g.x(i));
            known[i] = t == null || !t.hasRank() ? -1 : t.dims().get((int) axis).sizeOrMinus1();
            allKnown &= known[i] >= 0;
            sizes.add(known[i] >= 0 ? g.ints(known[i]) : g.op("Slice", g.shape(g.x(i)), g.ints(axis), g.ints(axis + 1)));
        }
        Attribute axisAttr = Attribute.of("axis", axis);
        if (g.onnxOpset() >= 13) {
            String split = allKnown ? g.ints(known) : g.op("Concat", sizes, Attribute.of("axis", 0L));
            return g.ops("", "Split", List.of(g.dy(0), split), n, axisAttr);
        }
        if (!allKnown) throw g.fail("before opset 13 the inputs' extents along the axis must be known statically");
        return g.ops("", "Split", List.of(g.dy(0)), n, axisAttr, Attribute.ints("split", GradientBuilder.boxed(known)));
    }

    // ---- Transpose ----

    /** The permutation to apply: the attribute, checked, or the reversed axes by default. */
    static int[] permutation(long[] perm, int rank) {
        int[] p = new int[rank];
        if (perm == null) {
            for (int i = 0; i < rank; i++) p[i] = rank - 1 - i;
            return p;
        }
        if (perm.length != rank) {
            throw OnnxrunException.invalidInput("Transpose: perm " + Shapes.toString(perm) + " does not fit rank " + rank);
        }
        boolean[] seen = new boolean[rank];
        for (int i = 0; i < rank; i++) {
            int a = Shapes.axis(perm[i], rank);
            if (seen[a]) throw OnnxrunException.invalidInput("Transpose: perm " + Shapes.toString(perm) + " repeats axis " + a);
            seen[a] = true;
            p[i] = a;
        }
        return p;
    }

    private static List<ValueType> inferTranspose(NodeContext ctx) {
        List<Dim> in = dims(ctx, 0);
        DType dtype = ctx.inputDType(0);
        if (in == null) return one(tensorType(dtype, null));
        int[] p;
        try {
            p = permutation(ctx.attrs().getInts("perm"), in.size());
        } catch (OnnxrunException e) {
            throw ctx.error(e.getMessage());
        }
        List<Dim> out = new ArrayList<>();
        for (int a : p) out.add(in.get(a));
        return one(tensorType(dtype, out));
    }

    // ---- Concat ----

    private static long concatAxis(NodeContext ctx) {
        if (ctx.opset() < 4) return ctx.attrs().getInt("axis", 1);
        if (!ctx.attrs().has("axis")) throw ctx.error("missing required attribute 'axis'");
        return ctx.attrs().getInt("axis");
    }

    private static List<ValueType> inferConcat(NodeContext ctx) {
        DType dtype = null;
        List<List<Dim>> shapes = new ArrayList<>();
        boolean ranksKnown = true;
        for (int i = 0; i < ctx.inputCount(); i++) {
            if (!ctx.hasInput(i)) continue;
            if (dtype == null) dtype = ctx.inputDType(i);
            List<Dim> d = dims(ctx, i);
            if (d == null) ranksKnown = false;
            else shapes.add(d);
        }
        if (shapes.isEmpty()) return one(tensorType(dtype, null));
        int rank = shapes.get(0).size();
        if (shapes.stream().anyMatch(s -> s.size() != rank)) throw ctx.error("inputs differ in rank: " + shapes);
        int a = TensorOps.axis(ctx, concatAxis(ctx), rank);
        List<Dim> out = new ArrayList<>();
        for (int d = 0; d < rank; d++) {
            if (d == a) {
                long total = 0;
                for (List<Dim> s : shapes) total = total >= 0 && s.get(d) instanceof Dim.Known k ? total + k.size() : -1;
                out.add(total >= 0 && ranksKnown ? Dim.of(total) : Dim.UNKNOWN);
            } else {
                Dim best = Dim.UNKNOWN;
                for (List<Dim> s : shapes) {
                    Dim x = s.get(d);
                    if (x.isKnown()) { best = x; break; }
                    if (best instanceof Dim.Unknown) best = x;
                }
                out.add(best);
            }
        }
        return one(tensorType(dtype, out));
    }

    // ---- Split ----

    /** Split sizes: input 1 from opset 13 (and optionally in opset 1), the attribute otherwise. */
    private static ListArg splitArg(NodeContext ctx) {
        if (ctx.opset() >= 13 || (ctx.opset() < 2 && ctx.hasInput(1))) return new ListArg(null, 1);
        return new ListArg(ctx.attrs().getInts("split"), -1);
    }

    private static int splitParts(NodeContext ctx) {
        if (ctx.opset() >= 18 && ctx.attrs().has("num_outputs")) {
            long n = ctx.attrs().getInt("num_outputs");
            if (n != ctx.outputCount()) throw ctx.error("num_outputs " + n + " differs from the " + ctx.outputCount() + " outputs");
        }
        return ctx.outputCount();
    }

    private static List<ValueType> inferSplit(NodeContext ctx) {
        DType dtype = ctx.inputDType(0);
        List<Dim> in = dims(ctx, 0);
        int parts = splitParts(ctx);
        List<ValueType> out = new ArrayList<>();
        if (in == null) {
            for (int i = 0; i < parts; i++) out.add(tensorType(dtype, null));
            return out;
        }
        int a = TensorOps.axis(ctx, ctx.attrs().getInt("axis", 0), in.size());
        ListArg arg = splitArg(ctx);
        long[] sizes = arg.known(ctx);
        if (sizes == null && arg.absent(ctx) && in.get(a) instanceof Dim.Known k) {
            try {
                sizes = Joining.evenSizes(k.size(), parts, ctx.opset() >= 18);
            } catch (OnnxrunException e) {
                throw ctx.error(e.getMessage());
            }
        }
        for (int i = 0; i < parts; i++) {
            Dim d = sizes != null && i < sizes.length ? Dim.of(sizes[i]) : Dim.UNKNOWN;
            out.add(tensorType(dtype, TensorOps.withDim(in, a, d)));
        }
        return out;
    }

    // ---- Slice ----

    /** Slice's four lists: attributes before opset 10, inputs 1-4 from then on. */
    private record SliceArgs(ListArg starts, ListArg ends, ListArg axes, ListArg steps) {
        static SliceArgs of(NodeContext ctx) {
            return new SliceArgs(ListArg.of(ctx, "starts", 1, 10), ListArg.of(ctx, "ends", 2, 10),
                    ListArg.of(ctx, "axes", 3, 10), ctx.opset() >= 10 ? new ListArg(null, 4) : new ListArg(null, -1));
        }
    }

    private static List<ValueType> inferSlice(NodeContext ctx) {
        DType dtype = ctx.inputDType(0);
        List<Dim> in = dims(ctx, 0);
        if (in == null) return one(tensorType(dtype, null));
        SliceArgs args = SliceArgs.of(ctx);
        long[] starts = args.starts().known(ctx);
        long[] ends = args.ends().known(ctx);
        long[] axes = args.axes().known(ctx);
        long[] steps = args.steps().known(ctx);
        boolean axesKnown = axes != null || args.axes().absent(ctx);
        boolean stepsKnown = steps != null || args.steps().absent(ctx);
        if (starts == null || ends == null || !axesKnown || !stepsKnown) {
            // Without axes every dim may change; with constant axes only those do.
            List<Dim> out = new ArrayList<>(in);
            if (axes == null) return one(tensorType(dtype, TensorOps.unknownDims(in.size())));
            for (long axis : axes) out.set(TensorOps.axis(ctx, axis, in.size()), Dim.UNKNOWN);
            return one(tensorType(dtype, out));
        }
        if (ends.length != starts.length || (axes != null && axes.length != starts.length)
                || (steps != null && steps.length != starts.length)) {
            throw ctx.error("starts, ends, axes and steps differ in length");
        }
        List<Dim> out = new ArrayList<>(in);
        for (int i = 0; i < starts.length; i++) {
            int a = TensorOps.axis(ctx, axes == null ? i : axes[i], in.size());
            long step = steps == null ? 1 : steps[i];
            if (step == 0) throw ctx.error("Slice step is 0");
            Dim d = in.get(a);
            out.set(a, d instanceof Dim.Known k ? Dim.of(StridedCopy.sliceRange(k.size(), starts[i], ends[i], step)[1]) : Dim.UNKNOWN);
        }
        return one(tensorType(dtype, out));
    }

    // ---- Expand / Tile ----

    private static List<ValueType> inferExpand(NodeContext ctx) {
        DType dtype = ctx.inputDType(0);
        List<Dim> in = dims(ctx, 0);
        Tensor shapeConst = ctx.constantInput(1);
        if (shapeConst == null || in == null) {
            int n = TensorOps.lengthOf(ctx, 1);
            return one(tensorType(dtype, n < 0 || in == null ? null : TensorOps.unknownDims(Math.max(n, in.size()))));
        }
        long[] shape = shapeConst.toLongArray();
        int rank = Math.max(shape.length, in.size());
        List<Dim> out = new ArrayList<>();
        for (int i = 0; i < rank; i++) {
            int si = i - (rank - shape.length);
            int xi = i - (rank - in.size());
            Dim x = xi >= 0 ? in.get(xi) : Dim.of(1);
            if (si < 0 || shape[si] == 1) out.add(x);
            else if (x instanceof Dim.Known k && k.size() != 1 && k.size() != shape[si]) {
                throw ctx.error("cannot expand " + in + " to " + Shapes.toString(shape));
            } else out.add(Dim.of(shape[si]));
        }
        return one(tensorType(dtype, out));
    }

    /** Tile-1 takes a repeat count and an axis as scalar inputs. */
    private static long[] tileOneRepeats(int rank, Value[] in) {
        long[] repeats = new long[rank];
        Arrays.fill(repeats, 1);
        Tensor tiles = tensor(in, 1), axis = tensor(in, 2);
        if (tiles.size() != 1 || axis.size() != 1) {
            throw OnnxrunException.invalidInput("Tile-1: tiles and axis must hold one value each, got " + tiles.describe() + " and " + axis.describe());
        }
        repeats[Shapes.axis(axis.getLong(0), rank)] = tiles.getLong(0);
        return repeats;
    }

    private static List<ValueType> inferTile(NodeContext ctx) {
        DType dtype = ctx.inputDType(0);
        List<Dim> in = dims(ctx, 0);
        if (in == null) return one(tensorType(dtype, null));
        Tensor repeats = ctx.opset() >= 6 ? ctx.constantInput(1) : null;
        if (repeats == null || repeats.size() != in.size()) return one(tensorType(dtype, TensorOps.unknownDims(in.size())));
        List<Dim> out = new ArrayList<>();
        for (int i = 0; i < in.size(); i++) out.add(TensorOps.times(in.get(i), repeats.getLong(i)));
        return one(tensorType(dtype, out));
    }

    // ---- Pad ----

    private static ListArg padsArg(NodeContext ctx) {
        if (ctx.opset() >= 11) return new ListArg(null, 1);
        return new ListArg(ctx.attrs().getInts(ctx.opset() < 2 ? "paddings" : "pads"), -1);
    }

    /** Full begin/end pads for every axis from pads listed for {@code axes} only (opset 18). */
    static long[] fullPads(long[] pads, long[] axes, int rank) {
        if (axes == null) return pads;
        if (pads.length != 2 * axes.length) {
            throw OnnxrunException.invalidInput("Pad: " + pads.length + " pads for " + axes.length + " axes");
        }
        long[] full = new long[2 * rank];
        for (int i = 0; i < axes.length; i++) {
            int a = Shapes.axis(axes[i], rank);
            full[a] = pads[i];
            full[a + rank] = pads[i + axes.length];
        }
        return full;
    }

    private static dev.onnxrun.runtime.Kernel lowerPad(NodeContext ctx) {
        Padding.Mode mode = Padding.Mode.parse(ctx.attrs().getString("mode", "constant"));
        ListArg padsArg = padsArg(ctx);
        boolean valueIsInput = ctx.opset() >= 11;
        float valueAttr = ctx.attrs().getFloat("value", 0f);
        ListArg axesArg = ctx.opset() >= 18 ? new ListArg(null, 3) : new ListArg(null, -1);
        return (in, ec) -> {
            Tensor x = tensor(in, 0);
            long[] pads = padsArg.get(in);
            if (pads == null) throw OnnxrunException.invalidModel("Pad: pads are required");
            Tensor value;
            if (valueIsInput) {
                value = in.length > 2 && in[2] != null ? tensor(in, 2) : null;
                if (value != null && value.size() == 0) value = null;
            } else {
                value = Tensor.allocate(x.dtype(), 1);
                value.setDouble(0, valueAttr);
            }
            if (value != null && value.dtype() != x.dtype()) {
                throw OnnxrunException.invalidInput("Pad: constant_value " + value.describe() + " differs in type from " + x.describe());
            }
            return new Value[] {Padding.pad(x, fullPads(pads, axesArg.get(in), x.rank()), mode, value)};
        };
    }

    private static List<ValueType> inferPad(NodeContext ctx) {
        DType dtype = ctx.inputDType(0);
        List<Dim> in = dims(ctx, 0);
        if (in == null) return one(tensorType(dtype, null));
        long[] pads = padsArg(ctx).known(ctx);
        ListArg axesArg = ctx.opset() >= 18 ? new ListArg(null, 3) : new ListArg(null, -1);
        long[] axes = axesArg.known(ctx);
        if (pads == null || (axes == null && !axesArg.absent(ctx))) return one(tensorType(dtype, TensorOps.unknownDims(in.size())));
        long[] full;
        try {
            full = fullPads(pads, axes, in.size());
        } catch (OnnxrunException e) {
            throw ctx.error(e.getMessage());
        }
        if (full.length != 2 * in.size()) throw ctx.error(full.length + " pads for input of rank " + in.size());
        List<Dim> out = new ArrayList<>();
        for (int d = 0; d < in.size(); d++) {
            long add = full[d] + full[d + in.size()];
            Dim x = in.get(d);
            out.add(add == 0 ? x : x instanceof Dim.Known k ? Dim.of(k.size() + add) : Dim.UNKNOWN);
        }
        return one(tensorType(dtype, out));
    }

    // ---- CenterCropPad ----

    static long[] cropTarget(long[] input, long[] shape, long[] axes) {
        long[] target = input.clone();
        int n = axes == null ? input.length : axes.length;
        if (shape.length != n) {
            throw OnnxrunException.invalidInput("CenterCropPad: shape " + Shapes.toString(shape) + " needs " + n + " entries");
        }
        for (int i = 0; i < n; i++) target[axes == null ? i : Shapes.axis(axes[i], input.length)] = shape[i];
        return target;
    }

    private static List<ValueType> inferCenterCropPad(NodeContext ctx) {
        DType dtype = ctx.inputDType(0);
        List<Dim> in = dims(ctx, 0);
        if (in == null) return one(tensorType(dtype, null));
        Tensor shape = ctx.constantInput(1);
        long[] axes = ctx.attrs().getInts("axes");
        List<Dim> out = new ArrayList<>(in);
        for (int i = 0; i < (axes == null ? in.size() : axes.length); i++) {
            int a = axes == null ? i : TensorOps.axis(ctx, axes[i], in.size());
            out.set(a, shape != null && i < shape.size() ? Dim.of(shape.getLong(i)) : Dim.UNKNOWN);
        }
        return one(tensorType(dtype, out));
    }

    // ---- Col2Im ----

    private static long[] orFilled(long[] values, int length, long fill) {
        if (values != null) return values;
        long[] out = new long[length];
        Arrays.fill(out, fill);
        return out;
    }

    private static List<ValueType> inferCol2Im(NodeContext ctx) {
        DType dtype = ctx.inputDType(0);
        List<Dim> in = dims(ctx, 0);
        Tensor image = ctx.constantInput(1);
        Tensor block = ctx.constantInput(2);
        int d = image != null ? (int) image.size() : TensorOps.lengthOf(ctx, 1);
        if (d < 0) return one(tensorType(dtype, null));
        List<Dim> out = new ArrayList<>(TensorOps.unknownDims(d + 2));
        if (in != null && in.size() == 3) {
            out.set(0, in.get(0));
            if (block != null && in.get(1) instanceof Dim.Known c) {
                long blockSize = Shapes.size(block.toLongArray());
                if (blockSize > 0) out.set(1, Dim.of(c.size() / blockSize));
            }
        }
        if (image != null) for (int i = 0; i < d; i++) out.set(i + 2, Dim.of(image.getLong(i)));
        return one(tensorType(dtype, out));
    }

    // ---- DepthToSpace / SpaceToDepth ----

    private static long blockSize(NodeContext ctx) {
        long b = ctx.attrs().getInt("blocksize", 0);
        // b * b must not overflow: a block wider than any axis can be is no block.
        if (b <= 0 || b > Integer.MAX_VALUE) throw ctx.error("blocksize must be in [1, 2^31), got " + b);
        return b;
    }

    private static void require4d(String op, Tensor x) {
        if (x.rank() != 4) throw OnnxrunException.invalidInput(op + ": input must be 4-D [N,C,H,W], got " + x.describe());
    }

    /** Moves channel blocks into b×b spatial blocks: DCR reads depth-major, CRD channel-major. */
    static Tensor depthToSpace(Tensor x, long b, boolean crd, Parallel parallel) {
        require4d("DepthToSpace", x);
        long n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3);
        if (c % (b * b) != 0) throw OnnxrunException.invalidInput("DepthToSpace: channels " + c + " not divisible by " + b * b);
        long oc = c / (b * b);
        Tensor moved = crd
                ? StridedCopy.transpose(x.reshape(n, oc, b, b, h, w), new int[] {0, 1, 4, 2, 5, 3}, parallel)
                : StridedCopy.transpose(x.reshape(n, b, b, oc, h, w), new int[] {0, 3, 4, 1, 5, 2}, parallel);
        return moved.reshape(n, oc, h * b, w * b);
    }

    /** Moves b×b spatial blocks into channels (the inverse of DCR DepthToSpace). */
    static Tensor spaceToDepth(Tensor x, long b, Parallel parallel) {
        require4d("SpaceToDepth", x);
        long n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3);
        if (h % b != 0 || w % b != 0) {
            throw OnnxrunException.invalidInput("SpaceToDepth: spatial dims " + h + "x" + w + " not divisible by " + b);
        }
        Tensor moved = StridedCopy.transpose(x.reshape(n, c, h / b, b, w / b, b), new int[] {0, 3, 5, 1, 2, 4}, parallel);
        return moved.reshape(n, c * b * b, h / b, w / b);
    }

    private static List<ValueType> spaceDepthType(NodeContext ctx, boolean toSpace) {
        DType dtype = ctx.inputDType(0);
        List<Dim> in = dims(ctx, 0);
        if (in == null || in.size() != 4) return one(tensorType(dtype, in == null ? null : TensorOps.unknownDims(4)));
        long b = blockSize(ctx);
        List<Dim> out = new ArrayList<>(in);
        if (toSpace) {
            out.set(1, divide(in.get(1), b * b));
            out.set(2, TensorOps.times(in.get(2), b));
            out.set(3, TensorOps.times(in.get(3), b));
        } else {
            out.set(1, TensorOps.times(in.get(1), b * b));
            out.set(2, divide(in.get(2), b));
            out.set(3, divide(in.get(3), b));
        }
        return one(tensorType(dtype, out));
    }

    private static Dim divide(Dim d, long by) {
        return d instanceof Dim.Known k && k.size() % by == 0 ? Dim.of(k.size() / by) : Dim.UNKNOWN;
    }
}
