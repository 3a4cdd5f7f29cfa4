package dev.onnxrun.compiler.ops;

import dev.onnxrun.compiler.autodiff.GradientBuilder;
import dev.onnxrun.compiler.ir.Attribute;
import dev.onnxrun.compiler.ir.OpsetImports;
import dev.onnxrun.runtime.DType;
import dev.onnxrun.runtime.kernels.Conv;
import dev.onnxrun.runtime.kernels.Windows;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The gradient rules of the neural-network family ({@link NnOps}): matrix products,
 * convolution, pooling and normalization. They are attached to the family's registry entries by
 * op name ({@link OpRegistry}).
 */
final class NnGradients {
    private NnGradients() {}

    /** Every rule of this file, by op name. */
    static Map<String, OpDef.GradientRule> rules() {
        Map<String, OpDef.GradientRule> rules = new HashMap<>(Map.of("MatMul", NnGradients::matMulGradient, "Gemm", NnGradients::gemmGradient));
        rules.putAll(convolution());
        rules.putAll(pooling());
        rules.putAll(normalization());
        return rules;
    }

    /**
     * dA = dY·Bᵀ, dB = Aᵀ·dY over the last two axes, summed over broadcast batch axes; a 1-D
     * operand is first made a matrix (a row for A, a column for B) as MatMul itself does.
     */
    private static List<String> matMulGradient(GradientBuilder g) {
        String a = g.x(0), b = g.x(1), dy = g.dy(0);
        int ra = g.rank(a), rb = g.rank(b);
        String a2 = a, b2 = b;
        if (ra == 1) {
            a2 = g.unsqueeze(a, 0);
            dy = g.unsqueeze(dy, Math.max(rb, 2) - 2);
        }
        if (rb == 1) {
            b2 = g.unsqueeze(b, 1);
            dy = g.unsqueeze(dy, Math.max(ra, 2) - 1);
        }
        String da = null, db = null;
        if (g.needs(0)) {
            da = g.op("MatMul", dy, swapLastTwo(g, b2, Math.max(rb, 2)));
            da = ra == 1 ? g.reshapeLike(g.sumToShape(da, a2), a) : ra == 2 && rb <= 2 ? da : g.sumToShape(da, a);
        }
        if (g.needs(1)) {
            db = g.op("MatMul", swapLastTwo(g, a2, Math.max(ra, 2)), dy);
            db = rb == 1 ? g.reshapeLike(g.sumToShape(db, b2), b) : rb == 2 && ra <= 2 ? db : g.sumToShape(db, b);
        }
        return GradientBuilder.grads(da, db);
    }

    private static String swapLastTwo(GradientBuilder g, String x, int rank) {
        long[] perm = new long[rank];
        for (int i = 0; i < rank; i++) perm[i] = i;
        perm[rank - 2] = rank - 1;
        perm[rank - 1] = rank - 2;
        return g.transpose(x, perm);
    }

    /**
     * Y = α·A'·B' + β·C with A' = transA ? Aᵀ : A (B' likewise): each operand's gradient is one
     * more Gemm of dY with the other operand, its transposes chosen so the product comes out in
     * the operand's own layout; C's is β·dY summed over what C broadcast.
     */
    private static List<String> gemmGradient(GradientBuilder g) {
        String a = g.x(0), b = g.x(1), dy = g.dy(0);
        long transA = g.attrs().getInt("transA", 0), transB = g.attrs().getInt("transB", 0);
        Attribute alpha = Attribute.of("alpha", g.attrs().getFloat("alpha", 1f));
        String da = null, db = null, dc = null;
        if (g.needs(0)) {
            da = transA == 0
                    ? g.op("Gemm", List.of(dy, b), alpha, Attribute.of("transB", 1 - transB))
                    : g.op("Gemm", List.of(b, dy), alpha, Attribute.of("transA", transB), Attribute.of("transB", 1L));
        }
        if (g.needs(1)) {
            db = transB == 0
                    ? g.op("Gemm", List.of(a, dy), alpha, Attribute.of("transA", 1 - transA))
                    : g.op("Gemm", List.of(dy, a), alpha, Attribute.of("transA", 1L), Attribute.of("transB", transA));
        }
        if (g.needs(2)) {
            dc = g.unbroadcast(g.mul(dy, g.scalar(g.attrs().getFloat("beta", 1f), dy)), g.x(2));
        }
        return GradientBuilder.grads(da, db, dc);
    }


    /** Rules of Conv and ConvTranspose, each the other's adjoint. */
    static Map<String, OpDef.GradientRule> convolution() {
        return Map.of("Conv", NnGradients::convGradient, "ConvTranspose", NnGradients::convTransposeGradient);
    }

    /**
     * Conv's gradient: dX is the transposed convolution of dY with the same W (output padding
     * restoring the rows a stride skipped), dW is {@code dev.onnxrun.ConvWeightGrad}, dB sums dY
     * over batch and space. Needs X's and W's static shapes.
     */
    private static List<String> convGradient(GradientBuilder g) {
        long[] xShape = g.staticShape(g.x(0)), wShape = g.staticShape(g.x(1));
        if (xShape == null || wShape == null) throw g.fail("needs the static shapes of X and W");
        Conv.Params p = ConvolutionDefs.params(forwardContext(g));
        Windows.Geometry geo = Conv.convGeometry(xShape, wShape, p);
        int rank = geo.rank();
        String dx = null, dw = null, db = null;
        if (g.needs(0)) {
            long[] pads = pads(geo), outputPadding = new long[rank];
            for (int d = 0; d < rank; d++) {
                long covered = (geo.out()[d] - 1) * geo.strides()[d] + (geo.kernel()[d] - 1) * geo.dilations()[d] + 1;
                outputPadding[d] = geo.in()[d] + pads[d] + pads[rank + d] - covered;
            }
            dx = g.op("ConvTranspose", List.of(g.dy(0), g.x(1)),
                    Attribute.ints("strides", GradientBuilder.boxed(geo.strides())),
                    Attribute.ints("dilations", GradientBuilder.boxed(geo.dilations())),
                    Attribute.ints("pads", GradientBuilder.boxed(pads)),
                    Attribute.ints("output_padding", GradientBuilder.boxed(outputPadding)),
                    Attribute.of("group", p.group()));
        }
        if (g.needs(1)) {
            dw = g.ops(OpsetImports.ONNXRUN_DOMAIN, "ConvWeightGrad", List.of(g.x(0), g.dy(0), g.x(1)), 1,
                    g.node().attributes().values().toArray(Attribute[]::new)).getFirst();
        }
        if (g.needs(2)) db = g.reduceSum(g.dy(0), GradientBuilder.otherAxes(rank + 2, 1), false);
        return GradientBuilder.grads(dx, dw, db);
    }

    /**
     * ConvTranspose is the adjoint of the Conv with the same W, strides, dilations, group and
     * the pads its geometry resolves to (auto_pad and output_shape included): dX is that Conv
     * of dY, which lands on X's size since output padding stays below the stride; dW is
     * {@code dev.onnxrun.ConvWeightGrad} with dY in the input's place and X in the output
     * gradient's; dB sums dY over batch and space. Needs X's and W's static shapes.
     */
    private static List<String> convTransposeGradient(GradientBuilder g) {
        long[] xShape = g.staticShape(g.x(0)), wShape = g.staticShape(g.x(1));
        if (xShape == null || wShape == null) throw g.fail("needs the static shapes of X and W");
        Conv.Params p = ConvolutionDefs.params(forwardContext(g));
        Windows.Geometry geo = Conv.transposeGeometry(xShape, wShape, p);
        int rank = geo.rank();
        long[] pads = pads(geo);
        if (Arrays.stream(pads).anyMatch(v -> v < 0)) throw g.fail("output_shape larger than the full result (negative padding)");
        Attribute[] conv = {
                Attribute.ints("kernel_shape", GradientBuilder.boxed(geo.kernel())),
                Attribute.ints("strides", GradientBuilder.boxed(geo.strides())),
                Attribute.ints("dilations", GradientBuilder.boxed(geo.dilations())),
                Attribute.ints("pads", GradientBuilder.boxed(pads)),
                Attribute.of("group", p.group())};
        String dx = g.needs(0) ? g.op("Conv", List.of(g.dy(0), g.x(1)), conv) : null;
        String dw = g.needs(1)
                ? g.ops(OpsetImports.ONNXRUN_DOMAIN, "ConvWeightGrad", List.of(g.dy(0), g.x(0), g.x(1)), 1, conv).getFirst() : null;
        String db = g.needs(2) ? g.reduceSum(g.dy(0), GradientBuilder.otherAxes(rank + 2, 1), false) : null;
        return GradientBuilder.grads(dx, dw, db);
    }

    /** The begin and end pads a geometry resolved, in the ONNX pads order. */
    static long[] pads(Windows.Geometry geo) {
        int rank = geo.rank();
        long[] pads = new long[2 * rank];
        for (int d = 0; d < rank; d++) {
            pads[d] = geo.padBegin()[d];
            pads[rank + d] = geo.padEnd()[d];
        }
        return pads;
    }

    /** The forward node as its lowering sees it, to read its attributes through the op's own parsing (also for {@link AutodiffExpansions}). */
    static NodeContext forwardContext(GradientBuilder g) {
        return new NodeContext(g.node(), g.opset(), List.of(), List.of(), NodeContext.NO_SUBGRAPHS);
    }

    /**
     * Pooling gradients. MaxPool's is {@code dev.onnxrun.MaxPoolGrad}, which adds each dY at its
     * window's maximum (where MaxPool's Indices output points) without an indices tensor or a
     * second pooling pass; AveragePool's is {@code dev.onnxrun.AveragePoolGrad}; a global
     * average spreads dY evenly.
     */
    static Map<String, OpDef.GradientRule> pooling() {
        return Map.of(
                "MaxPool", g -> {
                    List<Attribute> attrs = new ArrayList<>(g.node().attributes().values());
                    attrs.removeIf(a -> a.name().equals("storage_order"));
                    return GradientBuilder.grads(g.ops(OpsetImports.ONNXRUN_DOMAIN, "MaxPoolGrad", List.of(g.dy(0), g.x(0)), 1,
                            attrs.toArray(Attribute[]::new)).getFirst());
                },
                "AveragePool", g -> GradientBuilder.grads(g.ops(OpsetImports.ONNXRUN_DOMAIN, "AveragePoolGrad",
                        List.of(g.dy(0), g.x(0)), 1, g.node().attributes().values().toArray(Attribute[]::new)).getFirst()),
                "GlobalAveragePool", g -> {
                    DType t = g.dtype(g.x(0));
                    String count = g.div(g.cast(g.op("Size", g.x(0)), t), g.cast(g.op("Size", g.y(0)), t));
                    return GradientBuilder.grads(g.div(g.op("Expand", g.dy(0), g.shape(g.x(0))), count));
                });
    }

    /**
     * Normalization gradients, with x̂ = (x − μ)/σ over the normalized axes:
     * dx = (1/σ)·(g − mean(g) − x̂·mean(g·x̂)) where g = dy·γ when μ and σ are statistics of
     * x itself (LayerNormalization; BatchNormalization in training mode, as the fused
     * {@code dev.onnxrun.BatchNormalizationGrad}), dx = g/σ when they are inputs
     * (BatchNormalization at inference); dγ = Σ dy·x̂ and dβ = Σ dy over the other axes.
     */
    static Map<String, OpDef.GradientRule> normalization() {
        return Map.of(
                "BatchNormalization", g -> {
                    if (NormalizationDefs.training(forwardContext(g))) {
                        // μ and σ are x's own statistics: one fused op gives dX, dScale and dBias
                        List<String> d = g.ops(OpsetImports.ONNXRUN_DOMAIN, "BatchNormalizationGrad", List.of(g.dy(0), g.x(0), g.x(1)), 3,
                                Attribute.of("epsilon", g.attrs().getFloat("epsilon", 1e-5f)));
                        return GradientBuilder.grads(d.get(0), g.needs(1) ? d.get(1) : null, g.needs(2) ? d.get(2) : null);
                    }
                    int rank = g.rank(g.x(0));
                    long[] axes = GradientBuilder.otherAxes(rank, 1);
                    // scale, bias, mean and var are per channel: shape [1, C, 1, …] to broadcast over x
                    String channelShape = channelShape(g, rank);
                    Normalized n = new Normalized(g, g.x(0), g.reshape(g.x(3), channelShape), g.reshape(g.x(4), channelShape),
                            g.attrs().getFloat("epsilon", 1e-5f));
                    String scaled = g.mul(g.dy(0), g.reshape(g.x(1), channelShape));
                    String dMean = null, dVar = null;
                    if (g.needs(3)) dMean = g.neg(g.reduceSum(g.mul(scaled, n.inverseStd()), axes, false));
                    if (g.needs(4)) {
                        String cubed = g.mul(n.inverseStd(), g.mul(n.inverseStd(), n.inverseStd()));
                        dVar = g.mul(g.reduceSum(g.mul(g.mul(scaled, n.centered()), cubed), axes, false), g.scalar(-0.5, g.x(0)));
                    }
                    return GradientBuilder.grads(g.mul(scaled, n.inverseStd()),
                            g.needs(1) ? g.reduceSum(g.mul(g.dy(0), n.normalized()), axes, false) : null,
                            g.needs(2) ? g.reduceSum(g.dy(0), axes, false) : null, dMean, dVar);
                },
                "LayerNormalization", g -> {
                    int rank = g.rank(g.x(0));
                    long[] axes = GradientBuilder.axesFrom(GradientBuilder.axis(g.attrs().getInt("axis", -1), rank), rank);
                    Normalized n = normalize(g, g.x(0), axes);
                    String dx = g.needs(0) ? n.inputGradient(g, g.mul(g.dy(0), g.x(1)), axes) : null;
                    return GradientBuilder.grads(dx,
                            g.needs(1) ? g.sumToShape(g.mul(g.dy(0), n.normalized()), g.x(1)) : null,
                            g.needs(2) ? g.sumToShape(g.dy(0), g.x(2)) : null);
                });
    }

    /** x − μ, 1/σ and x̂ of x, for given (broadcastable) μ and σ². */
    record Normalized(String centered, String inverseStd, String normalized) {
        Normalized(GradientBuilder g, String x, String mean, String variance, double epsilon) {
            this(g, g.sub(x, mean), g.op("Reciprocal", g.op("Sqrt", g.add(variance, g.scalar(epsilon, x)))));
        }

        private Normalized(GradientBuilder g, String centered, String inverseStd) {
            this(centered, inverseStd, g.mul(centered, inverseStd));
        }

        /** dx when μ and σ are the statistics of x over {@code axes}, given g = dy·γ. */
        String inputGradient(GradientBuilder g, String scaled, long[] axes) {
            String meanG = g.reduceMean(scaled, axes, true);
            String meanGx = g.reduceMean(g.mul(scaled, normalized), axes, true);
            return g.mul(inverseStd, g.sub(g.sub(scaled, meanG), g.mul(normalized, meanGx)));
        }
    }

    /** The statistics of x over {@code axes} (biased variance, as the forward ops use), with the node's epsilon. */
    static Normalized normalize(GradientBuilder g, String x, long[] axes) {
        String mean = g.reduceMean(x, axes, true);
        String centered = g.sub(x, mean);
        String variance = g.reduceMean(g.mul(centered, centered), axes, true);
        return new Normalized(g, x, mean, variance, g.attrs().getFloat("epsilon", 1e-5f));
    }

    /** [1, −1, 1, …] of the given rank: a per-channel [C] tensor reshaped to broadcast over [N, C, …]. */
    static String channelShape(GradientBuilder g, int rank) {
        long[] perChannel = new long[rank];
        Arrays.fill(perChannel, 1);
        perChannel[1] = -1;
        return g.ints(perChannel);
    }
}
