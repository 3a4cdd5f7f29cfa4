package dev.onnxrun.runtime.kernels;

import dev.onnxrun.runtime.Parallel;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * Winograd's minimal filtering F(m×m, 3×3) for float32 3×3 convolutions with stride and
 * dilation 1 and one group: the output is cut into m×m tiles, each read from an n×n input
 * tile (n = m + 2). With the input tiles transformed (Bᵀ d B) and the filters transformed once
 * (G g Gᵀ), the convolution becomes n² independent products, one per transformed position ξ:
 * M_ξ[filters × tiles] = U_ξ[filters × channels] · V_ξ[channels × tiles], whose outputs are
 * transformed back (Aᵀ M A). F(4×4, 3×3) does 36 multiply-adds per channel and 16 outputs where
 * the direct form does 144; F(2×2, 3×3) 16 per 4 outputs against 36. The transforms run on 16
 * tiles at a time, one tile per vector lane.
 */
final class Winograd {
    private Winograd() {}

    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final int VL = SPECIES.length(), MR = Gemm.MR, NR = Gemm.NR, KC = Gemm.KC;

    /**
     * F(m×m, 3×3) from the interpolation points 0, ±1 (and ±2 for m = 4) and ∞: its filter
     * matrix G (n×3, row-major) here, its input (Bᵀ) and output (Aᵀ) matrices written out in
     * {@link #inputRows} and {@link #outputRows}.
     */
    enum Tiling {
        F2(2, new double[] {
            1, 0, 0,
            0.5, 0.5, 0.5,
            0.5, -0.5, 0.5,
            0, 0, 1}),
        F4(4, new double[] {
            1 / 4.0, 0, 0,
            -1 / 6.0, -1 / 6.0, -1 / 6.0,
            -1 / 6.0, 1 / 6.0, -1 / 6.0,
            1 / 24.0, 1 / 12.0, 1 / 6.0,
            1 / 24.0, -1 / 12.0, 1 / 6.0,
            0, 0, 1});

        /** Output tile size m, input tile size n = m + 2. */
        final int m, n;
        private final double[] filter;

        Tiling(int m, double[] filter) {
            this.m = m;
            this.n = m + 2;
            this.filter = filter;
        }
    }

    /** Whether a convolution suits Winograd: 3×3, strides and dilations 1, one group, 2-D. */
    static boolean applies(Windows.Geometry g, int groups) {
        if (g.rank() != 2 || groups != 1) return false;
        for (int d = 0; d < 2; d++) {
            if (g.kernel()[d] != 3 || g.strides()[d] != 1 || g.dilations()[d] != 1) return false;
        }
        return true;
    }

    /**
     * Multiply-adds one transformed element costs, as {@link #choose} counts. 30 had squeezenet's
     * 16→64-channel 3×3 on 55×55 and 64→256 on 13×13 run by Winograd, 1.9–2.0× and 1.6–1.8× ONNX
     * Runtime's time; the direct forms measured 1.5–1.6× and 1.45–1.5× (one thread, one-node
     * models, load 4), while resnet's layers kept the tiling they had (F4 on 56×56 and 28×28:
     * 1.23–1.30× and 1.07× against 1.40× and 1.31× direct). 70 since the direct GEMM packs
     * panels of outputs alone ({@link WindowPlanes#outputPanels}): squeezenet's 32→128 3×3 on
     * 27×27 then ran 0.31–0.32 ms direct against 0.34 by F4 at one thread, 0.19 against 0.24 at
     * two; resnet's layers keep F4 up to 87.
     */
    private static final double TRANSFORM_COST = 70;

    /**
     * The tiling that makes this convolution cheapest, or null where the direct GEMM is: by
     * multiply-adds of the products (tiles rounded up to whole GEMM panels, as computed) plus
     * the transforms (weighted by their measured cost per element, {@link #TRANSFORM_COST}),
     * against the direct form's. On resnet18 and squeezenet1_1 this picks F4 for resnet's maps of
     * 28 and 56, F2 for its 14×14 layers, and the direct form for 7×7 and for all of
     * squeezenet's layers (27×27 with 32 channels, 13×13, 16 channels on 55×55).
     */
    static Tiling choose(int channels, int filters, int outH, int outW) {
        if (channels < 8 || filters < 8) return null; // transforms outweigh the products saved
        double best = 9.0 * channels * filters * outH * outW;
        Tiling choice = null;
        for (Tiling t : Tiling.values()) {
            long tiles = (long) ((outH + t.m - 1) / t.m) * ((outW + t.m - 1) / t.m);
            double products = (double) t.n * t.n * Gemm.roundUp(filters, MR) * channels * Gemm.roundUp((int) tiles, NR);
            double transforms = TRANSFORM_COST * t.n * t.n * tiles * (channels + filters);
            if (products + transforms < best) {
                best = products + transforms;
                choice = t;
            }
        }
        return choice;
    }

    /** U_ξ = (G g Gᵀ)_ξ for every filter and channel, each ξ packed as a GEMM left operand [filters × channels], all in one array. */
    static Gemm.PackedA[] packWeights(Tiling t, float[] w, int filters, int channels) {
        int n = t.n;
        float[][] u = new float[n * n][filters * channels];
        double[] gg = new double[n * 3];
        for (int kc = 0; kc < filters * channels; kc++) {
            // (G g) then (G g) Gᵀ, in double
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < 3; j++) {
                    double s = 0;
                    for (int k = 0; k < 3; k++) s += t.filter[i * 3 + k] * w[kc * 9 + k * 3 + j];
                    gg[i * 3 + j] = s;
                }
            }
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < n; j++) {
                    double s = 0;
                    for (int k = 0; k < 3; k++) s += gg[i * 3 + k] * t.filter[j * 3 + k];
                    u[i * n + j][kc] = (float) s;
                }
            }
        }
        int size = Gemm.leftSize(filters, channels);
        float[] panels = new float[Math.toIntExact(packedSize(t, filters, channels))];
        Gemm.PackedA[] packed = new Gemm.PackedA[n * n];
        for (int xi = 0; xi < n * n; xi++) packed[xi] = Gemm.packLeft(filters, channels, Gemm.Matrix.rowMajor(u[xi], 0, channels), panels, xi * size);
        return packed;
    }

    /** Floats of {@link #packWeights}' array. */
    static long packedSize(Tiling t, int filters, int channels) { return (long) t.n * t.n * Gemm.leftSize(filters, channels); }

    /** {@link #packWeights}' result read back from its array. */
    static Gemm.PackedA[] packedWeights(Tiling t, float[] panels, int filters, int channels) {
        int size = Gemm.leftSize(filters, channels);
        Gemm.PackedA[] packed = new Gemm.PackedA[t.n * t.n];
        for (int xi = 0; xi < packed.length; xi++) packed[xi] = Gemm.PackedA.over(filters, channels, panels, xi * size);
        return packed;
    }


    /**
     * Y = act(W ⊛ X + B + R) by tiling {@code t}, U packed by {@link #packWeights}. Per image:
     * transform the input tiles into V[channel][ξ][tile], multiply into M[filter][ξ][tile] (one
     * GEMM per ξ, reading rows of V in place), transform the products back into the output with
     * the epilogue. Rows of V and M are padded past a power of two apart, so the n² rows one
     * transform touches do not share cache sets.
     */
    static void conv(ConvFloat.Problem pr, Windows.Geometry g, Tiling t, Gemm.PackedA[] u, Parallel parallel) {
        int m = t.m, n = t.n, nn = n * n, channels = pr.channels(), filters = pr.filters();
        int outH = (int) g.out()[0], outW = (int) g.out()[1], tileRows = (outH + m - 1) / m, tileCols = (outW + m - 1) / m;
        int tiles = tileRows * tileCols, tilesPad = Gemm.roundUp(tiles, NR), filtersPad = Gemm.roundUp(filters, MR);
        int rowStride = tilesPad + VL; // also room for a transform's whole-vector writes past the last tile
        // input tiles as windows: n×n, m apart, over the padded input; tile (r, c) is that window's output (r, c)
        WindowPlanes windows = WindowPlanes.of(new Windows.Geometry(g.in(), new long[] {tileRows, tileCols}, new long[] {n, n},
                new long[] {m, m}, new long[] {1, 1}, g.padBegin(), g.padEnd()));
        int colPanels = tilesPad / NR, jobs = windows.vectorColumn.length;
        for (int b = 0; b < pr.batch(); b++) {
            int image = b;
            // every column the products read is written first, but for those past the last tile, whose products are dropped
            float[] v = Scratch.floats(Scratch.WINOGRAD_INPUT, channels * nn * rowStride);
            Work.pool(parallel, (long) channels * tiles * nn * 8).forRange(channels, (from, to) -> {
                float[] plane = Scratch.laidOut(Scratch.WINDOW_PLANE, windows, windows.channelStride + WindowPlanes.SLACK, 0f);
                float[] d = Scratch.floats(Scratch.TRANSFORM_A, nn * VL), e = Scratch.floats(Scratch.TRANSFORM_B, nn * VL);
                for (int c = (int) from; c < to; c++) {
                    windows.fill(pr.x(), pr.xAt() + (image * channels + c) * pr.inSp(), plane, 0);
                    // jobs in order: each one's whole-vector writes past its tiles are overwritten by the next
                    for (int j = 0; j < jobs; j++) transformInput(t, windows, j, plane, d, e, v, c * nn * rowStride, rowStride);
                }
            });
            float[] products = Scratch.floats(Scratch.WINOGRAD_PRODUCTS, filtersPad * nn * rowStride);
            long gemmWork = (long) nn * filtersPad * channels * tilesPad;
            (gemmWork < (1L << 17) ? Parallel.SERIAL : parallel).forRange((long) nn * colPanels, (from, to) -> {
                float[] panel = Scratch.floats(Scratch.B_PANEL, KC * NR);
                for (long task = from; task < to; task++) {
                    int xi = (int) (task / colPanels), cp = (int) (task % colPanels);
                    Gemm.PackedA a = u[xi];
                    for (int pc = 0; pc < channels; pc += KC) {
                        int kc = Math.min(KC, channels - pc);
                        // channel c's rows start c·nn·rowStride into v
                        Gemm.packRows(v, (pc * nn + xi) * rowStride + cp * NR, nn * rowStride, kc, panel);
                        for (int rp = 0; rp < filtersPad / MR; rp++) {
                            Gemm.panelKernel(filters - rp * MR, tiles - cp * NR, kc, a.panels, a.panelAt(pc, rp), panel, 0,
                                    products, (rp * MR * nn + xi) * rowStride + cp * NR, nn * rowStride, pc > 0);
                        }
                    }
                }
            });
            Work.pool(parallel, (long) filters * tiles * nn * 8).forRange(filters, (from, to) -> {
                float[] s = Scratch.floats(Scratch.TRANSFORM_A, nn * VL), e = Scratch.floats(Scratch.TRANSFORM_B, nn * VL);
                for (int k = (int) from; k < to; k++) {
                    for (int j = 0; j < jobs; j++) {
                        transformOutput(t, windows, j, products, k * nn * rowStride, rowStride, s, e, pr, k, image, outH, outW, tileCols);
                    }
                }
            });
        }
    }

    /** Tiles of vector j (one per lane) of one channel: d = the n×n input tiles, then Bᵀ d B into V[channel][ξ]. */
    private static void transformInput(Tiling t, WindowPlanes windows, int j, float[] plane, float[] d, float[] e, float[] v,
                                       int vAt, int rowStride) {
        int n = t.n, q = windows.vectorColumn[j];
        for (int i = 0; i < n * n; i++) FloatVector.fromArray(SPECIES, plane, windows.tapAt[i] + q).intoArray(d, i * VL);
        for (int c = 0; c < n; c++) inputRows(t, d, c * VL, n * VL, e, c * VL, n * VL); // Bᵀ d: down each column
        int at = vAt + windows.vectorOut[j];
        for (int r = 0; r < n; r++) inputRows(t, e, r * n * VL, VL, v, at + r * n * rowStride, rowStride); // (Bᵀ d) B: along each row
    }

    /** The n vectors at {@code a[from + k·step]} multiplied by Bᵀ, to {@code b[to + k·toStep]}. */
    private static void inputRows(Tiling t, float[] a, int from, int step, float[] b, int to, int toStep) {
        FloatVector d0 = FloatVector.fromArray(SPECIES, a, from), d1 = FloatVector.fromArray(SPECIES, a, from + step);
        FloatVector d2 = FloatVector.fromArray(SPECIES, a, from + 2 * step), d3 = FloatVector.fromArray(SPECIES, a, from + 3 * step);
        if (t == Tiling.F2) {
            d0.sub(d2).intoArray(b, to);
            d1.add(d2).intoArray(b, to + toStep);
            d2.sub(d1).intoArray(b, to + 2 * toStep);
            d1.sub(d3).intoArray(b, to + 3 * toStep);
            return;
        }
        FloatVector d4 = FloatVector.fromArray(SPECIES, a, from + 4 * step), d5 = FloatVector.fromArray(SPECIES, a, from + 5 * step);
        FloatVector d4d2 = d4.sub(d2), d4d2x4 = d4.sub(d2.mul(4f)), d3d1 = d3.sub(d1), d3d1x4 = d3.sub(d1.mul(4f));
        d0.mul(4f).sub(d2.mul(5f)).add(d4).intoArray(b, to);                 // 4d0 − 5d2 + d4
        d4d2x4.add(d3d1x4).intoArray(b, to + toStep);                        // −4d1 − 4d2 + d3 + d4
        d4d2x4.sub(d3d1x4).intoArray(b, to + 2 * toStep);                    // 4d1 − 4d2 − d3 + d4
        d4d2.add(d3d1.mul(2f)).intoArray(b, to + 3 * toStep);                  // −2d1 − d2 + 2d3 + d4
        d4d2.sub(d3d1.mul(2f)).intoArray(b, to + 4 * toStep);                  // 2d1 − d2 − 2d3 + d4
        d1.mul(4f).sub(d3.mul(5f)).add(d5).intoArray(b, to + 5 * toStep);    // 4d1 − 5d3 + d5
    }

    /**
     * Tiles of vector j of one filter: its n² products, then Aᵀ M A, interleaved into output rows
     * (lane l's m columns side by side) and written with the epilogue where the output exists.
     */
    private static void transformOutput(Tiling t, WindowPlanes windows, int j, float[] products, int pAt, int rowStride, float[] s,
                                        float[] e, ConvFloat.Problem pr, int filter, int image, int outH, int outW, int tileCols) {
        int m = t.m, n = t.n, tile = windows.vectorOut[j];
        for (int r = 0; r < n; r++) outputRows(t, products, pAt + r * n * rowStride + tile, rowStride, s, r * n * VL, VL); // M A along rows
        for (int c = 0; c < m; c++) outputRows(t, s, c * VL, n * VL, e, c * VL, n * VL); // Aᵀ (M A) down columns
        int tileRow = tile / tileCols, x0 = tile % tileCols * m, columns = Math.min(windows.vectorLength[j] * m, outW - x0);
        int yAt = pr.yAt() + (image * pr.filters() + filter) * pr.outSp();
        for (int i = 0; i < m && tileRow * m + i < outH; i++) {
            int row = i * n * VL, at = yAt + (tileRow * m + i) * outW + x0;
            // lane l of column vector c holds output column l·m + c: interleave the m vectors
            IntVector c0 = FloatVector.fromArray(SPECIES, e, row).reinterpretAsInts(), c1 = FloatVector.fromArray(SPECIES, e, row + VL).reinterpretAsInts();
            if (m == 2) {
                Gemm.ZIP_LOW.selectFrom(c0, c1).reinterpretAsFloats().intoArray(e, row);
                Gemm.ZIP_HIGH.selectFrom(c0, c1).reinterpretAsFloats().intoArray(e, row + VL);
            } else {
                IntVector c2 = FloatVector.fromArray(SPECIES, e, row + 2 * VL).reinterpretAsInts(),
                        c3 = FloatVector.fromArray(SPECIES, e, row + 3 * VL).reinterpretAsInts();
                IntVector evenLow = Gemm.ZIP_LOW.selectFrom(c0, c2), evenHigh = Gemm.ZIP_HIGH.selectFrom(c0, c2);
                IntVector oddLow = Gemm.ZIP_LOW.selectFrom(c1, c3), oddHigh = Gemm.ZIP_HIGH.selectFrom(c1, c3);
                Gemm.ZIP_LOW.selectFrom(evenLow, oddLow).reinterpretAsFloats().intoArray(e, row);
                Gemm.ZIP_HIGH.selectFrom(evenLow, oddLow).reinterpretAsFloats().intoArray(e, row + VL);
                Gemm.ZIP_LOW.selectFrom(evenHigh, oddHigh).reinterpretAsFloats().intoArray(e, row + 2 * VL);
                Gemm.ZIP_HIGH.selectFrom(evenHigh, oddHigh).reinterpretAsFloats().intoArray(e, row + 3 * VL);
            }
            for (int part = 0; part * VL < columns; part++) store(pr, filter, e, row + part * VL, at + part * VL, Math.min(VL, columns - part * VL));
        }
    }

    /** Writes {@code n} outputs from {@code src[from]} to the output at {@code at}: bias, residual, activation. */
    private static void store(ConvFloat.Problem pr, int filter, float[] src, int from, int at, int n) {
        float[] y = pr.y(), residual = pr.residual();
        Activation act = pr.act();
        VectorMask<Float> inside = SPECIES.indexInRange(0, n);
        FloatVector out = FloatVector.fromArray(SPECIES, src, from).add(pr.bias() == null ? 0f : pr.bias()[filter]);
        if (residual != null) out = out.add(FloatVector.fromArray(SPECIES, residual, at + pr.residualShift(), inside));
        if (act.vectorized()) out = act.apply(out);
        out.intoArray(y, at, inside);
        if (!act.vectorized()) act.apply(y, at, at + n);
    }

    /** The n vectors at {@code a[from + k·step]} multiplied by Aᵀ (m results), to {@code b[to + k·toStep]}. */
    private static void outputRows(Tiling t, float[] a, int from, int step, float[] b, int to, int toStep) {
        FloatVector m0 = FloatVector.fromArray(SPECIES, a, from), m1 = FloatVector.fromArray(SPECIES, a, from + step);
        FloatVector m2 = FloatVector.fromArray(SPECIES, a, from + 2 * step), m3 = FloatVector.fromArray(SPECIES, a, from + 3 * step);
        if (t == Tiling.F2) {
            m0.add(m1).add(m2).intoArray(b, to);                       // m0 + m1 + m2
            m1.sub(m2).sub(m3).intoArray(b, to + toStep);              // m1 − m2 − m3
            return;
        }
        FloatVector m4 = FloatVector.fromArray(SPECIES, a, from + 4 * step), m5 = FloatVector.fromArray(SPECIES, a, from + 5 * step);
        FloatVector sum12 = m1.add(m2), diff12 = m1.sub(m2), sum34 = m3.add(m4), diff34 = m3.sub(m4);
        m0.add(sum12).add(sum34).intoArray(b, to);                     // m0 + m1 + m2 + m3 + m4
        diff12.add(diff34.mul(2f)).intoArray(b, to + toStep);          // m1 − m2 + 2(m3 − m4)
        sum12.add(sum34.mul(4f)).intoArray(b, to + 2 * toStep);        // m1 + m2 + 4(m3 + m4)
        diff12.add(diff34.mul(8f)).add(m5).intoArray(b, to + 3 * toStep); // m1 − m2 + 8(m3 − m4) + m5
    }
}
