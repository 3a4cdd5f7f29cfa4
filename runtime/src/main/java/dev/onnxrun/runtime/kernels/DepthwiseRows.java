package dev.onnxrun.runtime.kernels;

import dev.onnxrun.runtime.Parallel;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * 3×3 depthwise convolution (one input channel and one filter per group, strides 1 or 2, no
 * dilation, pads of at most 1), channel by channel with the nine weights held in registers, each
 * channel walked down in strips one vector of output columns wide. At stride 1 on the channel
 * planes as they are: the three taps of a row are masked loads straight from the input row (the
 * masks zero the columns in the padding), so nothing is copied, and each input row is read once
 * for the three output rows it feeds, whose sums advance together. At stride 2 on the channel
 * laid out in its phase planes by {@link WindowPlanes}, where each tap is a plain load.
 */
final class DepthwiseRows {
    private DepthwiseRows() {}

    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final int VL = SPECIES.length();

    /**
     * Whether this kernel runs the convolution: two axes, 3×3, one filter per channel, strides 1
     * or 2 (both alike), dilations 1, pads of at most 1.
     */
    static boolean applies(Windows.Geometry g, int filtersPerGroup) {
        if (g.rank() != 2 || filtersPerGroup != 1) return false;
        for (int d = 0; d < 2; d++) {
            if (g.kernel()[d] != 3 || g.strides()[d] != g.strides()[0] || g.strides()[d] > 2 || g.dilations()[d] != 1 || g.padBegin()[d] > 1
                    || g.padEnd()[d] > 1) {
                return false;
            }
        }
        return true;
    }

    /** Y = act(conv(X, W) + B + R), channel by channel over the pool. */
    static void conv(ConvFloat.Problem pr, Windows.Geometry g, float[] w, Parallel parallel) {
        Plane p = new Plane(g);
        int channels = pr.channels();
        Activation act = pr.act();
        // a clamp with nothing added after the bias is applied in registers; else (a residual too) by a pass over each
        // finished channel: with the residual in the kernel, C1 ran out of registers on it and left it interpreted
        // until C2 came
        boolean fused = act.isClamp() && pr.residual() == null;
        float low = fused ? act.clampLow() : Float.NEGATIVE_INFINITY, high = fused ? act.clampHigh() : Float.POSITIVE_INFINITY;
        long work = (long) pr.batch() * channels * pr.outSp() * 9;
        WindowPlanes pl = p.stride == 1 ? null : WindowPlanes.of(g);
        Work.pool(parallel, work).forRange((long) pr.batch() * channels, (from, to) -> {
            float[] t = pl == null ? null : Scratch.laidOut(Scratch.WINDOW_PLANE, pl, pl.channelStride + WindowPlanes.SLACK, 0f);
            for (long bc = from; bc < to; bc++) {
                int c = (int) (bc % channels), xAt = pr.xAt() + (int) bc * pr.inSp(), yAt = pr.yAt() + (int) bc * pr.outSp();
                float bias = pr.bias() == null ? 0f : pr.bias()[c];
                if (pl == null) {
                    channel(pr.x(), xAt, p, w, c * 9, bias, low, high, pr.y(), yAt);
                } else {
                    pl.fill(pr.x(), xAt, t, 0);
                    stride2(t, pl, p.outHeight, p.outWidth, w, c * 9, bias, low, high, pr.y(), yAt);
                }
                if (!fused) act.apply(pr.y(), yAt, yAt + pr.outSp(), pr.residual(), pr.residualShift());
            }
        });
    }

    /** The sizes of one channel's input and output. */
    private static final class Plane {
        final int height, width, outHeight, outWidth, padTop, padLeft, stride;

        Plane(Windows.Geometry g) {
            height = (int) g.in()[0];
            width = (int) g.in()[1];
            outHeight = (int) g.out()[0];
            outWidth = (int) g.out()[1];
            padTop = (int) g.padBegin()[0];
            padLeft = (int) g.padBegin()[1];
            stride = (int) g.strides()[0];
        }
    }

    /**
     * One channel, {@code y[yAt..] = clamp(conv(x[xAt..]) + b, low, high)}: going down a strip,
     * input row u is read once (three shifted loads) and completes output row u + padTop − 2,
     * continues the next and starts the one after. The rows above the input add nothing, so the
     * walk starts at row 0 with the sums at the bias; the padding row below the input adds nothing
     * either, so past the last input row the sums only move on, in a loop of their own: reading a
     * row of zeros there instead (one loop choosing its source row by a test) left C2 short of
     * registers, reloading the loop's addresses from the stack every row.
     */
    private static void channel(float[] x, int xAt, Plane p, float[] w, int wAt, float b, float low, float high, float[] y, int yAt) {
        int width = p.width, outWidth = p.outWidth, end = p.outHeight + 2 - p.padTop;
        int rows = Math.min(p.height, end); // input rows read
        FloatVector w00 = FloatVector.broadcast(SPECIES, w[wAt]), w01 = FloatVector.broadcast(SPECIES, w[wAt + 1]),
                w02 = FloatVector.broadcast(SPECIES, w[wAt + 2]), w10 = FloatVector.broadcast(SPECIES, w[wAt + 3]),
                w11 = FloatVector.broadcast(SPECIES, w[wAt + 4]), w12 = FloatVector.broadcast(SPECIES, w[wAt + 5]),
                w20 = FloatVector.broadcast(SPECIES, w[wAt + 6]), w21 = FloatVector.broadcast(SPECIES, w[wAt + 7]),
                w22 = FloatVector.broadcast(SPECIES, w[wAt + 8]), bias = FloatVector.broadcast(SPECIES, b);
        for (int o = 0; o < outWidth; o += VL) {
            int col = o - p.padLeft; // the input column of the left tap of the strip's first output
            // lanes i with 0 ≤ col + i < width; col is −1 under a left pad, where indexInRange falls back to
            // code that allocates (a boolean array per mask), so this one is made from its bits
            long firstTap = (-1L << Math.max(0, -col)) & ((1L << Math.clamp(width - col, 0, VL)) - 1);
            VectorMask<Float> m0 = VectorMask.fromLong(SPECIES, firstTap), m1 = SPECIES.indexInRange(col + 1, width),
                    m2 = SPECIES.indexInRange(col + 2, width), out = SPECIES.indexInRange(o, outWidth);
            FloatVector done = bias, next = bias; // output rows u + padTop − 2 and − 1
            int u = 0, at = xAt + col;
            for (; u < rows; u++, at += width) {
                FloatVector v0 = FloatVector.fromArray(SPECIES, x, at, m0), v1 = FloatVector.fromArray(SPECIES, x, at + 1, m1),
                        v2 = FloatVector.fromArray(SPECIES, x, at + 2, m2);
                done = v2.fma(w22, v1.fma(w21, v0.fma(w20, done)));
                int r = u + p.padTop - 2;
                if (r >= 0) done.max(low).min(high).intoArray(y, yAt + r * outWidth + o, out);
                done = v2.fma(w12, v1.fma(w11, v0.fma(w10, next)));
                next = v2.fma(w02, v1.fma(w01, v0.fma(w00, bias)));
            }
            for (; u < end; u++) {
                int r = u + p.padTop - 2;
                if (r >= 0) done.max(low).min(high).intoArray(y, yAt + r * outWidth + o, out);
                done = next;
                next = bias;
            }
        }
    }

    /**
     * One channel at stride 2, laid out by {@code pl} (its phase planes: every tap a run of
     * columns) at {@code t[0..]}: output row r, vector by vector, sums its window's rows 2r + 0,
     * 1, 2; row 2r + 2 is row 2(r + 1) + 0 of the next output row's window, so its taps stay in
     * registers for it (six loads per output vector).
     */
    private static void stride2(float[] t, WindowPlanes pl, int outHeight, int outWidth, float[] w, int wAt, float b, float low, float high,
                                float[] y, int yAt) {
        int[] tap = pl.tapAt;
        int rowWidth = tap[6] - tap[0]; // columns from one output row to the next
        // the weights as channel takes them: vectors handed to or from a helper C2 does not inline are boxed
        FloatVector w00 = FloatVector.broadcast(SPECIES, w[wAt]), w01 = FloatVector.broadcast(SPECIES, w[wAt + 1]),
                w02 = FloatVector.broadcast(SPECIES, w[wAt + 2]), w10 = FloatVector.broadcast(SPECIES, w[wAt + 3]),
                w11 = FloatVector.broadcast(SPECIES, w[wAt + 4]), w12 = FloatVector.broadcast(SPECIES, w[wAt + 5]),
                w20 = FloatVector.broadcast(SPECIES, w[wAt + 6]), w21 = FloatVector.broadcast(SPECIES, w[wAt + 7]),
                w22 = FloatVector.broadcast(SPECIES, w[wAt + 8]), bias = FloatVector.broadcast(SPECIES, b);
        for (int o = 0; o < outWidth; o += VL) {
            VectorMask<Float> out = SPECIES.indexInRange(o, outWidth);
            FloatVector c0 = FloatVector.fromArray(SPECIES, t, tap[0] + o), c1 = FloatVector.fromArray(SPECIES, t, tap[1] + o),
                    c2 = FloatVector.fromArray(SPECIES, t, tap[2] + o);
            for (int r = 0; r < outHeight; r++) {
                int q = r * rowWidth + o;
                FloatVector sum = c2.fma(w02, c1.fma(w01, c0.fma(w00, bias)));
                sum = FloatVector.fromArray(SPECIES, t, tap[5] + q).fma(w12, FloatVector.fromArray(SPECIES, t, tap[4] + q).fma(w11,
                        FloatVector.fromArray(SPECIES, t, tap[3] + q).fma(w10, sum)));
                c0 = FloatVector.fromArray(SPECIES, t, tap[6] + q);
                c1 = FloatVector.fromArray(SPECIES, t, tap[7] + q);
                c2 = FloatVector.fromArray(SPECIES, t, tap[8] + q);
                sum = c2.fma(w22, c1.fma(w21, c0.fma(w20, sum)));
                sum.max(low).min(high).intoArray(y, yAt + r * outWidth + o, out);
            }
        }
    }
}
