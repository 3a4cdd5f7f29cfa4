package dev.onnxrun.runtime.kernels;

import dev.onnxrun.runtime.Parallel;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * 3×3 depthwise convolution (one input channel and one filter per group, strides 1 or 2, no
 * dilation, pads of at most 1), channel by channel with the nine weights held in registers, each
 * channel walked down in strips one vector of output columns wide. At stride 1 on the channel
 * planes as they are: the three taps of a row are masked loads straight from the input row (the
 * masks zero the columns in the padding), so nothing is copied, and each input row is read once
 * for the three output rows it feeds, whose sums advance together. At stride 2 also on the input
 * as it is, each row's vectors split into even and odd columns in registers.
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
        Work.pool(parallel, work).forRange((long) pr.batch() * channels, (from, to) -> {
            for (long bc = from; bc < to; bc++) {
                int c = (int) (bc % channels), xAt = pr.xAt() + (int) bc * pr.inSp(), yAt = pr.yAt() + (int) bc * pr.outSp();
                float bias = pr.bias() == null ? 0f : pr.bias()[c];
                float[] x = pr.x();
                if (xAt < 1 || xAt + pr.inSp() + 2 * VL > x.length) {
                    // the kernels' vector loads reach a column before the channel and up to two vectors past it; where that
                    // is outside the array (a tensor's first or last channel), a masked load checks its lanes one by one on a
                    // slow path, which the loops' compiled code then carries: such a channel runs on a copy with room around
                    // it, so the kernels' loads never leave their array (mobilenet_v2, eight JVMs each, alternated: 6.02–6.43
                    // ms against 6.14–6.86)
                    float[] copy = Scratch.floats(Scratch.WINDOW_PLANE, pr.inSp() + 3 * VL);
                    System.arraycopy(x, xAt, copy, VL, pr.inSp());
                    x = copy;
                    xAt = VL;
                }
                if (p.stride == 1) channel(x, xAt, p, w, c * 9, bias, low, high, pr.y(), yAt);
                else stride2(x, xAt, p, w, c * 9, bias, low, high, pr.y(), yAt);
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
            VectorMask<Float> m0 = VectorMask.fromLong(SPECIES, inRow(col, width)), m1 = SPECIES.indexInRange(col + 1, width),
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

    /** Lane i picks lane 2i + 2 of two vectors, the last lane (whose element is past both) lane 2·VL − 1, to be replaced. */
    private static final IntVector RIGHT_OF_2 = Gemm.lanes(i -> Math.min(2 * i + 2, 2 * VL - 1));

    /**
     * One channel at stride 2, {@code y[yAt..] = clamp(conv(x[xAt..]) + b, low, high)}, read in
     * place: a strip of outputs takes its left, middle and right taps from two vectors of an input
     * row, split into even and odd columns in registers (the masks zero the columns outside the
     * row; the right tap of a full strip's last output is one column further, read on its own).
     * Input row u is read once: an odd row (counting from the top padding) is the middle row of one
     * output row's window, an even one the bottom row of the window above and the top row of the
     * next, so the sums of one output row are carried down. Only the last output row's bottom row
     * may lie in the padding.
     */
    private static void stride2(float[] x, int xAt, Plane p, float[] w, int wAt, float b, float low, float high, float[] y, int yAt) {
        int width = p.width, outWidth = p.outWidth, outHeight = p.outHeight, padTop = p.padTop;
        int rows = Math.min(p.height, 2 * outHeight - padTop + 1); // input rows read
        FloatVector w00 = FloatVector.broadcast(SPECIES, w[wAt]), w01 = FloatVector.broadcast(SPECIES, w[wAt + 1]),
                w02 = FloatVector.broadcast(SPECIES, w[wAt + 2]), w10 = FloatVector.broadcast(SPECIES, w[wAt + 3]),
                w11 = FloatVector.broadcast(SPECIES, w[wAt + 4]), w12 = FloatVector.broadcast(SPECIES, w[wAt + 5]),
                w20 = FloatVector.broadcast(SPECIES, w[wAt + 6]), w21 = FloatVector.broadcast(SPECIES, w[wAt + 7]),
                w22 = FloatVector.broadcast(SPECIES, w[wAt + 8]), bias = FloatVector.broadcast(SPECIES, b);
        for (int o = 0; o < outWidth; o += VL) {
            int col = 2 * o - p.padLeft; // the input column of the left tap of the strip's first output
            // the last lane's right tap, when that lane is an output and the tap is not in the padding
            boolean lastTap = o + VL <= outWidth && col + 2 * VL < width;
            VectorMask<Float> first = VectorMask.fromLong(SPECIES, inRow(col, width)), second = VectorMask.fromLong(SPECIES, inRow(col + VL, width)),
                    out = SPECIES.indexInRange(o, outWidth);
            FloatVector sums = bias; // of output row (u + padTop) / 2
            for (int u = 0, at = xAt + col; u < rows; u++, at += width) {
                IntVector a = FloatVector.fromArray(SPECIES, x, at, first).reinterpretAsInts(),
                        c = FloatVector.fromArray(SPECIES, x, at + VL, second).reinterpretAsInts();
                FloatVector left = WindowPlanes.EVERY_2ND.selectFrom(a, c).reinterpretAsFloats(),
                        middle = WindowPlanes.ODD_OF_2.selectFrom(a, c).reinterpretAsFloats(), right = RIGHT_OF_2.selectFrom(a, c).reinterpretAsFloats();
                right = right.withLane(VL - 1, lastTap ? x[at + 2 * VL] : 0f);
                if (((u + padTop) & 1) == 1) {
                    sums = right.fma(w12, middle.fma(w11, left.fma(w10, sums)));
                } else {
                    int r = (u + padTop) >> 1; // the output row this input row is the top of
                    if (r > 0) right.fma(w22, middle.fma(w21, left.fma(w20, sums))).max(low).min(high).intoArray(y, yAt + (r - 1) * outWidth + o, out);
                    sums = right.fma(w02, middle.fma(w01, left.fma(w00, bias)));
                }
            }
            // the last output row's window ends in the bottom padding
            if (2 * outHeight - padTop >= rows) sums.max(low).min(high).intoArray(y, yAt + (outHeight - 1) * outWidth + o, out);
        }
    }

    /**
     * The bits of the lanes i with 0 ≤ start + i < width, for a mask made from them: indexInRange
     * falls back to code that allocates (a boolean array per mask) where start is negative. Small
     * enough for C2 to inline wherever it is called, and built of Math.min and max, which it
     * always inlines: Math.clamp, not inlined in some JVMs, left calls in the kernels' strip loops,
     * around which the nine weight vectors went to the stack, and stayed there in the row loops
     * (50-odd stack accesses a step in two JVMs of five).
     */
    private static long inRow(int start, int width) {
        return (-1L << Math.max(0, Math.min(VL, -start))) & ((1L << Math.max(0, Math.min(VL, width - start))) - 1);
    }
}
