package dev.onnxrun.runtime.kernels;

import dev.onnxrun.runtime.Parallel;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The float32 implicit-GEMM convolution turned around: vectors run along the filters, and the
 * input's values (one output column each) are broadcast. {@link ConvFloat#gemm} vectorizes the
 * output columns instead, which suits wide maps and short depths; this form suits deep layers on
 * small maps, for two reasons measured on resnet18's 7×7 and 14×14 layers:
 * <ul>
 *   <li>filter counts are multiples of the tile's {@link #FR} filters, where a map's columns
 *       (49 + padding on a 7×7 map) fill {@link Gemm#NR}-wide tiles poorly; here tiles of
 *       {@link #COLS} columns cover a row's outputs and skip its padding
 *       ({@link WindowPlanes#tileStarts});</li>
 *   <li>a panel's weights for one depth block ({@link #DEPTH_BLOCK} steps, 16 KiB at 16 lanes)
 *       stay in L1 while the block's column panels pass.</li>
 * </ul>
 * The price is a transposition of each finished tile (columns × filters) before the epilogue,
 * one move per output, which a deep enough layer ({@link #suits}) amortizes.
 */
final class ConvByFilters {
    private ConvByFilters() {}

    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final int VL = SPECIES.length();
    /**
     * Filters per tile: two vectors, so with {@link #COLS} columns 14 accumulators, two weight
     * vectors and a broadcast (with 16 registers, AVX2, a tile runs as two halves: {@link #tileHalf}). Seven columns of four vectors (28 accumulators)
     * spilled and ran ~15 % slower per multiply-add than six of four; seven of two run as fast as
     * six of four, and the filter counts of real layers are multiples of 32.
     */
    static final int FR = 2 * VL;
    /** Output columns per tile: a row of a 7×7 map, half of a 14×14 map's, and so on down resnet's 224-pixel pyramid. */
    static final int COLS = 7;
    /**
     * Whether tiles go two at a time ({@link #tilePair}: 28 accumulators, two weight vectors and a
     * broadcast), which needs AVX-512's 32 vector registers; at 16 lanes a float vector is 512 bits.
     * On resnet18's 7×7 layers with their weights in cache it ran 13 % faster than single tiles
     * (one 512-deep 3×3 layer: 1.49–1.53 → 1.30–1.31 ms, one thread), as each weight loaded
     * serves 14 columns instead of 7.
     */
    private static final boolean PAIRS = VL >= 16;
    /** The packed weights' layout, for the layout key of saved compiled models. */
    static final String PANEL_LAYOUT = "fr=" + FR + " halves";
    /** Depth steps per block: one filter panel's weights for a block fill 16 KiB (at 16 lanes), within L1 (64 and 256 measured no better). */
    static final int DEPTH_BLOCK = 128;
    /**
     * Accumulator floats per task (64 KiB, in L2): a task takes as many tiles as fit, all
     * of a 7×7 or 14×14 map, so a deep layer's weights (9 MiB in resnet18's last layers, more
     * than L2) are read from memory once, not once per chunk of columns.
     */
    private static final int ACC_FLOATS = 1 << 14;
    /**
     * Depth below which the transposition costs more than the faster tile loop saves: 1×1
     * convolutions measured against ONNX Runtime, depth 256 on a 14×14 map 1.46 here, 1.72–1.81
     * there; depth 128 on a 28×28 map 1.94–1.99 here, 1.52–1.63 there (one thread, load 4).
     */
    static final int MIN_DEPTH = 256;

    /**
     * Whether a convolution of {@code mg} filters per group over {@code cg·taps} depth steps and
     * the output columns of {@code planes} should run here: deep enough, and cheaper by padded work
     * weighted by speed. (The column-vectorized form packs its input rows, so its k×k
     * convolutions run as fast per multiply-add as its 1×1: on squeezenet's 32→128-channel 3×3
     * over 27×27 it measured 0.41–0.43 ms against 0.43–0.53 here, one thread.)
     */
    static boolean suits(int cg, int taps, int mg, WindowPlanes planes) {
        if ((long) cg * taps < MIN_DEPTH) return false;
        double here = (double) Gemm.roundUp(mg, FR) * planes.tileStarts(COLS).length * COLS;
        double there = (double) Gemm.roundUp(mg, Gemm.MR) * planes.gemmColumns(Gemm.NR);
        return here * TRANSPOSE_COST <= there;
    }

    /**
     * This form's padded work is weighted by this much for the transposition of its tiles and its
     * narrower tile (7 × 2 vectors against Gemm's 12 × 2): 1×1 convolutions of squeezenet1_1
     * measured slower here than in the column-vectorized form at nearly equal padded work (512
     * deep to 1000 filters over 13×13: 1.48–1.50 against 1.41–1.43 × ONNX Runtime; 256 deep to 32
     * filters over 27×27, two threads: 1.34–1.41 against 0.74–0.80), while resnet's deep 1×1 and
     * 3×3 layers on 7×7 and 14×14 maps stay here, where they measured faster (1024 deep to 256
     * over 14×14: 1.26 against 1.30; 2048 to 512 over 7×7: 1.20–1.23 against 1.29–1.32).
     */
    private static final double TRANSPOSE_COST = 1.15;

    /** Floats of {@link #packWeights}' array. */
    static long packedSize(int filters, int groups, int depth) { return (long) groups * Gemm.roundUp(filters / groups, FR) * depth; }

    /**
     * W (per group [filters/group × depth], row-major) as panels of {@link #FR} filters: panel
     * {@code fp} of group {@code grp} holds two halves of {@code VL} filters each, one after the
     * other, and a half holds, depth step by depth step, the step's VL weights (zero past the last
     * filter). A tile thus reads its weights as two sequential streams, not one: where they come
     * from memory (a deep layer's 9 MiB, read once per run) the hardware prefetcher then runs
     * ahead on both, and six different 512-deep 3×3 layers in a row ran 13.0–13.4 → 10.5–11.2 ms
     * (one thread; ONNX Runtime 9.6–10.1).
     */
    static float[] packWeights(float[] w, int filters, int groups, int depth) {
        int mg = filters / groups, panels = Gemm.roundUp(mg, FR) / FR;
        float[] packed = new float[Math.toIntExact(packedSize(filters, groups, depth))];
        for (int grp = 0; grp < groups; grp++) {
            for (int fp = 0; fp < panels; fp++) {
                int at = (grp * panels + fp) * depth * FR;
                for (int j = 0; j < FR && fp * FR + j < mg; j++) {
                    int src = (grp * mg + fp * FR + j) * depth;
                    int half = at + j / VL * depth * VL + j % VL;
                    for (int p = 0; p < depth; p++) packed[half + p * VL] = w[src + p];
                }
            }
        }
        return packed;
    }

    /**
     * Y = act(W ⊛ X + B + R) with W packed by {@link #packWeights}. Tasks own (image, group,
     * a chunk of column panels, one filter panel) and all depth blocks of it.
     */
    static void conv(ConvFloat.Problem pr, float[] weights, Parallel parallel) {
        WindowPlanes pl = pr.planes();
        int cg = pr.cg(), mg = pr.mg(), taps = pl.tapAt.length, depth = cg * taps, halfApart = depth * VL;
        int[] starts = pl.tileStarts(COLS);
        int tiles = starts.length, filterPanels = Gemm.roundUp(mg, FR) / FR;
        int chunk = Math.min(tiles, ACC_FLOATS / (COLS * FR)), chunks = (tiles + chunk - 1) / chunk;
        float[] t = input(pr, starts[tiles - 1] + COLS, parallel);
        int channelStride = pl.direct ? pr.inSp() : pl.channelStride, imageStride = pr.channels() * channelStride;
        int[] rowAt = pl.tapRows(cg);
        long units = (long) pr.batch() * pr.groups() * chunks * filterPanels;
        boolean threaded = ConvFloat.threaded(pr, depth, parallel);
        int span = 0; // the most columns a chunk's tiles reach across, padding columns between rows included
        for (int from = 0; from < tiles; from += chunk) span = Math.max(span, starts[Math.min(tiles, from + chunk) - 1] + COLS - starts[from]);
        int ld = span + VL; // the epilogue reads whole vectors past each row
        Parallel.RangeBody body = (from, to) -> {
            float[] acc = Scratch.floats(Scratch.CONV_TILES, chunk * COLS * FR), rows = Scratch.floats(Scratch.EDGE_TILE, FR * ld);
            for (long unit = from; unit < to; unit++) {
                // filter panel outermost within an image and group: its weights are read from L2 by consecutive tasks
                int part = (int) (unit % chunks), fp = (int) (unit / chunks % filterPanels);
                int grp = (int) (unit / chunks / filterPanels % pr.groups()), b = (int) (unit / chunks / filterPanels / pr.groups());
                int first = part * chunk, end = Math.min(tiles, first + chunk);
                int tAt = (t == pr.x() ? pr.xAt() : 0) + b * imageStride + grp * cg * channelStride;
                int wAt = (grp * filterPanels + fp) * depth * FR;
                for (int pc = 0; pc < depth; pc += DEPTH_BLOCK) {
                    int kc = Math.min(DEPTH_BLOCK, depth - pc);
                    int i = first, stepAt = wAt + pc * VL;
                    if (PAIRS) {
                        for (; i + 1 < end; i += 2) {
                            tilePair(kc, t, rowAt, pc, tAt + starts[i], tAt + starts[i + 1], weights, stepAt, halfApart, acc, (i - first) * COLS * FR, pc > 0);
                        }
                    }
                    for (; i < end; i++) tile(kc, t, rowAt, pc, tAt + starts[i], weights, stepAt, halfApart, acc, (i - first) * COLS * FR, pc > 0);
                }
                // columns × filters → filters × columns (at the tiles' own columns), then the usual epilogue
                int filters = Math.min(FR, mg - fp * FR), filter = grp * mg + fp * FR, q0 = starts[first];
                for (int j = 0; j < filters; j++) {
                    for (int i = first; i < end; i++) {
                        int row = j * ld + starts[i] - q0, accAt = (i - first) * COLS * FR + j;
                        for (int q = 0; q < COLS; q++) rows[row + q] = acc[accAt + q * FR];
                    }
                }
                pl.store(rows, 0, ld, filters, q0, Math.min(pl.columns, starts[end - 1] + COLS), pr.y(),
                        pr.yAt() + (b * pr.filters() + filter) * pr.outSp(), pr.outSp(), pr.bias(), filter, pr.residual(), pr.residualShift(), pr.act());
            }
        };
        if (threaded) parallel.forRange(units, body);
        else body.run(0, units);
    }

    /**
     * X as the tiles read it: laid out by the window planes (with slack past the end), or X itself
     * where the planes use it in place and the last tile's columns stay inside its array.
     */
    private static float[] input(ConvFloat.Problem pr, int columnsRead, Parallel parallel) {
        WindowPlanes pl = pr.planes();
        if (!pl.direct) return ConvFloat.layOut(pr, parallel);
        int lastRead = pr.xAt() + (pr.batch() - 1) * pr.channels() * pr.inSp() + (pr.channels() - 1) * pr.inSp() + pl.lastTapAt + columnsRead;
        if (lastRead <= pr.x().length) return pr.x();
        int size = pr.batch() * pr.channels() * pr.inSp();
        float[] copy = Scratch.floats(Scratch.CONV_INPUT, size + COLS);
        System.arraycopy(pr.x(), pr.xAt(), copy, 0, size);
        return copy;
    }

    /**
     * Two tiles at once, as {@link #tile} for each: columns [colA, colA + COLS) into C's rows 0–6
     * and [colB, colB + COLS) into rows 7–13 (one output row and the next on a 7×7 map).
     */
    private static void tilePair(int kc, float[] x, int[] rowAt, int rowFrom, int colA, int colB, float[] w, int wAt, int halfApart, float[] c, int cAt, boolean accumulate) {
        FloatVector c0_0 = FloatVector.zero(SPECIES), c0_1 = FloatVector.zero(SPECIES);
        FloatVector c1_0 = FloatVector.zero(SPECIES), c1_1 = FloatVector.zero(SPECIES);
        FloatVector c2_0 = FloatVector.zero(SPECIES), c2_1 = FloatVector.zero(SPECIES);
        FloatVector c3_0 = FloatVector.zero(SPECIES), c3_1 = FloatVector.zero(SPECIES);
        FloatVector c4_0 = FloatVector.zero(SPECIES), c4_1 = FloatVector.zero(SPECIES);
        FloatVector c5_0 = FloatVector.zero(SPECIES), c5_1 = FloatVector.zero(SPECIES);
        FloatVector c6_0 = FloatVector.zero(SPECIES), c6_1 = FloatVector.zero(SPECIES);
        FloatVector c7_0 = FloatVector.zero(SPECIES), c7_1 = FloatVector.zero(SPECIES);
        FloatVector c8_0 = FloatVector.zero(SPECIES), c8_1 = FloatVector.zero(SPECIES);
        FloatVector c9_0 = FloatVector.zero(SPECIES), c9_1 = FloatVector.zero(SPECIES);
        FloatVector c10_0 = FloatVector.zero(SPECIES), c10_1 = FloatVector.zero(SPECIES);
        FloatVector c11_0 = FloatVector.zero(SPECIES), c11_1 = FloatVector.zero(SPECIES);
        FloatVector c12_0 = FloatVector.zero(SPECIES), c12_1 = FloatVector.zero(SPECIES);
        FloatVector c13_0 = FloatVector.zero(SPECIES), c13_1 = FloatVector.zero(SPECIES);
        int shift = colB - colA;
        for (int p = 0; p < kc; p++) {
            int xo = rowAt[rowFrom + p] + colA, xb = xo + shift, wo = wAt + p * VL;
            FloatVector w0 = FloatVector.fromArray(SPECIES, w, wo);
            FloatVector w1 = FloatVector.fromArray(SPECIES, w, wo + halfApart);
            FloatVector x0 = FloatVector.broadcast(SPECIES, x[xo + 0]);
            c0_0 = x0.fma(w0, c0_0); c0_1 = x0.fma(w1, c0_1);
            FloatVector x1 = FloatVector.broadcast(SPECIES, x[xo + 1]);
            c1_0 = x1.fma(w0, c1_0); c1_1 = x1.fma(w1, c1_1);
            FloatVector x2 = FloatVector.broadcast(SPECIES, x[xo + 2]);
            c2_0 = x2.fma(w0, c2_0); c2_1 = x2.fma(w1, c2_1);
            FloatVector x3 = FloatVector.broadcast(SPECIES, x[xo + 3]);
            c3_0 = x3.fma(w0, c3_0); c3_1 = x3.fma(w1, c3_1);
            FloatVector x4 = FloatVector.broadcast(SPECIES, x[xo + 4]);
            c4_0 = x4.fma(w0, c4_0); c4_1 = x4.fma(w1, c4_1);
            FloatVector x5 = FloatVector.broadcast(SPECIES, x[xo + 5]);
            c5_0 = x5.fma(w0, c5_0); c5_1 = x5.fma(w1, c5_1);
            FloatVector x6 = FloatVector.broadcast(SPECIES, x[xo + 6]);
            c6_0 = x6.fma(w0, c6_0); c6_1 = x6.fma(w1, c6_1);
            FloatVector x7 = FloatVector.broadcast(SPECIES, x[xb + 0]);
            c7_0 = x7.fma(w0, c7_0); c7_1 = x7.fma(w1, c7_1);
            FloatVector x8 = FloatVector.broadcast(SPECIES, x[xb + 1]);
            c8_0 = x8.fma(w0, c8_0); c8_1 = x8.fma(w1, c8_1);
            FloatVector x9 = FloatVector.broadcast(SPECIES, x[xb + 2]);
            c9_0 = x9.fma(w0, c9_0); c9_1 = x9.fma(w1, c9_1);
            FloatVector x10 = FloatVector.broadcast(SPECIES, x[xb + 3]);
            c10_0 = x10.fma(w0, c10_0); c10_1 = x10.fma(w1, c10_1);
            FloatVector x11 = FloatVector.broadcast(SPECIES, x[xb + 4]);
            c11_0 = x11.fma(w0, c11_0); c11_1 = x11.fma(w1, c11_1);
            FloatVector x12 = FloatVector.broadcast(SPECIES, x[xb + 5]);
            c12_0 = x12.fma(w0, c12_0); c12_1 = x12.fma(w1, c12_1);
            FloatVector x13 = FloatVector.broadcast(SPECIES, x[xb + 6]);
            c13_0 = x13.fma(w0, c13_0); c13_1 = x13.fma(w1, c13_1);
        }
        if (accumulate) {
            c0_0 = c0_0.add(FloatVector.fromArray(SPECIES, c, cAt + 0 * FR)); c0_1 = c0_1.add(FloatVector.fromArray(SPECIES, c, cAt + 0 * FR + VL));
            c1_0 = c1_0.add(FloatVector.fromArray(SPECIES, c, cAt + 1 * FR)); c1_1 = c1_1.add(FloatVector.fromArray(SPECIES, c, cAt + 1 * FR + VL));
            c2_0 = c2_0.add(FloatVector.fromArray(SPECIES, c, cAt + 2 * FR)); c2_1 = c2_1.add(FloatVector.fromArray(SPECIES, c, cAt + 2 * FR + VL));
            c3_0 = c3_0.add(FloatVector.fromArray(SPECIES, c, cAt + 3 * FR)); c3_1 = c3_1.add(FloatVector.fromArray(SPECIES, c, cAt + 3 * FR + VL));
            c4_0 = c4_0.add(FloatVector.fromArray(SPECIES, c, cAt + 4 * FR)); c4_1 = c4_1.add(FloatVector.fromArray(SPECIES, c, cAt + 4 * FR + VL));
            c5_0 = c5_0.add(FloatVector.fromArray(SPECIES, c, cAt + 5 * FR)); c5_1 = c5_1.add(FloatVector.fromArray(SPECIES, c, cAt + 5 * FR + VL));
            c6_0 = c6_0.add(FloatVector.fromArray(SPECIES, c, cAt + 6 * FR)); c6_1 = c6_1.add(FloatVector.fromArray(SPECIES, c, cAt + 6 * FR + VL));
            c7_0 = c7_0.add(FloatVector.fromArray(SPECIES, c, cAt + 7 * FR)); c7_1 = c7_1.add(FloatVector.fromArray(SPECIES, c, cAt + 7 * FR + VL));
            c8_0 = c8_0.add(FloatVector.fromArray(SPECIES, c, cAt + 8 * FR)); c8_1 = c8_1.add(FloatVector.fromArray(SPECIES, c, cAt + 8 * FR + VL));
            c9_0 = c9_0.add(FloatVector.fromArray(SPECIES, c, cAt + 9 * FR)); c9_1 = c9_1.add(FloatVector.fromArray(SPECIES, c, cAt + 9 * FR + VL));
            c10_0 = c10_0.add(FloatVector.fromArray(SPECIES, c, cAt + 10 * FR)); c10_1 = c10_1.add(FloatVector.fromArray(SPECIES, c, cAt + 10 * FR + VL));
            c11_0 = c11_0.add(FloatVector.fromArray(SPECIES, c, cAt + 11 * FR)); c11_1 = c11_1.add(FloatVector.fromArray(SPECIES, c, cAt + 11 * FR + VL));
            c12_0 = c12_0.add(FloatVector.fromArray(SPECIES, c, cAt + 12 * FR)); c12_1 = c12_1.add(FloatVector.fromArray(SPECIES, c, cAt + 12 * FR + VL));
            c13_0 = c13_0.add(FloatVector.fromArray(SPECIES, c, cAt + 13 * FR)); c13_1 = c13_1.add(FloatVector.fromArray(SPECIES, c, cAt + 13 * FR + VL));
        }
        c0_0.intoArray(c, cAt + 0 * FR); c0_1.intoArray(c, cAt + 0 * FR + VL);
        c1_0.intoArray(c, cAt + 1 * FR); c1_1.intoArray(c, cAt + 1 * FR + VL);
        c2_0.intoArray(c, cAt + 2 * FR); c2_1.intoArray(c, cAt + 2 * FR + VL);
        c3_0.intoArray(c, cAt + 3 * FR); c3_1.intoArray(c, cAt + 3 * FR + VL);
        c4_0.intoArray(c, cAt + 4 * FR); c4_1.intoArray(c, cAt + 4 * FR + VL);
        c5_0.intoArray(c, cAt + 5 * FR); c5_1.intoArray(c, cAt + 5 * FR + VL);
        c6_0.intoArray(c, cAt + 6 * FR); c6_1.intoArray(c, cAt + 6 * FR + VL);
        c7_0.intoArray(c, cAt + 7 * FR); c7_1.intoArray(c, cAt + 7 * FR + VL);
        c8_0.intoArray(c, cAt + 8 * FR); c8_1.intoArray(c, cAt + 8 * FR + VL);
        c9_0.intoArray(c, cAt + 9 * FR); c9_1.intoArray(c, cAt + 9 * FR + VL);
        c10_0.intoArray(c, cAt + 10 * FR); c10_1.intoArray(c, cAt + 10 * FR + VL);
        c11_0.intoArray(c, cAt + 11 * FR); c11_1.intoArray(c, cAt + 11 * FR + VL);
        c12_0.intoArray(c, cAt + 12 * FR); c12_1.intoArray(c, cAt + 12 * FR + VL);
        c13_0.intoArray(c, cAt + 13 * FR); c13_1.intoArray(c, cAt + 13 * FR + VL);
    }

    /**
     * One tile: C[COLS × FR] (+)= the input's columns [col, col + COLS) over depth steps
     * [rowFrom, rowFrom + kc) (step p's run at {@code x[rowAt[p] + col]}) times the weights
     * (step p's first VL filters at {@code w[wAt + (p − rowFrom)·VL]}, the other VL
     * {@code halfApart} further). C at {@code c[cAt]}, row i holding column i's FR filters. Written
     * out in full, as Gemm's micro-kernel, so the accumulators stay in registers.
     */
    private static void tile(int kc, float[] x, int[] rowAt, int rowFrom, int col, float[] w, int wAt, int halfApart, float[] c, int cAt, boolean accumulate) {
        if (!Gemm.WIDE_REGISTERS) {
            tileHalf(kc, x, rowAt, rowFrom, col, w, wAt, c, cAt, accumulate);
            tileHalf(kc, x, rowAt, rowFrom, col, w, wAt + halfApart, c, cAt + VL, accumulate);
            return;
        }
        FloatVector c0_0 = FloatVector.zero(SPECIES), c0_1 = FloatVector.zero(SPECIES);
        FloatVector c1_0 = FloatVector.zero(SPECIES), c1_1 = FloatVector.zero(SPECIES);
        FloatVector c2_0 = FloatVector.zero(SPECIES), c2_1 = FloatVector.zero(SPECIES);
        FloatVector c3_0 = FloatVector.zero(SPECIES), c3_1 = FloatVector.zero(SPECIES);
        FloatVector c4_0 = FloatVector.zero(SPECIES), c4_1 = FloatVector.zero(SPECIES);
        FloatVector c5_0 = FloatVector.zero(SPECIES), c5_1 = FloatVector.zero(SPECIES);
        FloatVector c6_0 = FloatVector.zero(SPECIES), c6_1 = FloatVector.zero(SPECIES);
        for (int p = 0; p < kc; p++) {
            int xo = rowAt[rowFrom + p] + col, wo = wAt + p * VL;
            FloatVector w0 = FloatVector.fromArray(SPECIES, w, wo);
            FloatVector w1 = FloatVector.fromArray(SPECIES, w, wo + halfApart);
            FloatVector x0 = FloatVector.broadcast(SPECIES, x[xo]);
            c0_0 = x0.fma(w0, c0_0); c0_1 = x0.fma(w1, c0_1);
            FloatVector x1 = FloatVector.broadcast(SPECIES, x[xo + 1]);
            c1_0 = x1.fma(w0, c1_0); c1_1 = x1.fma(w1, c1_1);
            FloatVector x2 = FloatVector.broadcast(SPECIES, x[xo + 2]);
            c2_0 = x2.fma(w0, c2_0); c2_1 = x2.fma(w1, c2_1);
            FloatVector x3 = FloatVector.broadcast(SPECIES, x[xo + 3]);
            c3_0 = x3.fma(w0, c3_0); c3_1 = x3.fma(w1, c3_1);
            FloatVector x4 = FloatVector.broadcast(SPECIES, x[xo + 4]);
            c4_0 = x4.fma(w0, c4_0); c4_1 = x4.fma(w1, c4_1);
            FloatVector x5 = FloatVector.broadcast(SPECIES, x[xo + 5]);
            c5_0 = x5.fma(w0, c5_0); c5_1 = x5.fma(w1, c5_1);
            FloatVector x6 = FloatVector.broadcast(SPECIES, x[xo + 6]);
            c6_0 = x6.fma(w0, c6_0); c6_1 = x6.fma(w1, c6_1);
        }
        int r0 = cAt, r1 = cAt + FR, r2 = cAt + 2 * FR, r3 = cAt + 3 * FR, r4 = cAt + 4 * FR, r5 = cAt + 5 * FR, r6 = cAt + 6 * FR;
        if (accumulate) {
            c0_0 = c0_0.add(FloatVector.fromArray(SPECIES, c, r0)); c0_1 = c0_1.add(FloatVector.fromArray(SPECIES, c, r0 + VL));
            c1_0 = c1_0.add(FloatVector.fromArray(SPECIES, c, r1)); c1_1 = c1_1.add(FloatVector.fromArray(SPECIES, c, r1 + VL));
            c2_0 = c2_0.add(FloatVector.fromArray(SPECIES, c, r2)); c2_1 = c2_1.add(FloatVector.fromArray(SPECIES, c, r2 + VL));
            c3_0 = c3_0.add(FloatVector.fromArray(SPECIES, c, r3)); c3_1 = c3_1.add(FloatVector.fromArray(SPECIES, c, r3 + VL));
            c4_0 = c4_0.add(FloatVector.fromArray(SPECIES, c, r4)); c4_1 = c4_1.add(FloatVector.fromArray(SPECIES, c, r4 + VL));
            c5_0 = c5_0.add(FloatVector.fromArray(SPECIES, c, r5)); c5_1 = c5_1.add(FloatVector.fromArray(SPECIES, c, r5 + VL));
            c6_0 = c6_0.add(FloatVector.fromArray(SPECIES, c, r6)); c6_1 = c6_1.add(FloatVector.fromArray(SPECIES, c, r6 + VL));
        }
        c0_0.intoArray(c, r0); c0_1.intoArray(c, r0 + VL);
        c1_0.intoArray(c, r1); c1_1.intoArray(c, r1 + VL);
        c2_0.intoArray(c, r2); c2_1.intoArray(c, r2 + VL);
        c3_0.intoArray(c, r3); c3_1.intoArray(c, r3 + VL);
        c4_0.intoArray(c, r4); c4_1.intoArray(c, r4 + VL);
        c5_0.intoArray(c, r5); c5_1.intoArray(c, r5 + VL);
        c6_0.intoArray(c, r6); c6_1.intoArray(c, r6 + VL);
    }

    /**
     * {@link #tile} for one half of the filters (one vector): 16-register machines' (AVX2) tile,
     * twice per tile. The whole tile's 14 accumulators, two weight vectors and the broadcasts do
     * not fit 16 registers, and C2 kept some on the stack; seven accumulators do.
     */
    private static void tileHalf(int kc, float[] x, int[] rowAt, int rowFrom, int col, float[] w, int wAt, float[] c, int cAt, boolean accumulate) {
        FloatVector c0 = FloatVector.zero(SPECIES), c1 = FloatVector.zero(SPECIES), c2 = FloatVector.zero(SPECIES), c3 = FloatVector.zero(SPECIES);
        FloatVector c4 = FloatVector.zero(SPECIES), c5 = FloatVector.zero(SPECIES), c6 = FloatVector.zero(SPECIES);
        for (int p = 0; p < kc; p++) {
            int xo = rowAt[rowFrom + p] + col;
            FloatVector w0 = FloatVector.fromArray(SPECIES, w, wAt + p * VL);
            c0 = FloatVector.broadcast(SPECIES, x[xo]).fma(w0, c0);
            c1 = FloatVector.broadcast(SPECIES, x[xo + 1]).fma(w0, c1);
            c2 = FloatVector.broadcast(SPECIES, x[xo + 2]).fma(w0, c2);
            c3 = FloatVector.broadcast(SPECIES, x[xo + 3]).fma(w0, c3);
            c4 = FloatVector.broadcast(SPECIES, x[xo + 4]).fma(w0, c4);
            c5 = FloatVector.broadcast(SPECIES, x[xo + 5]).fma(w0, c5);
            c6 = FloatVector.broadcast(SPECIES, x[xo + 6]).fma(w0, c6);
        }
        if (accumulate) {
            c0 = c0.add(FloatVector.fromArray(SPECIES, c, cAt)); c1 = c1.add(FloatVector.fromArray(SPECIES, c, cAt + FR));
            c2 = c2.add(FloatVector.fromArray(SPECIES, c, cAt + 2 * FR)); c3 = c3.add(FloatVector.fromArray(SPECIES, c, cAt + 3 * FR));
            c4 = c4.add(FloatVector.fromArray(SPECIES, c, cAt + 4 * FR)); c5 = c5.add(FloatVector.fromArray(SPECIES, c, cAt + 5 * FR));
            c6 = c6.add(FloatVector.fromArray(SPECIES, c, cAt + 6 * FR));
        }
        c0.intoArray(c, cAt); c1.intoArray(c, cAt + FR); c2.intoArray(c, cAt + 2 * FR); c3.intoArray(c, cAt + 3 * FR);
        c4.intoArray(c, cAt + 4 * FR); c5.intoArray(c, cAt + 5 * FR); c6.intoArray(c, cAt + 6 * FR);
    }
}
