package dev.onnxrun.runtime.kernels;

import dev.onnxrun.runtime.DType;
import dev.onnxrun.runtime.ExecContext;
import dev.onnxrun.runtime.OnnxrunException;
import dev.onnxrun.runtime.Tensor;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Channel-blocked float32 tensors (NCHWc): [N, C, H, W] held as [N, ⌈C/B⌉, H, W, B], B channels
 * of one pixel side by side, B = {@link #BLOCK} (one vector). The lanes of the last block past C
 * hold whatever the producer left (finite values; nothing reads them as channels). Made by
 * {@link BlockedConv}; here the ops that pass the layout on (pooling) and the way back to plain.
 */
public final class Blocked {
    private Blocked() {}

    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    /** Channels per block: a float vector's lanes. */
    public static final int BLOCK = SPECIES.length();

    /** Blocks that hold {@code channels} channels. */
    public static int blocks(long channels) { return Math.toIntExact((channels + BLOCK - 1) / BLOCK); }

    /** The blocked shape [N, ⌈C/B⌉, spatial..., B] of a plain shape [N, C, spatial...]. */
    public static long[] shape(long[] plain) {
        long[] s = new long[plain.length + 1];
        s[0] = plain[0];
        s[1] = blocks(plain[1]);
        System.arraycopy(plain, 2, s, 2, plain.length - 2);
        s[plain.length] = BLOCK;
        return s;
    }

    /** The plain shape [N, C, spatial...] of blocked X holding {@code channels} channels; checks X's blocks. */
    public static long[] plainShape(Tensor x, long channels) {
        if (x.rank() < 3 || x.dim(x.rank() - 1) != BLOCK || x.dim(1) != blocks(channels)) {
            throw OnnxrunException.invalidInput("blocked X " + x.describe() + " does not hold " + channels + " channels in blocks of " + BLOCK
                    + (x.rank() >= 3 && x.dim(x.rank() - 1) != BLOCK ? " (compiled where vectors had other lanes: compile the model on this machine)" : ""));
        }
        long[] s = new long[x.rank() - 1];
        s[0] = x.dim(0);
        s[1] = channels;
        for (int d = 2; d < s.length; d++) s[d] = x.dim(d);
        return s;
    }

    private static void requireFloat(Tensor x, String what) {
        if (x.dtype() != DType.FLOAT) throw OnnxrunException.invalidInput(what + " needs float32, got " + x.describe());
    }

    /** Blocked X of {@code channels} channels as the plain [N, C, spatial...] tensor. */
    public static Tensor unblock(Tensor x, long channels, ExecContext ctx) {
        requireFloat(x, "unblocking");
        long[] plain = plainShape(x, channels);
        Tensor y = ctx.output(0, DType.FLOAT, plain);
        FloatArrays.Slice xs = FloatArrays.slice(x), ys = FloatArrays.slice(y);
        float[] xf = xs.array(), yf = ys.array();
        int c = (int) channels, blocks = blocks(channels), pixels = Math.toIntExact(y.size() / Math.max(1, plain[0] * channels));
        Work.pool(ctx.parallel(), y.size()).forRange(plain[0] * blocks, (from, to) -> {
            for (long nb = from; nb < to; nb++) {
                int n = (int) (nb / blocks), block = (int) (nb % blocks), lanes = Math.min(BLOCK, c - block * BLOCK);
                int src = xs.offset() + (int) nb * pixels * BLOCK, dst = ys.offset() + (n * c + block * BLOCK) * pixels;
                for (int l = 0; l < lanes; l++) {
                    for (int q = 0; q < pixels; q++) yf[dst + l * pixels + q] = xf[src + q * BLOCK + l];
                }
            }
        });
        return y;
    }

    /**
     * MaxPool or AveragePool over the two spatial axes of blocked X [N, Cb, H, W, B]: each output
     * pixel reduces the window's in-bounds pixels a block (one vector) at a time; averages divide
     * as {@link Pooling#averageDivisors}.
     */
    public static Tensor pool(Tensor x, Pooling.Kind kind, Pooling.Params p, ExecContext ctx) {
        requireFloat(x, kind + " pooling");
        if (x.rank() != 5 || x.dim(4) != BLOCK || kind == Pooling.Kind.LP) {
            throw OnnxrunException.invalidInput("blocked pooling needs max or average over X [N, C/" + BLOCK + ", H, W, " + BLOCK + "], got " + x.describe());
        }
        Windows.Geometry g = Pooling.geometry(new long[] {x.dim(0), x.dim(1), x.dim(2), x.dim(3)}, p);
        int h = (int) g.in()[0], w = (int) g.in()[1], oh = (int) g.out()[0], ow = (int) g.out()[1];
        int kh = (int) g.kernel()[0], kw = (int) g.kernel()[1], sh = (int) g.strides()[0], sw = (int) g.strides()[1];
        int dh = (int) g.dilations()[0], dw = (int) g.dilations()[1], top = (int) g.padBegin()[0], left = (int) g.padBegin()[1];
        Tensor y = ctx.output(0, DType.FLOAT, x.dim(0), x.dim(1), oh, ow, BLOCK);
        double[] divisors = kind == Pooling.Kind.AVERAGE ? Pooling.averageDivisors(g, p.countIncludePad()) : null;
        // per output row and column, the taps that land inside the input: [first, end)
        int[] rowTaps = inside(oh, sh, top, dh, kh, h), colTaps = inside(ow, sw, left, dw, kw, w);
        FloatArrays.Slice xs = FloatArrays.slice(x), ys = FloatArrays.slice(y);
        float[] xf = xs.array(), yf = ys.array();
        boolean max = kind == Pooling.Kind.MAX;
        int[] tapAt = new int[kh * kw]; // a whole window's taps, for the pixels whose window is inside the input
        for (int ky = 0; ky < kh; ky++) for (int kx = 0; kx < kw; kx++) tapAt[ky * kw + kx] = (ky * dh * w + kx * dw) * BLOCK;
        int[] inner = innerRange(colTaps, kw);
        Work.pool(ctx.parallel(), y.size() * kh * kw).forRange(x.dim(0) * x.dim(1), (from, to) -> {
            for (long plane = from; plane < to; plane++) {
                int src = xs.offset() + (int) plane * h * w * BLOCK, dst = ys.offset() + (int) plane * oh * ow * BLOCK;
                for (int oy = 0; oy < oh; oy++) {
                    int rowAt = src + (oy * sh - top) * w * BLOCK, ky0 = rowTaps[2 * oy], ky1 = rowTaps[2 * oy + 1];
                    boolean wholeRows = ky0 == 0 && ky1 == kh;
                    for (int ox = 0; ox < ow; ox++) {
                        int at = rowAt + (ox * sw - left) * BLOCK, out = dst + (oy * ow + ox) * BLOCK;
                        if (max && wholeRows && ox == inner[0] && inner[1] > inner[0]) {
                            maxRun(xf, at, sw * BLOCK, inner[1] - inner[0], tapAt, yf, out);
                            ox = inner[1] - 1;
                            continue;
                        }
                        int kx0 = colTaps[2 * ox], kx1 = colTaps[2 * ox + 1];
                        if (max) maxWindow(xf, at, ky0, ky1, dh * w * BLOCK, kx0, kx1, dw * BLOCK, yf, out);
                        else sumWindow(xf, at, ky0, ky1, dh * w * BLOCK, kx0, kx1, dw * BLOCK, yf, out, (float) (1 / divisors[oy * ow + ox]));
                    }
                }
            }
        });
        return y;
    }

    /**
     * One output pixel's block: the maximum over the window's taps [ky0, ky1) × [kx0, kx1), tap
     * (ky, kx) at {@code x[at + ky·rowStep + kx·colStep]}. (A method of its own, and one for the
     * sum: with both in one loop, squeezenet1_1's first max pool took 1.29 ms, 0.36 split.)
     */
    private static void maxWindow(float[] x, int at, int ky0, int ky1, int rowStep, int kx0, int kx1, int colStep, float[] y, int out) {
        FloatVector acc = FloatVector.broadcast(SPECIES, Float.NEGATIVE_INFINITY);
        for (int ky = ky0; ky < ky1; ky++) {
            for (int kx = kx0; kx < kx1; kx++) acc = acc.max(FloatVector.fromArray(SPECIES, x, at + ky * rowStep + kx * colStep));
        }
        acc.intoArray(y, out);
    }

    /** {@link #maxWindow}'s sum, times {@code scale}. */
    private static void sumWindow(float[] x, int at, int ky0, int ky1, int rowStep, int kx0, int kx1, int colStep, float[] y, int out, float scale) {
        FloatVector acc = FloatVector.zero(SPECIES);
        for (int ky = ky0; ky < ky1; ky++) {
            for (int kx = kx0; kx < kx1; kx++) acc = acc.add(FloatVector.fromArray(SPECIES, x, at + ky * rowStep + kx * colStep));
        }
        acc.mul(scale).intoArray(y, out);
    }

    /**
     * Max pooling of {@code count} output pixels in a row whose windows lie inside the input:
     * pixel i's taps at {@code x[at + i·step + tapAt[t]]}. Four pixels at a time, so four chains
     * of maxima run side by side (one chain waits on each max in turn: squeezenet1_1's three
     * pools standalone, one chain 0.25, 0.107, 0.061 ms; four 0.16, 0.087, 0.042). A compare and
     * blend in place of max ran 0.125, 0.058, 0.028, but drops a NaN met after the first tap;
     * with a NaN test added, 0.19, 0.10, 0.039.
     */
    private static void maxRun(float[] x, int at, int step, int count, int[] tapAt, float[] y, int out) {
        int i = 0;
        for (; i + 4 <= count; i += 4) {
            int b0 = at + i * step, b1 = b0 + step, b2 = b1 + step, b3 = b2 + step, t0 = tapAt[0];
            FloatVector m0 = FloatVector.fromArray(SPECIES, x, b0 + t0), m1 = FloatVector.fromArray(SPECIES, x, b1 + t0);
            FloatVector m2 = FloatVector.fromArray(SPECIES, x, b2 + t0), m3 = FloatVector.fromArray(SPECIES, x, b3 + t0);
            for (int t = 1; t < tapAt.length; t++) {
                int tap = tapAt[t];
                m0 = m0.max(FloatVector.fromArray(SPECIES, x, b0 + tap));
                m1 = m1.max(FloatVector.fromArray(SPECIES, x, b1 + tap));
                m2 = m2.max(FloatVector.fromArray(SPECIES, x, b2 + tap));
                m3 = m3.max(FloatVector.fromArray(SPECIES, x, b3 + tap));
            }
            int o = out + i * BLOCK;
            m0.intoArray(y, o);
            m1.intoArray(y, o + BLOCK);
            m2.intoArray(y, o + 2 * BLOCK);
            m3.intoArray(y, o + 3 * BLOCK);
        }
        for (; i < count; i++) {
            int base = at + i * step;
            FloatVector m = FloatVector.fromArray(SPECIES, x, base + tapAt[0]);
            for (int t = 1; t < tapAt.length; t++) m = m.max(FloatVector.fromArray(SPECIES, x, base + tapAt[t]));
            m.intoArray(y, out + i * BLOCK);
        }
    }

    /** The outputs [first, end) along an axis whose windows hold all {@code kernel} taps, from {@link #inside}'s table. */
    static int[] innerRange(int[] taps, int kernel) {
        int first = 0, out = taps.length / 2;
        while (first < out && (taps[2 * first] != 0 || taps[2 * first + 1] != kernel)) first++;
        int end = first;
        while (end < out && taps[2 * end] == 0 && taps[2 * end + 1] == kernel) end++;
        return new int[] {first, end};
    }

    /** For each of {@code out} outputs along an axis, the first and end tap inside [0, size). */
    static int[] inside(int out, int stride, int padBegin, int dilation, int kernel, int size) {
        int[] taps = new int[2 * out];
        for (int o = 0; o < out; o++) {
            int at = o * stride - padBegin, first = 0, end = kernel;
            while (first < kernel && at + first * dilation < 0) first++;
            while (end > first && at + (end - 1) * dilation >= size) end--;
            taps[2 * o] = first;
            taps[2 * o + 1] = end;
        }
        return taps;
    }

    /** GlobalAveragePool or GlobalMaxPool of blocked X [N, Cb, H, W, B], blocked: [N, Cb, 1, 1, B]. */
    public static Tensor global(Tensor x, Pooling.Kind kind, ExecContext ctx) {
        requireFloat(x, "global pooling");
        if (x.rank() != 5 || x.dim(4) != BLOCK || kind == Pooling.Kind.LP || x.dim(2) * x.dim(3) == 0) {
            throw OnnxrunException.invalidInput("blocked global pooling needs max or average over a non-empty X [N, C/" + BLOCK + ", H, W, "
                    + BLOCK + "], got " + x.describe());
        }
        Tensor y = ctx.output(0, DType.FLOAT, x.dim(0), x.dim(1), 1, 1, BLOCK);
        int pixels = Math.toIntExact(x.dim(2) * x.dim(3));
        FloatArrays.Slice xs = FloatArrays.slice(x), ys = FloatArrays.slice(y);
        boolean max = kind == Pooling.Kind.MAX;
        Work.pool(ctx.parallel(), x.size()).forRange(x.dim(0) * x.dim(1), (from, to) -> {
            for (long plane = from; plane < to; plane++) {
                int src = xs.offset() + (int) plane * pixels * BLOCK, out = ys.offset() + (int) plane * BLOCK;
                if (max) maxWindow(xs.array(), src, 0, 1, 0, 0, pixels, BLOCK, ys.array(), out);
                else sumWindow(xs.array(), src, 0, 1, 0, 0, pixels, BLOCK, ys.array(), out, 1f / pixels);
            }
        });
        return y;
    }
}
