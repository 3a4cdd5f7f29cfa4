package dev.onnxrun.runtime.kernels;

import dev.onnxrun.runtime.DType;
import dev.onnxrun.runtime.ExecContext;
import dev.onnxrun.runtime.OnnxrunException;
import dev.onnxrun.runtime.Parallel;
import dev.onnxrun.runtime.Shapes;
import dev.onnxrun.runtime.Tensor;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * N-dimensional grouped convolution and transposed convolution on [N, C, spatial...] tensors.
 *
 * <p>float32 convolutions run on the input laid out by {@link WindowPlanes} (used as it is where
 * no tap reaches padding and strides are 1): one input channel per group by the depthwise
 * kernels ({@link DepthwiseRows} for 3×3 at strides 1 and 2; else {@link DepthwiseBlocks}
 * where the output rows are narrow), 3×3 stride-1 layers by
 * {@link Winograd} where its cost model says it is cheaper, the rest as an implicit GEMM per
 * (image, group) ({@link ConvFloat}); weights are packed once by {@link #pack}. Other float
 * types take the double-precision twin built on gather maps.
 */
public final class Conv {
    private Conv() {}

    /** Spatial window attributes as parsed from the model; null arrays mean "the default". */
    public record Params(long[] kernelShape, long[] strides, long[] dilations, long[] pads, Windows.AutoPad autoPad, long group,
                         long[] outputPadding, long[] outputShape) {}

    private static long[] spatial(long[] shape) { return Arrays.copyOfRange(shape, 2, shape.length); }

    private static void checkRanks(Tensor x, Tensor w, String op) {
        if (x.rank() < 3 || w.rank() != x.rank()) {
            throw OnnxrunException.invalidInput(op + " needs X of rank >= 3 and W of the same rank, got X " + x.describe()
                    + " and W " + w.describe());
        }
        MatrixOps.requireSameType(op, x, w);
    }

    /** The resolved geometry of {@code Conv} for these inputs. */
    public static Windows.Geometry convGeometry(long[] xShape, long[] wShape, Params p) {
        int n = xShape.length - 2;
        long[] kernel = p.kernelShape() != null ? p.kernelShape() : spatial(wShape);
        if (kernel.length != n) throw OnnxrunException.invalidModel("kernel_shape has " + kernel.length + " axes, X has " + n);
        return Windows.forward(spatial(xShape), kernel, Windows.orFill(p.strides(), n, 1, "strides"),
                Windows.orFill(p.dilations(), n, 1, "dilations"), p.pads(), p.autoPad(), false);
    }

    /** Y = conv(X, W) + B. */
    public static Tensor conv(Tensor x, Tensor w, Tensor bias, Params p, ExecContext ctx) {
        return conv(x, w, null, bias, null, Activation.NONE, p, ctx);
    }

    /**
     * Constant float32 weights packed for the GEMM that runs the convolution, made by {@link #pack}
     * and only used with the tensor they were made from. Three kinds of form, each made when first
     * needed, or taken from a compiled model's stored parts: the weights as GEMM panels per group
     * (part "gemm"), as panels of filters for {@link ConvByFilters} (part "filters"), and per
     * Winograd tiling the transformed weights (part "winograd-F2", "-F4").
     */
    public static final class PackedWeights implements PackedForm {
        private final Tensor source;
        private final int filters, groups, rowLength;
        private final PackedForm.Stored stored;
        private Gemm.PackedA[] gemm;
        private float[] byFilters;
        private final Gemm.PackedA[][] winograd = new Gemm.PackedA[Winograd.Tiling.values().length][];
        /** The geometry last resolved, reused while the input keeps its shape: a run then builds none. */
        private volatile Resolved resolved;

        private PackedWeights(Tensor source, int filters, int groups, int rowLength, PackedForm.Stored stored) {
            this.source = source;
            this.filters = filters;
            this.groups = groups;
            this.rowLength = rowLength;
            this.stored = stored;
        }

        private static String layout(String part) { return "conv-" + part + " v1 " + Gemm.PANEL_LAYOUT; }

        /** The geometry of this convolution over X, from the last call when X's shape is the same. */
        private Resolved resolve(Tensor x, Params p) {
            Resolved r = resolved;
            if (r == null || !r.fits(x)) resolved = r = new Resolved(x, source, p);
            return r;
        }

        /** The filter panels' layout key: also their width, which Gemm's layout does not fix. */
        private static final String FILTERS_LAYOUT = layout("filters") + " " + ConvByFilters.PANEL_LAYOUT;

        private static String winogradPart(Winograd.Tiling t) { return "winograd-" + t; }

        private synchronized Gemm.PackedA[] gemm() {
            if (gemm == null) {
                float[] saved = stored.take("gemm", layout("gemm"), ConvFloat.packedSize(filters, groups, rowLength));
                gemm = saved != null ? ConvFloat.packedWeights(saved, filters, groups, rowLength)
                        : ConvFloat.packWeights(FloatArrays.read(source), filters, groups, rowLength);
            }
            return gemm;
        }

        private synchronized float[] byFilters() {
            if (byFilters == null) {
                float[] saved = stored.take("filters", FILTERS_LAYOUT, ConvByFilters.packedSize(filters, groups, rowLength));
                byFilters = saved != null ? saved : ConvByFilters.packWeights(FloatArrays.read(source), filters, groups, rowLength);
            }
            return byFilters;
        }

        private synchronized Gemm.PackedA[] winograd(Winograd.Tiling t) {
            if (winograd[t.ordinal()] == null) {
                int channels = rowLength / 9;
                String part = winogradPart(t);
                float[] saved = stored.take(part, layout(part), Winograd.packedSize(t, filters, channels));
                winograd[t.ordinal()] = saved != null ? Winograd.packedWeights(t, saved, filters, channels)
                        : Winograd.packWeights(t, FloatArrays.read(source), filters, channels);
            }
            return winograd[t.ordinal()];
        }

        @Override
        public synchronized Map<String, PackedForm.Part> parts() {
            Map<String, PackedForm.Part> parts = new LinkedHashMap<>();
            if (gemm != null) parts.put("gemm", new PackedForm.Part(layout("gemm"), gemm[0].panels));
            if (byFilters != null) parts.put("filters", new PackedForm.Part(FILTERS_LAYOUT, byFilters));
            for (Winograd.Tiling t : Winograd.Tiling.values()) {
                Gemm.PackedA[] u = winograd[t.ordinal()];
                if (u != null) parts.put(winogradPart(t), new PackedForm.Part(layout(winogradPart(t)), u[0].panels));
            }
            return parts;
        }
    }

    /** A convolution's geometry for one shape of X, with its output shape and (made when first asked for) its window planes. */
    private static final class Resolved {
        final long[] xShape, outShape;
        final Windows.Geometry g;
        private WindowPlanes planes; // a race makes it twice, the same

        Resolved(Tensor x, Tensor w, Params p) {
            xShape = x.shape();
            g = convGeometry(xShape, w.shape(), p);
            outShape = new long[xShape.length];
            outShape[0] = xShape[0];
            outShape[1] = w.dim(0);
            System.arraycopy(g.out(), 0, outShape, 2, g.rank());
        }

        boolean fits(Tensor x) { return sameShape(x, xShape); }

        WindowPlanes planes() {
            if (planes == null) planes = WindowPlanes.of(g);
            return planes;
        }
    }

    /** Whether W's spatial dimensions are the geometry's kernel. */
    static boolean kernelMatches(Tensor w, Windows.Geometry g) {
        for (int d = 0; d < g.rank(); d++) if (w.dim(d + 2) != g.kernel()[d]) return false;
        return true;
    }

    /** Whether {@code t} has this shape (read without copying it). */
    static boolean sameShape(Tensor t, long[] shape) {
        if (t.rank() != shape.length) return false;
        for (int d = 0; d < shape.length; d++) if (t.dim(d) != shape[d]) return false;
        return true;
    }

    /** {@link #pack(Tensor, Params, long[], PackedForm.Stored)} for an input of unknown shape, with nothing stored. */
    public static PackedWeights pack(Tensor w, Params p) {
        return pack(w, p, null, PackedForm.Stored.NONE);
    }

    /**
     * W packed for {@link #conv}, or null where packing does not apply (other types, depthwise, bad
     * shapes: reported when run). Packs now the form a convolution of X's shape {@code xShape}
     * uses (the GEMM panels when the shape is not known), others when first used; takes forms
     * from {@code stored} where it holds them for this machine's layout.
     */
    public static PackedWeights pack(Tensor w, Params p, long[] xShape, PackedForm.Stored stored) {
        if (w.dtype() != DType.FLOAT || w.rank() < 3 || p.group() < 1 || w.dim(0) % p.group() != 0 || w.dim(1) == 1 && p.group() > 1) return null;
        int filters = Math.toIntExact(w.dim(0)), rowLength = Math.toIntExact(w.size() / Math.max(1, filters));
        PackedWeights packed = new PackedWeights(w, filters, (int) p.group(), rowLength, stored);
        Winograd.Tiling tiling = null;
        boolean byFilters = false;
        if (xShape != null && xShape.length == w.rank()) {
            try {
                Windows.Geometry g = convGeometry(xShape, w.shape(), p);
                tiling = winogradTiling(g, (int) p.group(), Math.toIntExact(xShape[1]), filters);
                byFilters = tiling == null && byFilters(g, (int) p.group(), Math.toIntExact(xShape[1]), filters);
            } catch (OnnxrunException e) {
                tiling = null; // reported with context when the node runs
            }
        }
        if (tiling != null) packed.winograd(tiling);
        else if (byFilters) packed.byFilters();
        else packed.gemm();
        return packed;
    }

    /** Whether a convolution of this geometry, not Winograd's, runs vectorized along its filters ({@link ConvByFilters}). */
    static boolean byFilters(Windows.Geometry g, int groups, int channels, int filters) {
        return byFilters(g, WindowPlanes.of(g), groups, channels, filters);
    }

    /** {@link #byFilters(Windows.Geometry, int, int, int)} with the geometry's window planes at hand. */
    private static boolean byFilters(Windows.Geometry g, WindowPlanes planes, int groups, int channels, int filters) {
        int cg = channels / groups, mg = filters / groups;
        return !(cg == 1 && groups > 1) && ConvByFilters.suits(cg, Math.toIntExact(g.kernelSize()), mg, planes);
    }

    /**
     * Whether the float32 path runs a convolution of X [N, C, ...] by W with these attributes as
     * Winograd (false where the shapes do not fit: reported when run).
     */
    public static boolean runsWinograd(long[] xShape, long[] wShape, Params p) {
        try {
            return xShape.length == wShape.length && winogradTiling(convGeometry(xShape, wShape, p), (int) p.group(), Math.toIntExact(xShape[1]),
                    Math.toIntExact(wShape[0])) != null;
        } catch (OnnxrunException | ArithmeticException e) {
            return false;
        }
    }

    /** The Winograd tiling a convolution of this geometry runs with, or null for the direct forms. */
    static Winograd.Tiling winogradTiling(Windows.Geometry g, int groups, int channels, int filters) {
        return Winograd.applies(g, groups) ? Winograd.choose(channels, filters, (int) g.out()[0], (int) g.out()[1]) : null;
    }

    /**
     * Y = act(conv(X, W) + B + R), R (optional) of Y's shape; {@code packed} (optional) is W as
     * {@link #pack} made it. For float32 the bias, residual and activation are applied to each
     * output tile as it is finished.
     */
    public static Tensor conv(Tensor x, Tensor w, PackedWeights packed, Tensor bias, Tensor residual, Activation act, Params p,
                              ExecContext ctx) {
        Parallel parallel = ctx.parallel();
        checkRanks(x, w, "Conv");
        boolean prepacked = packed != null && packed.source == w;
        Resolved r = prepacked ? packed.resolve(x, p) : new Resolved(x, w, p);
        Windows.Geometry g = r.g;
        int batch = Math.toIntExact(x.dim(0)), channels = Math.toIntExact(x.dim(1)), filters = Math.toIntExact(w.dim(0));
        int groups = Math.toIntExact(p.group());
        if (groups < 1 || channels % groups != 0 || filters % groups != 0 || w.dim(1) * groups != channels) {
            throw OnnxrunException.invalidInput("Conv with group " + groups + " does not fit X " + x.describe() + " and W " + w.describe());
        }
        if (!kernelMatches(w, g)) {
            throw OnnxrunException.invalidInput("W " + w.describe() + " does not match kernel_shape " + Arrays.toString(g.kernel()));
        }
        checkBias(bias, filters, "Conv");
        long[] outShape = r.outShape; // not written to: outputs copy their shapes
        if (residual != null && (residual.dtype() != x.dtype() || !sameShape(residual, outShape))) {
            throw OnnxrunException.invalidInput("Conv residual " + residual.describe() + " must be " + x.dtype().onnxName()
                    + Shapes.toString(outShape));
        }
        int cg = channels / groups, mg = filters / groups;
        int inSp = Math.toIntExact(g.inSize()), outSp = Math.toIntExact(g.outSize()), kSize = Math.toIntExact(g.kernelSize());

        if (x.dtype() == DType.FLOAT) {
            Tensor y = ctx.output(0, DType.FLOAT, outShape);
            FloatArrays.Slice ys = FloatArrays.slice(y);
            if (cg == 0) { // no input channels: the output is the epilogue alone
                for (int i = 0; i < y.size(); i++) {
                    ys.array()[ys.offset() + i] = (float) act.apply((bias == null ? 0 : bias.getFloat(i / outSp % filters))
                            + (residual == null ? 0 : residual.getFloat(i)));
                }
            }
            if (cg == 0 || y.size() == 0) return y;
            float[] ws = FloatArrays.read(w);
            Winograd.Tiling tiling = winogradTiling(g, groups, channels, filters);
            FloatArrays.Slice xs = FloatArrays.slice(x), rs = residual == null ? null : FloatArrays.slice(residual);
            boolean depthwise = cg == 1 && groups > 1, depthwiseRows = depthwise && DepthwiseRows.applies(g, mg),
                    depthwiseBlocks = depthwise && !depthwiseRows && DepthwiseBlocks.applies(g, mg);
            ConvFloat.Problem pr = new ConvFloat.Problem(xs.array(), xs.offset(), ys.array(), ys.offset(), bias == null ? null : FloatArrays.read(bias),
                    rs == null ? null : rs.array(), rs == null ? 0 : rs.offset() - ys.offset(), act,
                    tiling != null || depthwiseBlocks || depthwiseRows ? null : r.planes(),
                    batch, channels, filters, groups, inSp, outSp);
            if (tiling != null) {
                Gemm.PackedA[] u = prepacked ? packed.winograd(tiling) : Winograd.packWeights(tiling, ws, filters, channels);
                Winograd.conv(pr, g, tiling, u, parallel);
            } else if (depthwiseRows) {
                DepthwiseRows.conv(pr, g, ws, parallel);
            } else if (depthwiseBlocks) {
                DepthwiseBlocks.conv(pr, g, ws, parallel);
            } else if (depthwise) {
                ConvFloat.depthwise(pr, ws, parallel);
            } else if (byFilters(g, r.planes(), groups, channels, filters)) {
                ConvByFilters.conv(pr, prepacked ? packed.byFilters() : ConvByFilters.packWeights(ws, filters, groups, cg * kSize), parallel);
            } else {
                ConvFloat.gemm(pr, prepacked ? packed.gemm() : ConvFloat.packWeights(ws, filters, groups, cg * kSize), parallel);
            }
            return y;
        }
        int[] map = Windows.gatherMap(g.out(), g.in(), g);
        Tensor y = convGeneric(x, w, bias, outShape, groups, cg, mg, inSp, outSp, kSize, map, parallel);
        if (residual == null && act.isNone()) return y;
        for (long i = 0; i < y.size(); i++) y.setDouble(i, act.apply(y.getDouble(i) + (residual == null ? 0 : residual.getDouble(i))));
        return y;
    }

    /** Double-precision twin of the float32 path, for float16, bfloat16 and double. */
    private static Tensor convGeneric(Tensor x, Tensor w, Tensor bias, long[] outShape, int groups, int cg, int mg,
                                      int inSp, int outSp, int kSize, int[] map, Parallel parallel) {
        double[] xs = FloatArrays.doubles(x), ws = FloatArrays.doubles(w);
        int batch = (int) outShape[0], filters = (int) outShape[1], channels = cg * groups, rows = cg * kSize;
        double[] ys = new double[batch * filters * outSp];
        long colSize = Shapes.size(new long[] {rows, outSp});
        Work.pool(parallel, colSize * rows * batch * groups).forRange((long) batch * groups, (from, to) -> {
            double[] col = new double[(int) colSize];
            for (long bg = from; bg < to; bg++) {
                int b = (int) (bg / groups), grp = (int) (bg % groups);
                int xAt = (b * channels + grp * cg) * inSp;
                for (int r = 0; r < rows; r++) {
                    int base = xAt + (r / kSize) * inSp, mapAt = (r % kSize) * outSp;
                    for (int o = 0; o < outSp; o++) {
                        int src = map == null ? o : map[mapAt + o];
                        col[r * outSp + o] = src < 0 ? 0 : xs[base + src];
                    }
                }
                for (int m = 0; m < mg; m++) {
                    int filter = grp * mg + m, yAt = (b * filters + filter) * outSp;
                    double init = bias == null ? 0 : bias.getDouble(filter);
                    Arrays.fill(ys, yAt, yAt + outSp, init);
                    for (int r = 0; r < rows; r++) {
                        double wv = ws[filter * rows + r];
                        if (wv == 0) continue;
                        for (int o = 0; o < outSp; o++) ys[yAt + o] += wv * col[r * outSp + o];
                    }
                }
            }
        });
        return FloatArrays.fromDoubles(x.dtype(), ys, outShape);
    }

    static void checkBias(Tensor bias, int filters, String op) {
        if (bias != null && (bias.rank() != 1 || bias.dim(0) != filters)) {
            throw OnnxrunException.invalidInput(op + " bias " + bias.describe() + " must have shape [" + filters + "]");
        }
    }

    /** The resolved geometry of {@code ConvTranspose} for these inputs. */
    public static Windows.Geometry transposeGeometry(long[] xShape, long[] wShape, Params p) {
        int n = xShape.length - 2;
        long[] kernel = p.kernelShape() != null ? p.kernelShape() : spatial(wShape);
        if (kernel.length != n) throw OnnxrunException.invalidModel("kernel_shape has " + kernel.length + " axes, X has " + n);
        return Windows.transposed(spatial(xShape), kernel, Windows.orFill(p.strides(), n, 1, "strides"),
                Windows.orFill(p.dilations(), n, 1, "dilations"), p.pads(), p.outputPadding(), p.outputShape(), p.autoPad());
    }

    /** Y = convTranspose(X, W) + B, W laid out [C, M/group, kernel...]. */
    public static Tensor convTranspose(Tensor x, Tensor w, Tensor bias, Params p, Parallel parallel) {
        checkRanks(x, w, "ConvTranspose");
        Windows.Geometry g = transposeGeometry(x.shape(), w.shape(), p);
        int batch = Math.toIntExact(x.dim(0)), channels = Math.toIntExact(x.dim(1));
        int groups = Math.toIntExact(p.group());
        if (groups < 1 || channels % groups != 0 || w.dim(0) != channels) {
            throw OnnxrunException.invalidInput("ConvTranspose with group " + groups + " does not fit X " + x.describe()
                    + " and W " + w.describe());
        }
        if (!kernelMatches(w, g)) {
            throw OnnxrunException.invalidInput("W " + w.describe() + " does not match kernel_shape " + Arrays.toString(g.kernel()));
        }
        int cg = channels / groups, mg = Math.toIntExact(w.dim(1)), filters = mg * groups;
        checkBias(bias, filters, "ConvTranspose");
        long[] outShape = new long[x.rank()];
        outShape[0] = batch;
        outShape[1] = filters;
        System.arraycopy(g.out(), 0, outShape, 2, g.rank());
        int inSp = Math.toIntExact(g.inSize()), outSp = Math.toIntExact(g.outSize()), kSize = Math.toIntExact(g.kernelSize());
        int rows = mg * kSize;
        long colSize = Shapes.size(new long[] {rows, inSp});
        boolean fast = x.dtype() == DType.FLOAT;
        // float32 scatters whole lines of each tap; other types go through the gather map in double
        Windows.TapLines[] taps = fast ? new Windows.TapLines[kSize] : null;
        for (int k = 0; fast && k < kSize; k++) taps[k] = Windows.tapLines(g.in(), g.out(), g, k);
        int[] map = fast ? null : Windows.gatherMap(g.in(), g.out(), g);
        float[] yf = fast ? new float[Math.toIntExact(Shapes.size(outShape))] : null;
        double[] ys = fast ? null : new double[Math.toIntExact(Shapes.size(outShape))];
        float[] xf = fast ? FloatArrays.read(x) : null, wf = fast ? FloatArrays.read(w) : null;
        double[] xd = fast ? null : FloatArrays.doubles(x), wd = fast ? null : FloatArrays.doubles(w);
        // Each task owns whole output planes (image, group), so the scatter needs no synchronisation.
        // With fewer planes than threads, the planes run in turn and the GEMM inside is parallel instead.
        long planes = (long) batch * groups;
        boolean acrossPlanes = planes >= parallel.threads() && colSize * cg * planes >= Work.PARALLEL_THRESHOLD;
        Parallel inner = acrossPlanes ? Parallel.SERIAL : parallel;
        Parallel.RangeBody body = (from, to) -> {
            float[] colF = fast ? new float[(int) colSize] : null;
            double[] col = fast ? null : new double[(int) colSize];
            for (long bg = from; bg < to; bg++) {
                int b = (int) (bg / groups), grp = (int) (bg % groups);
                int xAt = (b * channels + grp * cg) * inSp, wAt = grp * cg * rows;
                // col[rows × inSp] = W_gᵀ · X_g
                if (fast) {
                    Gemm.multiply(rows, inSp, cg, 1f, new Gemm.Matrix(wf, wAt, 1, rows), Gemm.Matrix.rowMajor(xf, xAt, inSp),
                            colF, 0, inSp, false, inner);
                } else {
                    Arrays.fill(col, 0);
                    for (int c = 0; c < cg; c++) {
                        for (int r = 0; r < rows; r++) {
                            double wv = wd[wAt + c * rows + r];
                            if (wv == 0) continue;
                            for (int i = 0; i < inSp; i++) col[r * inSp + i] += wv * xd[xAt + c * inSp + i];
                        }
                    }
                }
                for (int m = 0; m < mg; m++) {
                    int filter = grp * mg + m, yAt = (b * filters + filter) * outSp;
                    if (fast) {
                        if (bias != null) Arrays.fill(yf, yAt, yAt + outSp, bias.getFloat(filter));
                        for (int k = 0; k < kSize; k++) Windows.addLines(colF, (m * kSize + k) * inSp, taps[k], yf, yAt);
                        continue;
                    }
                    if (bias != null) Arrays.fill(ys, yAt, yAt + outSp, bias.getDouble(filter));
                    for (int k = 0; k < kSize; k++) {
                        int colAt = (m * kSize + k) * inSp, mapAt = k * inSp;
                        for (int i = 0; i < inSp; i++) {
                            int dst = map[mapAt + i];
                            if (dst >= 0) ys[yAt + dst] += col[colAt + i];
                        }
                    }
                }
            }
        };
        if (acrossPlanes) parallel.forRange(planes, body);
        else body.run(0, planes);
        return fast ? Tensor.of(yf, outShape) : FloatArrays.fromDoubles(x.dtype(), ys, outShape);
    }
}
