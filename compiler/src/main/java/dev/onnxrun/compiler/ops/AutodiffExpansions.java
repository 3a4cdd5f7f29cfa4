package dev.onnxrun.compiler.ops;

import dev.onnxrun.compiler.autodiff.GradientBuilder;
import dev.onnxrun.compiler.ir.Attribute;
import dev.onnxrun.compiler.ir.Dim;
import dev.onnxrun.compiler.ir.ValueType.TensorType;
import dev.onnxrun.runtime.DType;
import dev.onnxrun.runtime.OnnxrunException;
import dev.onnxrun.runtime.Tensor;
import dev.onnxrun.runtime.kernels.Conv;
import dev.onnxrun.runtime.kernels.Pooling;
import dev.onnxrun.runtime.kernels.Windows;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The standard ONNX form of each of {@link AutodiffOps}' own ops, for graphs written out for
 * other runtimes ({@code dev.onnxrun.compiler.autodiff.ExpandAutodiffOps} applies them). Each
 * reads the own-domain node through a {@link GradientBuilder} (inputs by position, attributes,
 * static types) and emits standard ops at the model's opset, returning the value of each
 * output. Onnxrun itself runs the own ops: their kernels are faster than these forms.
 */
public final class AutodiffExpansions {
    private AutodiffExpansions() {}

    /** Emits the standard ops computing one own-domain node; returns its outputs' values. */
    @FunctionalInterface
    public interface Expansion {
        List<String> expand(GradientBuilder g);
    }

    /** Every own op of {@link AutodiffOps} by name. */
    public static Map<String, Expansion> byOp() {
        return Map.of("SumToShape", AutodiffExpansions::sumToShape, "ConvWeightGrad", AutodiffExpansions::convWeightGrad,
                "AveragePoolGrad", AutodiffExpansions::averagePoolGrad, "MaxPoolGrad", AutodiffExpansions::maxPoolGrad,
                "ReluGrad", AutodiffExpansions::reluGrad, "BatchNormalizationGrad", AutodiffExpansions::batchNormalizationGrad);
    }

    /**
     * SumToShape(grad, shape) ⇒ ReduceSum over the axes broadcasting added or stretched, then a
     * Reshape to {@code shape}. With the target shape a compile-time constant the axes are
     * constants too: grad's leading extra axes and each axis where the target has size 1
     * (summing an axis that is 1 on both sides changes nothing). Otherwise (opset 13+, where
     * ReduceSum takes its axes as an input) the same axes are found at run time: the target is
     * padded with leading 1s to grad's rank and the axes are where it is 1.
     */
    private static List<String> sumToShape(GradientBuilder g) {
        String grad = g.x(0), shape = g.x(1);
        Tensor target = g.constant(shape);
        TensorType type = g.type(grad);
        if (target != null && type != null && type.hasRank()) {
            long[] t = target.toLongArray();
            int rank = type.rank(), lead = rank - t.length;
            if (lead < 0) throw error(g, "target shape " + Arrays.toString(t) + " has more dims than grad " + type);
            List<Long> axes = new ArrayList<>();
            for (int d = 0; d < rank; d++) {
                boolean alreadyOne = type.dims().get(d) instanceof Dim.Known k && k.size() == 1;
                if (d < lead || (t[d - lead] == 1 && !alreadyOne)) axes.add((long) d);
            }
            if (axes.isEmpty() && lead == 0) return List.of(grad);
            String summed = axes.isEmpty() ? grad : g.reduceSum(grad, axes.stream().mapToLong(Long::longValue).toArray(), true);
            return List.of(g.reshape(summed, shape));
        }
        if (g.onnxOpset() < 13) {
            throw error(g, "needs a constant target shape and grad's rank below opset 13 (ReduceSum's axes as an input)");
        }
        String rankGap = g.sub(g.op("Size", g.shape(grad)), g.op("Size", shape));
        String ones = g.op("ConstantOfShape", List.of(g.unsqueeze(rankGap, 0)), Attribute.of("value", Tensor.of(new long[] {1}, 1)));
        String padded = g.op("Concat", List.of(ones, shape), Attribute.of("axis", 0L));
        String axes = g.reshape(g.op("NonZero", g.op("Equal", padded, g.scalar(1, shape))), g.ints(-1));
        String summed = g.op("ReduceSum", List.of(grad, axes), Attribute.of("keepdims", 1L), Attribute.of("noop_with_empty_axes", 1L));
        return List.of(g.reshape(summed, shape));
    }

    /**
     * ConvWeightGrad(X, dY, W) ⇒ one Conv with the roles of batch and channels swapped:
     * {@code dW[m, c, k] = Σ_{n, o} dY[n, m, o] · X[n, g·C/G + c, o·s − pad + k·d]} is a
     * convolution of X laid out [C/G, G·N, spatial…] (images become input channels, grouped as
     * W's groups are) with dY laid out [M, N, out…] as weights, its strides being the forward
     * dilations and its dilations the forward strides. Its output [C/G, M, k'…] is cut to the
     * kernel where the forward strides skipped input at the end (k' > k), then transposed to
     * W's layout. Needs X's and W's static shapes.
     */
    private static List<String> convWeightGrad(GradientBuilder g) {
        String x = g.x(0), dy = g.x(1), w = g.x(2);
        long[] xShape = g.staticShape(x), wShape = g.staticShape(w);
        if (xShape == null || wShape == null) throw error(g, "needs the static shapes of X and W");
        Conv.Params p = ConvolutionDefs.params(NnGradients.forwardContext(g));
        Windows.Geometry geo = Conv.convGeometry(xShape, wShape, p);
        int rank = geo.rank();
        long groups = p.group(), images = xShape[0], perGroup = wShape[1];
        long[] swap = swapFirstTwo(rank + 2);
        String xt;
        if (groups == 1) {
            xt = g.transpose(x, swap);
        } else {
            long[] split = new long[rank + 3], perm = new long[rank + 3], merged = new long[rank + 2];
            split[0] = images;
            split[1] = groups;
            split[2] = perGroup;
            perm[0] = 2;
            perm[1] = 1;
            perm[2] = 0;
            merged[0] = perGroup;
            merged[1] = groups * images;
            for (int d = 0; d < rank; d++) {
                split[3 + d] = xShape[2 + d];
                perm[3 + d] = 3 + d;
                merged[2 + d] = xShape[2 + d];
            }
            xt = g.reshape(g.transpose(g.reshape(x, g.ints(split)), perm), g.ints(merged));
        }
        long[] pads = NnGradients.pads(geo), full = new long[rank];
        boolean cut = false;
        for (int d = 0; d < rank; d++) {
            // the input left to the last output's window, which the swapped convolution walks with step d
            long extent = geo.in()[d] + pads[d] + pads[rank + d] - (geo.out()[d] - 1) * geo.strides()[d];
            full[d] = (extent - 1) / geo.dilations()[d] + 1;
            cut |= full[d] != geo.kernel()[d];
        }
        String dw = g.op("Conv", List.of(xt, g.transpose(dy, swap)),
                Attribute.ints("strides", GradientBuilder.boxed(geo.dilations())),
                Attribute.ints("dilations", GradientBuilder.boxed(geo.strides())),
                Attribute.ints("pads", GradientBuilder.boxed(pads)),
                Attribute.of("group", groups));
        if (cut) dw = slice(g, dw, new long[rank], geo.kernel(), GradientBuilder.axesFrom(2, rank + 2));
        return List.of(g.transpose(dw, swap));
    }

    /**
     * AveragePoolGrad(dY, X) ⇒ dY times 1/divisor per output position (a constant: the
     * divisors depend only on the geometry), spread over each window by a depthwise
     * ConvTranspose with a kernel of ones, whose pads (and output padding, where the windows
     * stop short of the input's end) give exactly X's shape. Needs X's static shape.
     */
    private static List<String> averagePoolGrad(GradientBuilder g) {
        String dy = g.x(0), x = g.x(1);
        long[] xShape = g.staticShape(x);
        if (xShape == null) throw error(g, "needs the static shape of X");
        Pooling.Params p = PoolingDefs.params(NnGradients.forwardContext(g), Pooling.Kind.AVERAGE);
        Windows.Geometry geo = Pooling.geometry(xShape, p);
        int rank = geo.rank();
        DType type = g.dtype(dy);
        double[] divisors = Pooling.averageDivisors(geo, p.countIncludePad());
        Tensor scale = Tensor.allocate(type, geo.out());
        for (int i = 0; i < divisors.length; i++) scale.setDouble(i, 1 / divisors[i]);
        long[] kernelShape = new long[rank + 2];
        kernelShape[0] = xShape[1];
        kernelShape[1] = 1;
        System.arraycopy(geo.kernel(), 0, kernelShape, 2, rank);
        Tensor ones = Tensor.allocate(type, kernelShape);
        for (long i = 0; i < ones.size(); i++) ones.setDouble(i, 1);
        long[] pads = new long[2 * rank], outputPadding = new long[rank];
        for (int d = 0; d < rank; d++) {
            long reach = (geo.out()[d] - 1) * geo.strides()[d] + (geo.kernel()[d] - 1) * geo.dilations()[d] + 1;
            outputPadding[d] = Math.max(0, geo.padBegin()[d] + geo.in()[d] - reach);
            pads[d] = geo.padBegin()[d];
            pads[rank + d] = reach + outputPadding[d] - geo.padBegin()[d] - geo.in()[d];
        }
        return List.of(g.op("ConvTranspose", List.of(g.mul(dy, g.constantNode(scale)), g.constantNode(ones)),
                Attribute.ints("strides", GradientBuilder.boxed(geo.strides())),
                Attribute.ints("dilations", GradientBuilder.boxed(geo.dilations())),
                Attribute.ints("pads", GradientBuilder.boxed(pads)),
                Attribute.ints("output_padding", GradientBuilder.boxed(outputPadding)),
                Attribute.of("group", xShape[1])));
    }

    /**
     * MaxPoolGrad(dY, X) ⇒ MaxPool(X)'s Indices output, the flat positions of the maxima, where
     * dY is scatter-added; windows that cannot overlap (stride past the dilated kernel on every
     * axis) never share a position, so a plain scatter does, which ONNX has before opset 16.
     */
    private static List<String> maxPoolGrad(GradientBuilder g) {
        String dy = g.x(0), x = g.x(1);
        String indices = g.ops("", "MaxPool", List.of(x), 2, g.node().attributes().values().toArray(Attribute[]::new)).get(1);
        return List.of(g.scatterToPositions(indices, dy, x, windowsOverlap(g)));
    }

    /** True when two of a MaxPool's windows can share an input element: some axis strides less than its dilated kernel spans. */
    private static boolean windowsOverlap(GradientBuilder g) {
        Pooling.Params p = PoolingDefs.params(NnGradients.forwardContext(g), Pooling.Kind.MAX);
        int rank = p.kernelShape().length;
        long[] strides = Windows.orFill(p.strides(), rank, 1, "strides"), dilations = Windows.orFill(p.dilations(), rank, 1, "dilations");
        for (int d = 0; d < rank; d++) {
            if (strides[d] < (p.kernelShape()[d] - 1) * dilations[d] + 1) return true;
        }
        return false;
    }

    /** ReluGrad(dY, X) ⇒ Where(Greater(X, 0), dY, 0). */
    private static List<String> reluGrad(GradientBuilder g) {
        String dy = g.x(0), x = g.x(1);
        return List.of(g.where(g.op("Greater", x, g.scalar(0, x)), dy, g.scalar(0, dy)));
    }

    /**
     * BatchNormalizationGrad(dY, X, scale) ⇒ X's statistics over all axes but the channels,
     * {@code dX = (1/σ)·(s − mean(s) − x̂·mean(s·x̂))} with {@code s = dY·scale},
     * {@code dScale = Σ dY·x̂}, {@code dBias = Σ dY}. Needs X's rank.
     */
    private static List<String> batchNormalizationGrad(GradientBuilder g) {
        String dy = g.x(0), x = g.x(1);
        int rank = g.rank(x);
        long[] axes = GradientBuilder.otherAxes(rank, 1);
        NnGradients.Normalized n = NnGradients.normalize(g, x, axes);
        String dx = n.inputGradient(g, g.mul(dy, g.reshape(g.x(2), NnGradients.channelShape(g, rank))), axes);
        return List.of(dx, g.reduceSum(g.mul(dy, n.normalized()), axes, false), g.reduceSum(dy, axes, false));
    }

    /** {@code x[starts:ends]} along {@code axes}: inputs from opset 10, attributes before. */
    private static String slice(GradientBuilder g, String x, long[] starts, long[] ends, long[] axes) {
        if (g.onnxOpset() >= 10) return g.op("Slice", x, g.ints(starts), g.ints(ends), g.ints(axes));
        return g.op("Slice", List.of(x), Attribute.ints("starts", GradientBuilder.boxed(starts)),
                Attribute.ints("ends", GradientBuilder.boxed(ends)), Attribute.ints("axes", GradientBuilder.boxed(axes)));
    }

    private static long[] swapFirstTwo(int rank) {
        long[] perm = new long[rank];
        for (int i = 0; i < rank; i++) perm[i] = i;
        perm[0] = 1;
        perm[1] = 0;
        return perm;
    }

    private static OnnxrunException error(GradientBuilder g, String message) {
        return OnnxrunException.unsupported(g.node().describe() + ": no standard ONNX form: " + message);
    }
}
