package dev.onnxrun.runtime.kernels;

import dev.onnxrun.runtime.Parallel;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * Two-axis depthwise convolution (one input channel and one filter per group) on blocks of
 * vector-lanes channels held channel-minor, as ONNX Runtime's NCHWc kernels hold them, but only
 * inside the kernel: a block is transposed in, one vector per pixel holding its channels, into a
 * grid padded with zeros; each output pixel is then the sum over taps of a whole vector times the
 * tap's per-channel weights (no bounds tests, all lanes used, whatever the strides, dilations and
 * row widths); a vector's worth of output pixels at a time is transposed back to the channel
 * planes and stored through the epilogue.
 */
final class DepthwiseBlocks {
    private DepthwiseBlocks() {}

    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final int VL = SPECIES.length();

    /**
     * Whether this kernel runs the convolution: two axes, one filter per channel, and output rows
     * so narrow that the channel-by-channel kernel (vectors along rows) would leave at least half
     * its lanes idle. Elsewhere the transposes in and out cost more than the idle lanes
     * (measured on AVX-512: 7×7 outputs 20–50 % faster here, 14×14 and wider 30–100 % slower).
     */
    static boolean applies(Windows.Geometry g, int filtersPerGroup) {
        long width = g.out()[g.rank() - 1];
        return g.rank() == 2 && filtersPerGroup == 1 && 2 * width <= (width + VL - 1) / VL * VL;
    }

    static void conv(ConvFloat.Problem pr, Windows.Geometry g, float[] w, Parallel parallel) {
        Grid grid = new Grid(g);
        int channels = pr.channels(), blocks = (channels + VL - 1) / VL, taps = grid.tapAt.length;
        // per thread: the grid, then the block's weights, two tiles of VL×VL and the bias vector
        int weightsAt = grid.floats, tileAt = weightsAt + taps * VL, spareAt = tileAt + VL * VL, biasAt = spareAt + VL * VL;
        long work = (long) pr.batch() * channels * pr.outSp() * taps;
        Work.pool(parallel, work).forRange((long) pr.batch() * blocks, (from, to) -> {
            float[] s = Scratch.floats(Scratch.DEPTHWISE_GRID, biasAt + VL);
            grid.zeroPadding(s);
            for (long task = from; task < to; task++) {
                int b = (int) (task / blocks), c0 = (int) (task % blocks) * VL, count = Math.min(VL, channels - c0);
                for (int k = 0; k < taps; k++) {
                    for (int l = 0; l < VL; l++) s[weightsAt + k * VL + l] = l < count ? w[(c0 + l) * taps + k] : 0f;
                }
                for (int l = 0; l < VL; l++) s[biasAt + l] = l < count && pr.bias() != null ? pr.bias()[c0 + l] : 0f;
                grid.fill(pr.x(), pr.xAt() + (b * channels + c0) * pr.inSp(), pr.inSp(), count, s, tileAt, spareAt);
                block(pr, grid, s, weightsAt, tileAt, spareAt, biasAt, pr.yAt() + (b * pr.filters() + c0) * pr.outSp(), count);
            }
        });
    }

    /**
     * The output of one block: VL output pixels at a time, four at a time summed over the taps
     * (four independent chains) into the tile, then transposed and stored to the {@code count}
     * channel planes from {@code y[yAt]} on. (Pixels of the last tile past the output's end are
     * left as they are: their lanes are not stored.)
     */
    private static void block(ConvFloat.Problem pr, Grid grid, float[] s, int weightsAt, int tileAt, int spareAt, int biasAt, int yAt,
                              int count) {
        int n = pr.outSp(), outWidth = grid.outWidth, taps = grid.tapAt.length;
        int[] tapAt = grid.tapAt;
        FloatVector bias = FloatVector.fromArray(SPECIES, s, biasAt);
        int r = 0, c = 0; // the next pixel's output row and column
        for (int p0 = 0; p0 < n; p0 += VL) {
            int pixels = Math.min(VL, n - p0);
            for (int m = 0; m < pixels; m += 4) {
                // a group running past the last pixel repeats it (the copies are not stored), so every read stays in the grid
                int at0 = grid.at(r, c);
                if (++c == outWidth) { c = 0; r++; }
                int at1 = at0, at2 = at0, at3 = at0;
                if (m + 1 < pixels) {
                    at1 = grid.at(r, c);
                    if (++c == outWidth) { c = 0; r++; }
                }
                if (m + 2 < pixels) {
                    at2 = grid.at(r, c);
                    if (++c == outWidth) { c = 0; r++; }
                }
                if (m + 3 < pixels) {
                    at3 = grid.at(r, c);
                    if (++c == outWidth) { c = 0; r++; }
                }
                FloatVector s0 = bias, s1 = bias, s2 = bias, s3 = bias;
                for (int k = 0; k < taps; k++) {
                    FloatVector wk = FloatVector.fromArray(SPECIES, s, weightsAt + k * VL);
                    int t = tapAt[k];
                    s0 = FloatVector.fromArray(SPECIES, s, at0 + t).fma(wk, s0);
                    s1 = FloatVector.fromArray(SPECIES, s, at1 + t).fma(wk, s1);
                    s2 = FloatVector.fromArray(SPECIES, s, at2 + t).fma(wk, s2);
                    s3 = FloatVector.fromArray(SPECIES, s, at3 + t).fma(wk, s3);
                }
                s0.intoArray(s, tileAt + m * VL);
                s1.intoArray(s, tileAt + (m + 1) * VL);
                s2.intoArray(s, tileAt + (m + 2) * VL);
                s3.intoArray(s, tileAt + (m + 3) * VL);
            }
            int rows = transpose(s, tileAt, spareAt);
            store(pr, s, rows, yAt + p0, n, count, pixels);
        }
        if (!pr.act().vectorized()) {
            for (int l = 0; l < count; l++) pr.act().apply(pr.y(), yAt + l * n, yAt + (l + 1) * n, pr.residual(), pr.residualShift());
        }
    }

    /**
     * Stores channel rows {@code s[rows + l·VL]} (the first {@code pixels} of each) to the
     * channel planes from {@code y[yAt]} on, {@code n} floats apart, with the residual and the
     * activation where it has a vector form (else the caller applies both).
     */
    private static void store(ConvFloat.Problem pr, float[] s, int rows, int yAt, int n, int count, int pixels) {
        boolean fused = pr.act().vectorized();
        float[] residual = fused ? pr.residual() : null, y = pr.y();
        VectorMask<Float> part = SPECIES.indexInRange(0, pixels);
        for (int l = 0; l < count; l++) {
            int at = yAt + l * n;
            FloatVector v = FloatVector.fromArray(SPECIES, s, rows + l * VL);
            if (pixels == VL) {
                if (residual != null) v = v.add(FloatVector.fromArray(SPECIES, residual, at + pr.residualShift()));
                (fused ? pr.act().apply(v) : v).intoArray(y, at);
            } else {
                if (residual != null) v = v.add(FloatVector.fromArray(SPECIES, residual, at + pr.residualShift(), part));
                (fused ? pr.act().apply(v) : v).intoArray(y, at, part);
            }
        }
    }

    /**
     * Transposes the VL×VL floats at {@code s[at]} (VL rows of VL) in log₂ VL rounds of
     * interleaving row i with row i + VL/2, between {@code at} and {@code spare}; returns where
     * the result is.
     */
    private static int transpose(float[] s, int at, int spare) {
        int src = at, dst = spare;
        for (int round = 1; round < VL; round *= 2) {
            for (int i = 0; i < VL / 2; i++) {
                IntVector a = FloatVector.fromArray(SPECIES, s, src + i * VL).reinterpretAsInts(),
                        b = FloatVector.fromArray(SPECIES, s, src + (i + VL / 2) * VL).reinterpretAsInts();
                Gemm.ZIP_LOW.selectFrom(a, b).reinterpretAsFloats().intoArray(s, dst + 2 * i * VL);
                Gemm.ZIP_HIGH.selectFrom(a, b).reinterpretAsFloats().intoArray(s, dst + (2 * i + 1) * VL);
            }
            int t = src;
            src = dst;
            dst = t;
        }
        return src;
    }

    /**
     * The padded input of one block: grid position (u, v), u and v in padded coordinates, holds the
     * vector of the block's channels at {@code (u·columns + v)·VL}; the padding holds zeros.
     */
    private static final class Grid {
        final int height, width, padTop, padLeft, rows, columns, outWidth, strideH, strideW, floats;
        /** Per tap: its offset from the grid position of its output pixel's window corner. */
        final int[] tapAt;

        Grid(Windows.Geometry g) {
            height = (int) g.in()[0];
            width = (int) g.in()[1];
            padTop = (int) g.padBegin()[0];
            padLeft = (int) g.padBegin()[1];
            strideH = (int) g.strides()[0];
            strideW = (int) g.strides()[1];
            outWidth = (int) g.out()[1];
            int kh = (int) g.kernel()[0], kw = (int) g.kernel()[1], dh = (int) g.dilations()[0], dw = (int) g.dilations()[1];
            rows = (int) Math.max(height + padTop, (g.out()[0] - 1) * strideH + (long) (kh - 1) * dh + 1);
            columns = (int) Math.max(width + padLeft, (outWidth - 1L) * strideW + (long) (kw - 1) * dw + 1);
            floats = rows * columns * VL;
            tapAt = new int[kh * kw];
            for (int i = 0; i < kh; i++) {
                for (int j = 0; j < kw; j++) tapAt[i * kw + j] = (i * dh * columns + j * dw) * VL;
            }
        }

        /** Where the window of output pixel (r, c) starts. */
        int at(int r, int c) { return (r * strideH * columns + c * strideW) * VL; }

        /** Zeros the positions outside the input: the rows above and below it and the columns beside it. */
        void zeroPadding(float[] s) {
            java.util.Arrays.fill(s, 0, padTop * columns * VL, 0f);
            for (int u = padTop; u < padTop + height; u++) {
                java.util.Arrays.fill(s, u * columns * VL, (u * columns + padLeft) * VL, 0f);
                java.util.Arrays.fill(s, (u * columns + padLeft + width) * VL, (u + 1) * columns * VL, 0f);
            }
            java.util.Arrays.fill(s, (padTop + height) * columns * VL, floats, 0f);
        }

        /**
         * Lays out {@code count} channel planes of {@code plane} floats from {@code x[xAt]} on
         * (the block's other channels as zeros), VL pixels at a time through the tile at
         * {@code s[tileAt]}.
         */
        void fill(float[] x, int xAt, int plane, int count, float[] s, int tileAt, int spareAt) {
            int u = padTop, v = padLeft; // the next pixel's grid position
            for (int q0 = 0; q0 < plane; q0 += VL) {
                int pixels = Math.min(VL, plane - q0);
                VectorMask<Float> part = SPECIES.indexInRange(0, pixels);
                for (int l = 0; l < VL; l++) {
                    FloatVector row = l >= count ? FloatVector.zero(SPECIES)
                            : pixels == VL ? FloatVector.fromArray(SPECIES, x, xAt + l * plane + q0)
                            : FloatVector.fromArray(SPECIES, x, xAt + l * plane + q0, part);
                    row.intoArray(s, tileAt + l * VL);
                }
                int pixelsAt = transpose(s, tileAt, spareAt);
                for (int l = 0; l < pixels; l++) {
                    FloatVector.fromArray(SPECIES, s, pixelsAt + l * VL).intoArray(s, (u * columns + v) * VL);
                    if (++v == padLeft + width) {
                        v = padLeft;
                        u++;
                    }
                }
            }
        }
    }
}
