package dev.onnxrun.runtime.kernels;

import dev.onnxrun.runtime.DType;
import dev.onnxrun.runtime.ExecContext;
import dev.onnxrun.runtime.OnnxrunException;
import dev.onnxrun.runtime.Parallel;
import dev.onnxrun.runtime.Shapes;
import dev.onnxrun.runtime.Tensor;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Gradients of window ops that standard ops express poorly: the convolution weight gradient
 * (a correlation of the input with the output gradient, per group), the average-pool input
 * gradient (each output's gradient spread over the inputs it averaged, divided as the forward
 * pass divided) and the max-pool input gradient (each output's gradient at its window's
 * maximum). All walk the forward window geometry ({@link Windows#gatherMap},
 * {@link Windows#tapLines}), so strides, dilations, pads, auto_pad and ceil_mode mean exactly
 * what they meant going forward.
 */
public final class WindowGradients {
    private WindowGradients() {}

    /**
     * dW of Y = Conv(X, W): {@code dW[m, c, k] = Σ_{n, o} dY[n, m, o] · X[n, g·C/G + c, o·s − pad + k·d]}
     * where g is m's group. X (N, C, spatial…), dY (N, M, out…); the result has {@code wShape}
     * (M, C/G, kernel…). Float tensors take {@link #convWeightGradF32}; others (and tests, as
     * the reference) {@link #convWeightGradReference}.
     */
    public static Tensor convWeightGrad(Tensor x, Tensor dy, long[] wShape, Conv.Params p, Parallel parallel) {
        WeightGradShape s = WeightGradShape.of(x, dy, wShape, p);
        return x.dtype() == DType.FLOAT && dy.dtype() == DType.FLOAT ? convWeightGradF32(x, dy, s, parallel) : reference(x, dy, s);
    }

    /** {@link #convWeightGrad} in double, one thread: the twin of the float32 path. */
    public static Tensor convWeightGradReference(Tensor x, Tensor dy, long[] wShape, Conv.Params p) {
        return reference(x, dy, WeightGradShape.of(x, dy, wShape, p));
    }

    /** The checked sizes of a weight gradient and its window geometry. */
    private record WeightGradShape(long[] wShape, int n, int c, int m, int cPerGroup, int mPerGroup, int inSp, int outSp, int kSize,
                                   Windows.Geometry geo) {
        static WeightGradShape of(Tensor x, Tensor dy, long[] wShape, Conv.Params p) {
            long[] xShape = x.shape();
            Windows.Geometry g = Conv.convGeometry(xShape, wShape, p);
            long c = xShape[1], m = wShape[0], group = p.group();
            if (c != wShape[1] * group || m % group != 0) {
                throw OnnxrunException.invalidInput("ConvWeightGrad: X " + x.describe() + " does not match W " + Shapes.toString(wShape)
                        + " with group " + group);
            }
            long[] dyShape = dy.shape();
            if (dyShape.length != xShape.length || dyShape[0] != xShape[0] || dyShape[1] != m
                    || !Arrays.equals(Arrays.copyOfRange(dyShape, 2, dyShape.length), g.out())) {
                throw OnnxrunException.invalidInput("ConvWeightGrad: dY " + dy.describe() + " does not match the convolution's output");
            }
            return new WeightGradShape(wShape, Math.toIntExact(xShape[0]), Math.toIntExact(c), Math.toIntExact(m),
                    Math.toIntExact(wShape[1]), Math.toIntExact(m / group), Math.toIntExact(g.inSize()), Math.toIntExact(g.outSize()),
                    Math.toIntExact(g.kernelSize()), g);
        }
    }

    private static Tensor reference(Tensor x, Tensor dy, WeightGradShape s) {
        double[] xs = FloatArrays.doubles(x), dys = FloatArrays.doubles(dy);
        double[] dw = new double[Math.toIntExact(Shapes.size(s.wShape()))];
        int[] map = Windows.gatherMap(s.geo().out(), s.geo().in(), s.geo());
        for (int b = 0; b < s.n(); b++) {
            for (int mo = 0; mo < s.m(); mo++) {
                int grp = mo / s.mPerGroup();
                int dyAt = (b * s.m() + mo) * s.outSp();
                for (int ci = 0; ci < s.cPerGroup(); ci++) {
                    int xAt = (b * s.c() + grp * s.cPerGroup() + ci) * s.inSp();
                    int wAt = (mo * s.cPerGroup() + ci) * s.kSize();
                    for (int k = 0; k < s.kSize(); k++) {
                        double acc = 0;
                        for (int o = 0; o < s.outSp(); o++) {
                            int src = map[k * s.outSp() + o];
                            if (src >= 0) acc += dys[dyAt + o] * xs[xAt + src];
                        }
                        dw[wAt + k] += acc;
                    }
                }
            }
        }
        Tensor out = Tensor.allocate(x.dtype(), s.wShape());
        for (int i = 0; i < dw.length; i++) out.setDouble(i, dw[i]);
        return out;
    }

    /** Rows of dY and of the patch matrix one micro-tile of the float32 weight gradient covers. */
    private static final int TILE = 4;
    /** Floats of patches and dY that one block of images fills: a block that sits in a typical L2 cache. */
    private static final int BLOCK_FLOATS = 1 << 16;

    /**
     * The float32 weight gradient, {@code dW_g = Σ_n dY[n, g] · col_nᵀ} with {@code col_n} the
     * image's input windows as rows (im2col, one row per channel and kernel tap). A block of
     * images is laid side by side, each image's columns padded with zeros to a whole number of
     * vectors, so a 4×4 micro-tile of dW accumulates one vector of partial sums per entry over
     * the whole block (8 loads feed 16 FMAs) and reduces its lanes only once, at the end. The
     * batch is split over the threads; each keeps its own partial sums, added in double at the end.
     *
     * <p>Patch rows are gathered a line of the output at a time ({@link Windows#tapLines}),
     * except for 2-D stride-1 windows over finite X: there the columns are numbered across a
     * zero-padded copy of the image, where every patch row is one contiguous run (the copy
     * shifted by the tap), and the few columns past each output row's end meet zeros in dY's
     * rows. A NaN or infinity would not vanish there, so such X is gathered line by line.
     */
    private static Tensor convWeightGradF32(Tensor x, Tensor dy, WeightGradShape s, Parallel parallel) {
        Windows.Geometry geo = s.geo();
        FloatArrays.Slice xs = FloatArrays.slice(x), dys = FloatArrays.slice(dy);
        int rows = s.cPerGroup() * s.kSize(), outSp = s.outSp(), groups = s.m() / s.mPerGroup();
        boolean padded = geo.rank() == 2 && geo.strides()[0] == 1 && geo.strides()[1] == 1 && allFinite(xs, x.size());
        int inH = (int) geo.in()[0], inW = geo.rank() == 2 ? (int) geo.in()[1] : 0, outH = (int) geo.out()[0];
        int outW = geo.rank() == 2 ? (int) geo.out()[1] : 0;
        // padded layout: row width wp, channel planes planeLength apart, tap k starting tapAt[k] into its channel's plane
        int wp = padded ? (int) (inW + geo.padBegin()[1] + geo.padEnd()[1]) : 0;
        int lanes = SPECIES.length(), span = roundUp(padded ? outH * wp : outSp, lanes);
        int[] tapAt = new int[s.kSize()];
        int kw = geo.rank() == 2 ? (int) geo.kernel()[1] : 1;
        for (int k = 0; padded && k < tapAt.length; k++) {
            tapAt[k] = (int) ((k / kw) * geo.dilations()[0] * wp + (k % kw) * geo.dilations()[1]);
        }
        int planeLength = padded ? Math.max((int) (inH + geo.padBegin()[0] + geo.padEnd()[0]) * wp, tapAt[tapAt.length - 1] + span) : 0;
        int rowsPad = roundUp(rows, TILE), mPad = roundUp(s.mPerGroup(), TILE);
        int perBlock = Math.max(1, Math.min(s.n(), BLOCK_FLOATS / ((rowsPad + mPad) * span)));
        Windows.TapLines[] taps = new Windows.TapLines[s.kSize()];
        for (int k = 0; !padded && k < taps.length; k++) taps[k] = Windows.tapLines(geo.out(), geo.in(), geo, k);
        double[] dw = new double[Math.toIntExact(Shapes.size(s.wShape()))];
        Work.pool(parallel, (long) s.n() * s.m() * rows * outSp).forRange(s.n(), (from, to) -> {
            int width = perBlock * span;
            float[] col = new float[rowsPad * width], dyRows = new float[mPad * width];
            float[] image = new float[s.cPerGroup() * planeLength];
            float[] acc = new float[groups * mPad * rowsPad * lanes];
            for (int first = (int) from; first < to; first += perBlock) {
                int images = Math.min(perBlock, (int) to - first), used = images * span;
                for (int grp = 0; grp < groups; grp++) {
                    for (int i = 0; i < images; i++) {
                        int b = first + i, xAt = xs.offset() + (b * s.c() + grp * s.cPerGroup()) * s.inSp();
                        int dyAt = dys.offset() + (b * s.m() + grp * s.mPerGroup()) * outSp;
                        // only the positions of X and dY are written: padding stays zero, the same for every image
                        if (padded) {
                            for (int ci = 0; ci < s.cPerGroup(); ci++) {
                                for (int ih = 0; ih < inH; ih++) {
                                    System.arraycopy(xs.array(), xAt + ci * s.inSp() + ih * inW, image,
                                            ci * planeLength + (int) ((ih + geo.padBegin()[0]) * wp + geo.padBegin()[1]), inW);
                                }
                            }
                            for (int r = 0; r < rows; r++) {
                                System.arraycopy(image, r / s.kSize() * planeLength + tapAt[r % s.kSize()], col, r * width + i * span, span);
                            }
                            for (int mo = 0; mo < s.mPerGroup(); mo++) {
                                for (int oh = 0; oh < outH; oh++) {
                                    System.arraycopy(dys.array(), dyAt + mo * outSp + oh * outW, dyRows, mo * width + i * span + oh * wp, outW);
                                }
                            }
                            continue;
                        }
                        for (int r = 0; r < rows; r++) {
                            Windows.gatherLines(xs.array(), xAt + r / s.kSize() * s.inSp(), taps[r % s.kSize()], col, r * width + i * span);
                        }
                        for (int mo = 0; mo < s.mPerGroup(); mo++) {
                            System.arraycopy(dys.array(), dyAt + mo * outSp, dyRows, mo * width + i * span, outSp);
                        }
                    }
                    // a block with fewer images leaves stale columns past `used`: the tiles stop there
                    for (int m0 = 0; m0 < mPad; m0 += TILE) {
                        for (int r0 = 0; r0 < rowsPad; r0 += TILE) {
                            weightGradTile(dyRows, m0 * width, col, r0 * width, width, used, acc, ((grp * mPad + m0) * rowsPad + r0) * lanes, rowsPad);
                        }
                    }
                }
            }
            double[] partial = new double[dw.length];
            for (int grp = 0; grp < groups; grp++) {
                for (int mo = 0; mo < s.mPerGroup(); mo++) {
                    for (int r = 0; r < rows; r++) {
                        int at = ((grp * mPad + mo) * rowsPad + r) * lanes;
                        partial[(grp * s.mPerGroup() + mo) * rows + r] = FloatFastPaths.sumLanes(FloatVector.fromArray(SPECIES, acc, at));
                    }
                }
            }
            synchronized (dw) {
                for (int i = 0; i < dw.length; i++) dw[i] += partial[i];
            }
        });
        float[] result = new float[dw.length];
        for (int i = 0; i < dw.length; i++) result[i] = (float) dw[i];
        return Tensor.of(result, s.wShape());
    }

    private static final VectorSpecies<Float> SPECIES = FloatFastPaths.SPECIES;

    /** True when the n elements from the slice's offset hold no NaN or infinity (x − x is 0 exactly for the others). */
    private static boolean allFinite(FloatArrays.Slice x, long n) {
        FloatVector acc = FloatVector.zero(SPECIES);
        int i = 0, at = x.offset();
        for (int bound = SPECIES.loopBound((int) n); i < bound; i += SPECIES.length()) {
            FloatVector v = FloatVector.fromArray(SPECIES, x.array(), at + i);
            acc = acc.add(v.sub(v));
        }
        float rest = 0;
        for (; i < n; i++) rest += x.array()[at + i] - x.array()[at + i];
        return FloatFastPaths.sumLanes(acc) + rest == 0;
    }

    private static int roundUp(int x, int multiple) { return (x + multiple - 1) / multiple * multiple; }

    /**
     * Lane-wise partial sums of a 4×4 tile: {@code acc[(i·rowsPad + j)·lanes ...] += a_i ⊙ b_j}
     * summed over columns [0, n), n a multiple of the vector length, for rows a_i of {@code a}
     * (from {@code aAt}) and b_j of {@code b} (from {@code bAt}), rows {@code ld} apart.
     */
    private static void weightGradTile(float[] a, int aAt, float[] b, int bAt, int ld, int n, float[] acc, int accAt, int rowsPad) {
        int lanes = SPECIES.length(), accLd = rowsPad * lanes;
        FloatVector c00 = FloatVector.fromArray(SPECIES, acc, accAt), c01 = FloatVector.fromArray(SPECIES, acc, accAt + lanes);
        FloatVector c02 = FloatVector.fromArray(SPECIES, acc, accAt + 2 * lanes), c03 = FloatVector.fromArray(SPECIES, acc, accAt + 3 * lanes);
        FloatVector c10 = FloatVector.fromArray(SPECIES, acc, accAt + accLd), c11 = FloatVector.fromArray(SPECIES, acc, accAt + accLd + lanes);
        FloatVector c12 = FloatVector.fromArray(SPECIES, acc, accAt + accLd + 2 * lanes);
        FloatVector c13 = FloatVector.fromArray(SPECIES, acc, accAt + accLd + 3 * lanes);
        FloatVector c20 = FloatVector.fromArray(SPECIES, acc, accAt + 2 * accLd), c21 = FloatVector.fromArray(SPECIES, acc, accAt + 2 * accLd + lanes);
        FloatVector c22 = FloatVector.fromArray(SPECIES, acc, accAt + 2 * accLd + 2 * lanes);
        FloatVector c23 = FloatVector.fromArray(SPECIES, acc, accAt + 2 * accLd + 3 * lanes);
        FloatVector c30 = FloatVector.fromArray(SPECIES, acc, accAt + 3 * accLd), c31 = FloatVector.fromArray(SPECIES, acc, accAt + 3 * accLd + lanes);
        FloatVector c32 = FloatVector.fromArray(SPECIES, acc, accAt + 3 * accLd + 2 * lanes);
        FloatVector c33 = FloatVector.fromArray(SPECIES, acc, accAt + 3 * accLd + 3 * lanes);
        for (int k = 0; k < n; k += lanes) {
            FloatVector a0 = FloatVector.fromArray(SPECIES, a, aAt + k), a1 = FloatVector.fromArray(SPECIES, a, aAt + ld + k);
            FloatVector a2 = FloatVector.fromArray(SPECIES, a, aAt + 2 * ld + k), a3 = FloatVector.fromArray(SPECIES, a, aAt + 3 * ld + k);
            FloatVector b0 = FloatVector.fromArray(SPECIES, b, bAt + k);
            c00 = a0.fma(b0, c00);
            c10 = a1.fma(b0, c10);
            c20 = a2.fma(b0, c20);
            c30 = a3.fma(b0, c30);
            FloatVector b1 = FloatVector.fromArray(SPECIES, b, bAt + ld + k);
            c01 = a0.fma(b1, c01);
            c11 = a1.fma(b1, c11);
            c21 = a2.fma(b1, c21);
            c31 = a3.fma(b1, c31);
            FloatVector b2 = FloatVector.fromArray(SPECIES, b, bAt + 2 * ld + k);
            c02 = a0.fma(b2, c02);
            c12 = a1.fma(b2, c12);
            c22 = a2.fma(b2, c22);
            c32 = a3.fma(b2, c32);
            FloatVector b3 = FloatVector.fromArray(SPECIES, b, bAt + 3 * ld + k);
            c03 = a0.fma(b3, c03);
            c13 = a1.fma(b3, c13);
            c23 = a2.fma(b3, c23);
            c33 = a3.fma(b3, c33);
        }
        c00.intoArray(acc, accAt);
        c01.intoArray(acc, accAt + lanes);
        c02.intoArray(acc, accAt + 2 * lanes);
        c03.intoArray(acc, accAt + 3 * lanes);
        c10.intoArray(acc, accAt + accLd);
        c11.intoArray(acc, accAt + accLd + lanes);
        c12.intoArray(acc, accAt + accLd + 2 * lanes);
        c13.intoArray(acc, accAt + accLd + 3 * lanes);
        c20.intoArray(acc, accAt + 2 * accLd);
        c21.intoArray(acc, accAt + 2 * accLd + lanes);
        c22.intoArray(acc, accAt + 2 * accLd + 2 * lanes);
        c23.intoArray(acc, accAt + 2 * accLd + 3 * lanes);
        c30.intoArray(acc, accAt + 3 * accLd);
        c31.intoArray(acc, accAt + 3 * accLd + lanes);
        c32.intoArray(acc, accAt + 3 * accLd + 2 * lanes);
        c33.intoArray(acc, accAt + 3 * accLd + 3 * lanes);
    }

    /**
     * dX of Y = MaxPool(X): each dY added at its window's maximum, chosen as {@link Pooling#pool}
     * chooses the Indices output (the first largest in window order, a NaN over any number), so
     * it lands where MaxPool's indices point. The maxima are found tap by tap over whole lines
     * of the output ({@link Windows#tapLines}). dX goes to {@code ctx}'s output 0.
     */
    public static Tensor maxPoolGrad(Tensor dy, Tensor x, Pooling.Params p, ExecContext ctx) {
        long[] xShape = x.shape();
        Windows.Geometry g = Pooling.geometry(xShape, p);
        long[] outShape = xShape.clone();
        System.arraycopy(g.out(), 0, outShape, 2, g.rank());
        if (!Arrays.equals(dy.shape(), outShape) || dy.dtype() != x.dtype()) {
            throw OnnxrunException.invalidInput("MaxPoolGrad: dY " + dy.describe() + " does not match the pooling's output "
                    + x.dtype().onnxName() + Shapes.toString(outShape));
        }
        int planes = Math.toIntExact(xShape[0] * xShape[1]);
        int inSp = Math.toIntExact(g.inSize()), outSp = Math.toIntExact(g.outSize());
        Windows.TapLines[] taps = new Windows.TapLines[Math.toIntExact(g.kernelSize())];
        for (int k = 0; k < taps.length; k++) taps[k] = Windows.tapLines(g.out(), g.in(), g, k);
        Tensor dx = ctx.output(0, x.dtype(), xShape);
        boolean fast = x.dtype() == DType.FLOAT;
        FloatArrays.Slice xf = fast ? FloatArrays.slice(x) : null, dyf = fast ? FloatArrays.slice(dy) : null;
        FloatArrays.Slice dxf = fast ? FloatArrays.slice(dx) : null;
        double[] xd = fast ? null : FloatArrays.doubles(x), dyd = fast ? null : FloatArrays.doubles(dy);
        double[] dxd = fast ? null : new double[Math.toIntExact(x.size())];
        Work.pool(ctx.parallel(), (long) planes * outSp * taps.length).forRange(planes, (from, to) -> {
            double[] max = new double[outSp];
            int[] at = new int[outSp];
            for (int pl = (int) from; pl < to; pl++) {
                int xAt = pl * inSp, yAt = pl * outSp;
                windowMaxima(fast ? xf.array() : null, xd, (fast ? xf.offset() : 0) + xAt, taps, max, at);
                if (fast) {
                    int dxAt = dxf.offset() + xAt, dyAt = dyf.offset() + yAt;
                    Arrays.fill(dxf.array(), dxAt, dxAt + inSp, 0f);
                    for (int o = 0; o < outSp; o++) if (at[o] >= 0) dxf.array()[dxAt + at[o]] += dyf.array()[dyAt + o];
                } else {
                    for (int o = 0; o < outSp; o++) if (at[o] >= 0) dxd[xAt + at[o]] += dyd[yAt + o];
                }
            }
        });
        if (!fast) {
            for (int i = 0; i < dxd.length; i++) dx.setDouble(i, dxd[i]);
        }
        return dx;
    }

    /**
     * The offset within a plane of each window's maximum, -1 for a window wholly in padding:
     * taps in kernel order, so the first of equal values wins, and a NaN wins over any number as
     * MaxPool's comparison lets it. Float32 values at {@code xf[xAt + offset]}, others at
     * {@code xd[xAt + offset]}; {@code max} is scratch.
     */
    private static void windowMaxima(float[] xf, double[] xd, int xAt, Windows.TapLines[] taps, double[] max, int[] at) {
        Arrays.fill(max, Double.NEGATIVE_INFINITY);
        Arrays.fill(at, -1);
        for (Windows.TapLines t : taps) {
            for (int l = 0; l < t.starts().length; l++) {
                int start = t.starts()[l];
                if (start < 0) continue;
                for (int j = 0, o = l * t.length() + t.lo(); j < t.hi() - t.lo(); j++, o++) {
                    int src = start + j * t.step(), a = at[o];
                    double v = xf != null ? xf[xAt + src] : xd[xAt + src], m = max[o];
                    // bit masks rather than a branch: after a ReLU, ties and near-ties make one unpredictable
                    long take = -((v > m ? 1L : 0L) | (a >>> 31) | (v != v ? 1L : 0L) & (m == m ? 1L : 0L));
                    max[o] = Double.longBitsToDouble(Double.doubleToRawLongBits(v) & take | Double.doubleToRawLongBits(m) & ~take);
                    at[o] = src & (int) take | a & ~(int) take;
                }
            }
        }
    }

    /** dX of Y = AveragePool(X): each dY spread evenly over the inputs its window counted. */
    public static Tensor averagePoolGrad(Tensor dy, long[] xShape, Pooling.Params p) {
        Windows.Geometry g = Pooling.geometry(xShape, p);
        long[] outShape = xShape.clone();
        System.arraycopy(g.out(), 0, outShape, 2, g.rank());
        if (!Arrays.equals(dy.shape(), outShape)) {
            throw OnnxrunException.invalidInput("AveragePoolGrad: dY " + dy.describe() + " does not match the pooling's output "
                    + Shapes.toString(outShape));
        }
        int planes = Math.toIntExact(xShape[0] * xShape[1]);
        int inSp = Math.toIntExact(g.inSize()), outSp = Math.toIntExact(g.outSize()), kSize = Math.toIntExact(g.kernelSize());
        double[] divisor = Pooling.averageDivisors(g, p.countIncludePad());
        int[] map = Windows.gatherMap(g.out(), g.in(), g);
        double[] dys = FloatArrays.doubles(dy);
        double[] dx = new double[Math.toIntExact(Shapes.size(xShape))];
        for (int pl = 0; pl < planes; pl++) {
            for (int o = 0; o < outSp; o++) {
                double share = dys[pl * outSp + o] / divisor[o];
                for (int k = 0; k < kSize; k++) {
                    int dst = map[k * outSp + o];
                    if (dst >= 0) dx[pl * inSp + dst] += share;
                }
            }
        }
        Tensor out = Tensor.allocate(dy.dtype(), xShape);
        for (int i = 0; i < dx.length; i++) out.setDouble(i, dx[i]);
        return out;
    }
}
