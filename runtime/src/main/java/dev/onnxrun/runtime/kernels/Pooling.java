package dev.onnxrun.runtime.kernels;

import dev.onnxrun.runtime.DType;
import dev.onnxrun.runtime.ExecContext;
import dev.onnxrun.runtime.OnnxrunException;
import dev.onnxrun.runtime.Parallel;
import dev.onnxrun.runtime.Shapes;
import dev.onnxrun.runtime.Tensor;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** Pooling over the spatial axes of [N, C, spatial...] tensors: windowed, global, and max-unpooling. */
public final class Pooling {
    private Pooling() {}

    /** The reduction a windowed pool applies. */
    public enum Kind { MAX, AVERAGE, LP }

    /** Window attributes as parsed from the model; null arrays mean "the default". */
    public record Params(long[] kernelShape, long[] strides, long[] dilations, long[] pads, Windows.AutoPad autoPad,
                         boolean ceilMode, boolean countIncludePad, double p, boolean columnMajorIndices) {}

    public static Windows.Geometry geometry(long[] xShape, Params p) {
        if (xShape.length < 3) throw OnnxrunException.invalidInput("pooling needs X of rank >= 3, got " + Shapes.toString(xShape));
        int n = xShape.length - 2;
        if (p.kernelShape() == null || p.kernelShape().length != n) {
            throw OnnxrunException.invalidModel("kernel_shape must have " + n + " values");
        }
        return Windows.forward(Arrays.copyOfRange(xShape, 2, xShape.length), p.kernelShape(), Windows.orFill(p.strides(), n, 1, "strides"),
                Windows.orFill(p.dilations(), n, 1, "dilations"), p.pads(), p.autoPad(), p.ceilMode());
    }

    /**
     * Windowed pooling. Returns Y, and for MAX with {@code withIndices} also the int64 flat index
     * (row-major over the whole input, or column-major over the spatial axes when asked) of each maximum.
     */
    public static Tensor[] pool(Tensor x, Kind kind, Params p, boolean withIndices, ExecContext ctx) {
        Parallel parallel = ctx.parallel();
        Windows.Geometry g = geometry(x.shape(), p);
        long[] outShape = x.shape();
        System.arraycopy(g.out(), 0, outShape, 2, g.rank());
        int planes = Math.toIntExact(x.dim(0) * x.dim(1));
        int inSp = Math.toIntExact(g.inSize()), outSp = Math.toIntExact(g.outSize()), kSize = Math.toIntExact(g.kernelSize());
        if ((long) planes * outSp == 0) {
            Tensor empty = Tensor.allocate(x.dtype(), outShape);
            return withIndices ? new Tensor[] {empty, Tensor.allocate(DType.INT64, outShape)} : new Tensor[] {empty};
        }
        double[] divisor = kind == Kind.AVERAGE ? averageDivisors(g, p.countIncludePad()) : null;
        if (x.dtype() == DType.FLOAT && kind != Kind.LP && !withIndices) {
            FloatArrays.Slice xs = FloatArrays.slice(x);
            Tensor y = ctx.output(0, DType.FLOAT, outShape);
            FloatArrays.Slice ys = FloatArrays.slice(y);
            float[] xf = xs.array(), yf = ys.array();
            int xAt = xs.offset(), yAt = ys.offset();
            float[] counts = null;
            if (divisor != null) {
                counts = new float[outSp];
                for (int o = 0; o < outSp; o++) counts[o] = (float) divisor[o];
            }
            float[] divisors = counts;
            boolean max = kind == Kind.MAX, rows = g.rank() == 2 && g.strides()[1] <= 2 && g.dilations()[0] == 1 && g.dilations()[1] == 1;
            Work.pool(parallel, (long) planes * outSp * kSize).forRange(planes, (from, to) -> {
                if (rows) {
                    // one padded row per output row, wide enough for whole vectors past the windows (and split in halves)
                    int width = 2 * (int) ((Math.max(g.in()[1] + g.padBegin()[1], (g.out()[1] - 1) * g.strides()[1] + g.kernel()[1])
                            + 4 * SPECIES.length() + 1) / 2);
                    int length = (int) g.out()[0] * width + SPECIES.length();
                    float[] reduced = Scratch.floats(Scratch.POOL_ROWS, length), phases = Scratch.floats(Scratch.POOL_PHASES, length);
                    Arrays.fill(reduced, 0, length, max ? Float.NEGATIVE_INFINITY : 0f); // padding never wins, or adds nothing
                    for (int pl = (int) from; pl < to; pl++) poolRows(xf, xAt + pl * inSp, g, reduced, phases, width, yf, yAt + pl * outSp, max, divisors);
                    return;
                }
                WindowPlanes layout = WindowPlanes.of(g);
                // padding never wins
                float[] t = Scratch.laidOut(Scratch.WINDOW_PLANE, layout, layout.channelStride + WindowPlanes.SLACK, max ? Float.NEGATIVE_INFINITY : 0f);
                for (int pl = (int) from; pl < to; pl++) {
                    layout.fill(xf, xAt + pl * inSp, t, 0);
                    poolPlane(t, layout, yf, yAt + pl * outSp, max, divisors);
                }
            });
            return new Tensor[] {y};
        }
        int[] map = Windows.gatherMap(g.out(), g.in(), g);
        double[] xs = FloatArrays.doubles(x);
        double[] ys = new double[planes * outSp];
        long[] idx = withIndices ? new long[planes * outSp] : null;
        long[] inStrides = Shapes.strides(g.in());
        Work.pool(parallel, (long) planes * outSp * kSize).forRange(planes, (from, to) -> {
            long[] coord = new long[g.rank()];
            for (int pl = (int) from; pl < to; pl++) {
                int xAt = pl * inSp, yAt = pl * outSp;
                for (int o = 0; o < outSp; o++) {
                    double acc = kind == Kind.MAX ? Double.NEGATIVE_INFINITY : 0;
                    int best = -1;
                    for (int k = 0; k < kSize; k++) {
                        int src = map[k * outSp + o];
                        if (src < 0) continue;
                        double v = xs[xAt + src];
                        switch (kind) {
                            case MAX -> {
                                if (v > acc || best < 0 || Double.isNaN(v) && !Double.isNaN(acc)) {
                                    acc = v;
                                    best = src;
                                }
                            }
                            case AVERAGE -> acc += v;
                            case LP -> acc += Math.pow(Math.abs(v), p.p());
                        }
                    }
                    ys[yAt + o] = switch (kind) {
                        case MAX -> acc;
                        case AVERAGE -> acc / divisor[o];
                        case LP -> Math.pow(acc, 1 / p.p());
                    };
                    if (idx != null) {
                        long spatialIndex = best;
                        if (p.columnMajorIndices() && best >= 0) {
                            Windows.unravel(best, g.in(), coord);
                            spatialIndex = 0;
                            long stride = 1;
                            for (int d = 0; d < coord.length; d++) {
                                spatialIndex += coord[d] * stride;
                                stride *= g.in()[d];
                            }
                        }
                        idx[yAt + o] = (long) pl * inSp + spatialIndex;
                    }
                }
            }
        });
        Tensor y = FloatArrays.fromDoubles(x.dtype(), ys, outShape);
        return idx == null ? new Tensor[] {y} : new Tensor[] {y, Tensor.of(idx, outShape)};
    }

    /**
     * Per output position, how many window elements the average divides by: those inside the
     * input, or with {@code countIncludePad} also those in the explicit padding (never those
     * beyond it, which only ceil mode reaches). Inside-ness is per axis, so the count is a
     * product over axes.
     */
    public static double[] averageDivisors(Windows.Geometry g, boolean countIncludePad) {
        int n = g.rank();
        double[][] perAxis = new double[n][];
        for (int d = 0; d < n; d++) {
            long lo = countIncludePad ? -g.padBegin()[d] : 0, hi = g.in()[d] + (countIncludePad ? g.padEnd()[d] : 0);
            perAxis[d] = new double[(int) g.out()[d]];
            for (int o = 0; o < g.out()[d]; o++) {
                for (long k = 0; k < g.kernel()[d]; k++) {
                    long c = o * g.strides()[d] - g.padBegin()[d] + k * g.dilations()[d];
                    if (c >= lo && c < hi) perAxis[d][o]++;
                }
            }
        }
        int outSp = Math.toIntExact(g.outSize());
        double[] div = new double[outSp];
        long[] coord = new long[n];
        for (int o = 0; o < outSp; o++) {
            Windows.unravel(o, g.out(), coord);
            double count = 1;
            for (int d = 0; d < n; d++) count *= perAxis[d][(int) coord[d]];
            div[o] = count;
        }
        return div;
    }

    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    /**
     * Output rows {@link #maxColumns3} takes a block at a time, reduced first, so its unaligned
     * loads read rows stored a while before, not the stores just made.
     */
    private static final int ROW_BLOCK = 8;

    /**
     * Max or average pooling of one float32 plane laid out by {@code layout}: per output vector,
     * the maximum or the sum (then divided by {@code divisors}) over the window's taps.
     */
    private static void poolPlane(float[] t, WindowPlanes layout, float[] y, int yAt, boolean max, float[] divisors) {
        int[] taps = layout.tapAt;
        for (int v = 0; v < layout.vectorColumn.length; v++) {
            int q = layout.vectorColumn[v], out = layout.vectorOut[v];
            FloatVector acc = FloatVector.fromArray(SPECIES, t, taps[0] + q);
            for (int k = 1; k < taps.length; k++) {
                FloatVector x = FloatVector.fromArray(SPECIES, t, taps[k] + q);
                acc = max ? acc.max(x) : acc.add(x);
            }
            VectorMask<Float> inside = SPECIES.indexInRange(0, layout.vectorLength[v]);
            if (!max) acc = acc.div(FloatVector.fromArray(SPECIES, divisors, out, inside));
            acc.intoArray(y, yAt + out, inside);
        }
    }

    /**
     * One plane of a 2-D max or average pool with horizontal stride 1 or 2 and no dilation: the
     * window rows reduced into {@code rows} (one padded row per output row: the padding keeps the
     * value it was filled with), then, for stride 2, each row split into its even and odd
     * columns ({@code phases}), then the window columns reduced from contiguous runs. Each pass
     * finishes the plane before the next reads it, so no load waits on a store just made, and
     * each is a method of its own (as one method, C2 kept values of two of its loops on the
     * stack), the 3-wide max window unrolled: 128 channels 55→27 0.151 → 0.125 ms, 256 channels
     * 27→13 0.091 → 0.069 (one thread, Intel Xeon). Where that window's output rows are longer
     * than a vector, the rows go {@link #ROW_BLOCK} at a time and their columns are split in
     * registers instead ({@link #maxColumns3}), the split's stores and loads saved. Medians of six
     * JVMs, one thread, AMD EPYC: 64 planes 111×111 → 55×55 0.212 → 0.147 ms, ResNet's 64 planes
     * 112×112 padded → 56×56 0.198 → 0.144, 128 planes 55×55 → 27×27 0.102 → 0.095; 256 planes
     * 27×27 → 13×13 (one vector of outputs a row) measured no faster, so they keep the split.
     */
    private static void poolRows(float[] x, int xAt, Windows.Geometry g, float[] rows, float[] phases, int width, float[] y, int yAt,
                                 boolean max, float[] divisors) {
        int outH = (int) g.out()[0], outW = (int) g.out()[1], kw = (int) g.kernel()[1], sw = (int) g.strides()[1];
        if (sw == 2 && max && kw == 3 && outW > SPECIES.length()) {
            for (int from = 0; from < outH; from += ROW_BLOCK) {
                int to = Math.min(outH, from + ROW_BLOCK);
                reduceRows(x, xAt, g, rows, width, true, from, to);
                maxColumns3(rows, width, to - from, outW, y, yAt + from * outW);
            }
            return;
        }
        reduceRows(x, xAt, g, rows, width, max, 0, outH);
        if (sw == 2) {
            // where a row's odd columns start in phases; column pairs the windows reach
            int half = width / 2, pairs = (Math.max((int) (g.padBegin()[1] + g.in()[1]), (outW - 1) * sw + kw) + 1) / 2;
            splitPhases(rows, phases, outH, width, pairs);
            if (max && kw == 3) maxPhases3(phases, half, outH, width, outW, y, yAt); // ResNet's and SqueezeNet's pools
            else reduceColumns(phases, width, half, kw, sw, outH, outW, y, yAt, max, divisors);
        } else {
            reduceColumns(rows, width, 0, kw, sw, outH, outW, y, yAt, max, divisors);
        }
    }

    /** The maximum (or the sum) over the window rows of output rows {@code from..to}, row oh into {@code rows[(oh − from)·width + padLeft ..]}. */
    private static void reduceRows(float[] x, int xAt, Windows.Geometry g, float[] rows, int width, boolean max, int from, int to) {
        int inH = (int) g.in()[0], inW = (int) g.in()[1], kh = (int) g.kernel()[0], sh = (int) g.strides()[0];
        int padTop = (int) g.padBegin()[0], padLeft = (int) g.padBegin()[1], vl = SPECIES.length(), whole = SPECIES.loopBound(inW);
        VectorMask<Float> tail = SPECIES.indexInRange(whole, inW);
        for (int oh = from; oh < to; oh++) {
            int first = Math.max(0, oh * sh - padTop), last = Math.min(inH, oh * sh - padTop + kh), at = (oh - from) * width + padLeft;
            int c = 0;
            for (; c < whole; c += vl) { // unmasked: a mask per vector costs as much as the max
                FloatVector acc = FloatVector.fromArray(SPECIES, x, xAt + first * inW + c);
                for (int ih = first + 1; ih < last; ih++) {
                    FloatVector e = FloatVector.fromArray(SPECIES, x, xAt + ih * inW + c);
                    acc = max ? acc.max(e) : acc.add(e);
                }
                acc.intoArray(rows, at + c);
            }
            if (c < inW) {
                FloatVector acc = FloatVector.fromArray(SPECIES, x, xAt + first * inW + c, tail);
                for (int ih = first + 1; ih < last; ih++) {
                    FloatVector e = FloatVector.fromArray(SPECIES, x, xAt + ih * inW + c, tail);
                    acc = max ? acc.max(e) : acc.add(e);
                }
                acc.intoArray(rows, at + c, tail);
            }
        }
    }

    /** Each of {@code outH} rows of {@code rows} split into its even columns, then (from width/2) its odd ones, in {@code phases}. */
    private static void splitPhases(float[] rows, float[] phases, int outH, int width, int pairs) {
        int vl = SPECIES.length(), half = width / 2;
        for (int oh = 0; oh < outH; oh++) {
            int at = oh * width;
            for (int c = 0; c < pairs; c += vl) {
                IntVector a = FloatVector.fromArray(SPECIES, rows, at + 2 * c).reinterpretAsInts();
                IntVector b = FloatVector.fromArray(SPECIES, rows, at + 2 * c + vl).reinterpretAsInts();
                WindowPlanes.EVERY_2ND.selectFrom(a, b).reinterpretAsFloats().intoArray(phases, at + c);
                WindowPlanes.ODD_OF_2.selectFrom(a, b).reinterpretAsFloats().intoArray(phases, at + half + c);
            }
        }
    }

    /** The common 3-wide, stride-2 max window, unrolled: output j is the maximum of even[j], odd[j] and even[j + 1]. */
    private static void maxPhases3(float[] phases, int half, int outH, int width, int outW, float[] y, int yAt) {
        int vl = SPECIES.length();
        VectorMask<Float> tail = SPECIES.indexInRange(outW / vl * vl, outW);
        for (int oh = 0; oh < outH; oh++) {
            int at = oh * width, out = yAt + oh * outW, ow = 0;
            for (; ow + vl <= outW; ow += vl) {
                FloatVector.fromArray(SPECIES, phases, at + ow).max(FloatVector.fromArray(SPECIES, phases, at + half + ow))
                        .max(FloatVector.fromArray(SPECIES, phases, at + ow + 1)).intoArray(y, out + ow);
            }
            if (ow < outW) {
                FloatVector.fromArray(SPECIES, phases, at + ow).max(FloatVector.fromArray(SPECIES, phases, at + half + ow))
                        .max(FloatVector.fromArray(SPECIES, phases, at + ow + 1)).intoArray(y, out + ow, tail);
            }
        }
    }

    /**
     * The 3-wide, stride-2 max window over {@code n} reduced, padded rows: output j of a row is
     * the maximum of its columns 2j, 2j + 1 and 2j + 2, the even and odd ones picked out in
     * registers.
     */
    private static void maxColumns3(float[] rows, int width, int n, int outW, float[] y, int yAt) {
        int vl = SPECIES.length();
        VectorMask<Float> tail = SPECIES.indexInRange(outW / vl * vl, outW);
        for (int r = 0; r < n; r++) {
            int out = yAt + r * outW;
            for (int ow = 0; ow < outW; ow += vl) {
                int at = r * width + 2 * ow;
                IntVector a = FloatVector.fromArray(SPECIES, rows, at).reinterpretAsInts(), b = FloatVector.fromArray(SPECIES, rows, at + vl).reinterpretAsInts();
                IntVector c = FloatVector.fromArray(SPECIES, rows, at + 2).reinterpretAsInts(), d = FloatVector.fromArray(SPECIES, rows, at + 2 + vl).reinterpretAsInts();
                FloatVector m = WindowPlanes.EVERY_2ND.selectFrom(a, b).reinterpretAsFloats().max(WindowPlanes.ODD_OF_2.selectFrom(a, b).reinterpretAsFloats())
                        .max(WindowPlanes.EVERY_2ND.selectFrom(c, d).reinterpretAsFloats());
                if (ow + vl <= outW) m.intoArray(y, out + ow);
                else m.intoArray(y, out + ow, tail);
            }
        }
    }

    /**
     * The window columns of each output reduced, then for an average divided by {@code divisors}:
     * at horizontal stride 1 window column v of output j is {@code src[row + v + j]}; at stride 2
     * {@code src} holds each row's even columns and, from {@code half}, its odd ones.
     */
    private static void reduceColumns(float[] src, int width, int half, int kw, int sw, int outH, int outW, float[] y, int yAt,
                                      boolean max, float[] divisors) {
        int vl = SPECIES.length();
        VectorMask<Float> tail = SPECIES.indexInRange(outW / vl * vl, outW);
        for (int oh = 0; oh < outH; oh++) {
            int at = oh * width, out = yAt + oh * outW;
            for (int ow = 0; ow < outW; ow += vl) {
                FloatVector acc = FloatVector.fromArray(SPECIES, src, at + ow);
                for (int v = 1; v < kw; v++) {
                    FloatVector e = FloatVector.fromArray(SPECIES, src, at + (sw == 2 ? v % 2 * half + v / 2 : v) + ow);
                    acc = max ? acc.max(e) : acc.add(e);
                }
                boolean whole = ow + vl <= outW;
                if (!max) acc = acc.div(whole ? FloatVector.fromArray(SPECIES, divisors, oh * outW + ow)
                        : FloatVector.fromArray(SPECIES, divisors, oh * outW + ow, tail));
                if (whole) acc.intoArray(y, out + ow);
                else acc.intoArray(y, out + ow, tail);
            }
        }
    }

    /** The mean (or the maximum) of the n floats at {@code x[at]}; the mean of none is NaN, the maximum −∞. */
    private static float planeReduce(float[] x, int at, int n, boolean max) {
        FloatVector acc = FloatVector.broadcast(SPECIES, max ? Float.NEGATIVE_INFINITY : 0f);
        int i = 0;
        for (int upper = SPECIES.loopBound(n); i < upper; i += SPECIES.length()) {
            FloatVector v = FloatVector.fromArray(SPECIES, x, at + i);
            acc = max ? acc.max(v) : acc.add(v);
        }
        float r = acc.reduceLanes(max ? VectorOperators.MAX : VectorOperators.ADD);
        for (; i < n; i++) r = max ? Math.max(r, x[at + i]) : r + x[at + i];
        return max ? r : r / n;
    }

    /**
     * GlobalAveragePool, GlobalMaxPool and GlobalLpPool: one value per (image, channel), spatial
     * axes kept as 1; float32 average and max into the output {@code ctx} plans.
     */
    public static Tensor global(Tensor x, Kind kind, double p, ExecContext ctx) {
        if (x.rank() < 2) throw OnnxrunException.invalidInput("global pooling needs X of rank >= 2, got " + x.describe());
        long[] outShape = x.shape();
        for (int d = 2; d < outShape.length; d++) outShape[d] = 1;
        long planes = x.dim(0) * x.dim(1), plane = planes == 0 ? 0 : x.size() / planes;
        if (x.dtype() == DType.FLOAT && kind != Kind.LP) {
            // float32 read where it lies, each plane summed (or maximized) a vector at a time
            FloatArrays.Slice xs = FloatArrays.slice(x);
            Tensor y = ctx.output(0, DType.FLOAT, outShape);
            FloatArrays.Slice ys = FloatArrays.slice(y);
            for (int pl = 0; pl < planes; pl++) {
                ys.array()[ys.offset() + pl] = planeReduce(xs.array(), xs.offset() + (int) (pl * plane), (int) plane, kind == Kind.MAX);
            }
            return y;
        }
        double[] xs = FloatArrays.doubles(x), ys = new double[(int) planes];
        for (int pl = 0; pl < planes; pl++) {
            double acc = kind == Kind.MAX ? Double.NEGATIVE_INFINITY : 0;
            for (int i = (int) (pl * plane), end = (int) (i + plane); i < end; i++) {
                double v = xs[i];
                acc = switch (kind) {
                    case MAX -> Math.max(acc, v);
                    case AVERAGE -> acc + v;
                    case LP -> acc + Math.pow(Math.abs(v), p);
                };
            }
            ys[pl] = switch (kind) {
                case MAX -> acc;
                case AVERAGE -> acc / plane;
                case LP -> Math.pow(acc, 1 / p);
            };
        }
        return FloatArrays.fromDoubles(x.dtype(), ys, outShape);
    }

    /**
     * MaxUnpool: scatters X into a zero tensor at the flat indices I. The output shape is
     * {@code outputShape} when given, else the shape the matching MaxPool would have read.
     */
    public static Tensor maxUnpool(Tensor x, Tensor indices, long[] outputShape, Params p) {
        if (x.rank() < 3) throw OnnxrunException.invalidInput("MaxUnpool needs X of rank >= 3, got " + x.describe());
        if (!Arrays.equals(x.shape(), indices.shape())) {
            throw OnnxrunException.invalidInput("MaxUnpool indices " + indices.describe() + " must match X " + x.describe());
        }
        int n = x.rank() - 2;
        // Indices address the shape MaxPool read; an explicit output_shape only adds room after it.
        long[] pooledShape = x.shape();
        long[] strides = Windows.orFill(p.strides(), n, 1, "strides"), pads = Windows.orFill(p.pads(), 2 * n, 0, "pads");
        long[] kernel = Windows.orFill(p.kernelShape(), n, 1, "kernel_shape");
        for (int d = 0; d < n; d++) pooledShape[d + 2] = (x.dim(d + 2) - 1) * strides[d] + kernel[d] - pads[d] - pads[d + n];
        long[] outShape = pooledShape;
        if (outputShape != null) {
            if (outputShape.length != x.rank()) throw OnnxrunException.invalidInput("MaxUnpool output_shape must have rank " + x.rank());
            for (int d = 0; d < outputShape.length; d++) {
                if (outputShape[d] < pooledShape[d]) {
                    throw OnnxrunException.invalidInput("MaxUnpool output_shape " + Arrays.toString(outputShape)
                            + " is smaller than the pooled input " + Arrays.toString(pooledShape));
                }
            }
            outShape = outputShape.clone();
        }
        Tensor y = Tensor.allocate(x.dtype(), outShape);
        long pooledSize = Shapes.size(pooledShape);
        long[] outStrides = Shapes.strides(outShape), coord = new long[outShape.length];
        for (long i = 0; i < x.size(); i++) {
            long at = indices.getLong(i);
            if (at < 0 || at >= pooledSize) {
                throw OnnxrunException.invalidInput("MaxUnpool index " + at + " is outside the pooled shape " + Arrays.toString(pooledShape));
            }
            Windows.unravel(at, pooledShape, coord);
            long dst = 0;
            for (int d = 0; d < coord.length; d++) dst += coord[d] * outStrides[d];
            y.setFrom(dst, x, i);
        }
        return y;
    }
}
