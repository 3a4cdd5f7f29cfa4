package dev.onnxrun.runtime.kernels;

import dev.onnxrun.runtime.Parallel;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The float32 implicit-GEMM convolution turned around: vectors run along the filters, and the
 * input's values (one output column each) are broadcast. {@link ConvFloat#gemm} vectorizes the
 * output columns instead, which suits wide maps and short depths; this form suits deep layers on
 * small maps, for three reasons measured on resnet18's 7×7 and 14×14 layers:
 * <ul>
 *   <li>filter counts are multiples of the tile's {@link #FR} filters, where a map's columns
 *       (49 + padding on a 7×7 map) fill {@link Gemm#NR}-wide tiles poorly; here the columns are
 *       rounded up to {@link #COLS} only;</li>
 *   <li>the weights are packed per panel of filters and read at addresses affine in the depth,
 *       so the JIT hoists their bounds checks (the input side, read through the row table, takes
 *       scalar broadcasts): the tile loop runs ~25 % faster than the row-table form;</li>
 *   <li>a panel's weights for one depth block ({@link #DEPTH_BLOCK} steps, 32 KiB at 16 lanes)
 *       stay in L1 while the block's column panels pass.</li>
 * </ul>
 * The price is a transposition of each finished tile (columns × filters) before the epilogue,
 * one move per output, which a deep enough layer ({@link #suits}) amortizes.
 */
final class ConvByFilters {
    private ConvByFilters() {}

    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final int VL = SPECIES.length();
    /** Filters per tile: four vectors; with {@link #COLS} columns 24 accumulators, as Gemm's micro-tile. */
    static final int FR = 4 * VL;
    /** Output columns per tile. */
    static final int COLS = 6;
    /** Depth steps per block: one filter panel's weights for a block fill 32 KiB (at 16 lanes), within L1. */
    static final int DEPTH_BLOCK = 128;
    /**
     * Accumulator floats per task (64 KiB, in L2): a task takes as many column panels as fit, all
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
     * {@code columns} output columns should run here: deep enough, and cheaper by padded work
     * weighted by speed. The column-vectorized form reads a k×k convolution's input through its
     * row table, which measured {@link #ROW_TABLE_COST} times slower per multiply-add than this
     * tile loop; a 1×1 convolution's rows are evenly spaced and run there at this loop's speed.
     */
    static boolean suits(int cg, int taps, int mg, int columns) {
        if ((long) cg * taps < MIN_DEPTH) return false;
        double here = (double) Gemm.roundUp(mg, FR) * Gemm.roundUp(columns, COLS);
        double there = (double) Gemm.roundUp(mg, Gemm.MR) * Gemm.roundUp(columns, Gemm.NR) * (taps == 1 ? 1 : ROW_TABLE_COST);
        return here <= there;
    }

    /** Time per multiply-add of {@link ConvFloat#gemm}'s tiles reading rows through a table, relative to this form's (one-core microbenchmark, AVX-512). */
    private static final double ROW_TABLE_COST = 1.25;

    /** Floats of {@link #packWeights}' array. */
    static long packedSize(int filters, int groups, int depth) { return (long) groups * Gemm.roundUp(filters / groups, FR) * depth; }

    /**
     * W (per group [filters/group × depth], row-major) as panels of {@link #FR} filters: panel
     * {@code fp} of group {@code grp} holds, depth step by depth step, the step's FR weights
     * (zero past the last filter).
     */
    static float[] packWeights(float[] w, int filters, int groups, int depth) {
        int mg = filters / groups, panels = Gemm.roundUp(mg, FR) / FR;
        float[] packed = new float[Math.toIntExact(packedSize(filters, groups, depth))];
        for (int grp = 0; grp < groups; grp++) {
            for (int fp = 0; fp < panels; fp++) {
                int at = (grp * panels + fp) * depth * FR;
                for (int j = 0; j < FR && fp * FR + j < mg; j++) {
                    int src = (grp * mg + fp * FR + j) * depth;
                    for (int p = 0; p < depth; p++) packed[at + p * FR + j] = w[src + p];
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
        int cg = pr.cg(), mg = pr.mg(), taps = pl.tapAt.length, depth = cg * taps;
        int colPanels = (pl.columns + COLS - 1) / COLS, filterPanels = Gemm.roundUp(mg, FR) / FR;
        int chunk = Math.min(colPanels, ACC_FLOATS / (COLS * FR)), chunks = (colPanels + chunk - 1) / chunk;
        float[] t = input(pr, colPanels, parallel);
        int channelStride = pl.direct ? pr.inSp() : pl.channelStride, imageStride = pr.channels() * channelStride;
        int[] rowAt = pl.tapRows(cg);
        long units = (long) pr.batch() * pr.groups() * chunks * filterPanels;
        boolean threaded = ConvFloat.threaded(pr, depth, parallel);
        int ld = chunk * COLS + VL; // the epilogue reads whole vectors past each row
        Parallel.RangeBody body = (from, to) -> {
            float[] acc = Scratch.floats(Scratch.CONV_TILES, chunk * COLS * FR), rows = Scratch.floats(Scratch.EDGE_TILE, FR * ld);
            for (long unit = from; unit < to; unit++) {
                // filter panel outermost within an image and group: its weights are read from L2 by consecutive tasks
                int part = (int) (unit % chunks), fp = (int) (unit / chunks % filterPanels);
                int grp = (int) (unit / chunks / filterPanels % pr.groups()), b = (int) (unit / chunks / filterPanels / pr.groups());
                int cpFrom = part * chunk, cpTo = Math.min(colPanels, cpFrom + chunk);
                int tAt = (t == pr.x() ? pr.xAt() : 0) + b * imageStride + grp * cg * channelStride;
                int wAt = (grp * filterPanels + fp) * depth * FR;
                for (int pc = 0; pc < depth; pc += DEPTH_BLOCK) {
                    int kc = Math.min(DEPTH_BLOCK, depth - pc);
                    for (int cp = cpFrom; cp < cpTo; cp++) {
                        tile(kc, t, rowAt, pc, tAt + cp * COLS, weights, wAt + pc * FR, acc, (cp - cpFrom) * COLS * FR, pc > 0);
                    }
                }
                // columns × filters → filters × columns, then the usual epilogue
                int cols = (cpTo - cpFrom) * COLS, filters = Math.min(FR, mg - fp * FR), filter = grp * mg + fp * FR;
                for (int j = 0; j < filters; j++) {
                    for (int q = 0; q < cols; q++) rows[j * ld + q] = acc[q * FR + j];
                }
                int q0 = cpFrom * COLS;
                pl.store(rows, 0, ld, filters, q0, Math.min(pl.columns, q0 + cols), pr.y(), pr.yAt() + (b * pr.filters() + filter) * pr.outSp(),
                        pr.outSp(), pr.bias(), filter, pr.residual(), pr.residualShift(), pr.act());
            }
        };
        if (threaded) parallel.forRange(units, body);
        else body.run(0, units);
    }

    /**
     * X as the tiles read it: laid out by the window planes (with slack past the end), or X itself
     * where the planes use it in place and the last tile's columns stay inside its array.
     */
    private static float[] input(ConvFloat.Problem pr, int colPanels, Parallel parallel) {
        WindowPlanes pl = pr.planes();
        if (!pl.direct) return ConvFloat.layOut(pr, parallel);
        int lastRead = pr.xAt() + (pr.batch() - 1) * pr.channels() * pr.inSp() + (pr.channels() - 1) * pr.inSp() + pl.lastTapAt + colPanels * COLS;
        if (lastRead <= pr.x().length) return pr.x();
        int size = pr.batch() * pr.channels() * pr.inSp();
        float[] copy = Scratch.floats(Scratch.CONV_INPUT, size + COLS);
        System.arraycopy(pr.x(), pr.xAt(), copy, 0, size);
        return copy;
    }

    /**
     * One tile: C[COLS × FR] (+)= the input's columns [col, col + COLS) over depth steps
     * [rowFrom, rowFrom + kc) (step p's run at {@code x[rowAt[p] + col]}) times the weights
     * (step p's FR filters at {@code w[wAt + (p − rowFrom)·FR]}). C at {@code c[cAt]}, row i
     * holding column i's FR filters. Written out in full, as Gemm's micro-kernel, so the
     * accumulators stay in registers.
     */
    private static void tile(int kc, float[] x, int[] rowAt, int rowFrom, int col, float[] w, int wAt, float[] c, int cAt, boolean accumulate) {
        FloatVector c0_0 = FloatVector.zero(SPECIES), c0_1 = FloatVector.zero(SPECIES), c0_2 = FloatVector.zero(SPECIES), c0_3 = FloatVector.zero(SPECIES);
        FloatVector c1_0 = FloatVector.zero(SPECIES), c1_1 = FloatVector.zero(SPECIES), c1_2 = FloatVector.zero(SPECIES), c1_3 = FloatVector.zero(SPECIES);
        FloatVector c2_0 = FloatVector.zero(SPECIES), c2_1 = FloatVector.zero(SPECIES), c2_2 = FloatVector.zero(SPECIES), c2_3 = FloatVector.zero(SPECIES);
        FloatVector c3_0 = FloatVector.zero(SPECIES), c3_1 = FloatVector.zero(SPECIES), c3_2 = FloatVector.zero(SPECIES), c3_3 = FloatVector.zero(SPECIES);
        FloatVector c4_0 = FloatVector.zero(SPECIES), c4_1 = FloatVector.zero(SPECIES), c4_2 = FloatVector.zero(SPECIES), c4_3 = FloatVector.zero(SPECIES);
        FloatVector c5_0 = FloatVector.zero(SPECIES), c5_1 = FloatVector.zero(SPECIES), c5_2 = FloatVector.zero(SPECIES), c5_3 = FloatVector.zero(SPECIES);
        for (int p = 0; p < kc; p++) {
            int xo = rowAt[rowFrom + p] + col, wo = wAt + p * FR;
            FloatVector w0 = FloatVector.fromArray(SPECIES, w, wo);
            FloatVector w1 = FloatVector.fromArray(SPECIES, w, wo + VL);
            FloatVector w2 = FloatVector.fromArray(SPECIES, w, wo + 2 * VL);
            FloatVector w3 = FloatVector.fromArray(SPECIES, w, wo + 3 * VL);
            FloatVector x0 = FloatVector.broadcast(SPECIES, x[xo]);
            c0_0 = x0.fma(w0, c0_0); c0_1 = x0.fma(w1, c0_1); c0_2 = x0.fma(w2, c0_2); c0_3 = x0.fma(w3, c0_3);
            FloatVector x1 = FloatVector.broadcast(SPECIES, x[xo + 1]);
            c1_0 = x1.fma(w0, c1_0); c1_1 = x1.fma(w1, c1_1); c1_2 = x1.fma(w2, c1_2); c1_3 = x1.fma(w3, c1_3);
            FloatVector x2 = FloatVector.broadcast(SPECIES, x[xo + 2]);
            c2_0 = x2.fma(w0, c2_0); c2_1 = x2.fma(w1, c2_1); c2_2 = x2.fma(w2, c2_2); c2_3 = x2.fma(w3, c2_3);
            FloatVector x3 = FloatVector.broadcast(SPECIES, x[xo + 3]);
            c3_0 = x3.fma(w0, c3_0); c3_1 = x3.fma(w1, c3_1); c3_2 = x3.fma(w2, c3_2); c3_3 = x3.fma(w3, c3_3);
            FloatVector x4 = FloatVector.broadcast(SPECIES, x[xo + 4]);
            c4_0 = x4.fma(w0, c4_0); c4_1 = x4.fma(w1, c4_1); c4_2 = x4.fma(w2, c4_2); c4_3 = x4.fma(w3, c4_3);
            FloatVector x5 = FloatVector.broadcast(SPECIES, x[xo + 5]);
            c5_0 = x5.fma(w0, c5_0); c5_1 = x5.fma(w1, c5_1); c5_2 = x5.fma(w2, c5_2); c5_3 = x5.fma(w3, c5_3);
        }
        int r0 = cAt, r1 = cAt + FR, r2 = cAt + 2 * FR, r3 = cAt + 3 * FR, r4 = cAt + 4 * FR, r5 = cAt + 5 * FR;
        if (accumulate) {
            c0_0 = c0_0.add(FloatVector.fromArray(SPECIES, c, r0)); c0_1 = c0_1.add(FloatVector.fromArray(SPECIES, c, r0 + VL));
            c0_2 = c0_2.add(FloatVector.fromArray(SPECIES, c, r0 + 2 * VL)); c0_3 = c0_3.add(FloatVector.fromArray(SPECIES, c, r0 + 3 * VL));
            c1_0 = c1_0.add(FloatVector.fromArray(SPECIES, c, r1)); c1_1 = c1_1.add(FloatVector.fromArray(SPECIES, c, r1 + VL));
            c1_2 = c1_2.add(FloatVector.fromArray(SPECIES, c, r1 + 2 * VL)); c1_3 = c1_3.add(FloatVector.fromArray(SPECIES, c, r1 + 3 * VL));
            c2_0 = c2_0.add(FloatVector.fromArray(SPECIES, c, r2)); c2_1 = c2_1.add(FloatVector.fromArray(SPECIES, c, r2 + VL));
            c2_2 = c2_2.add(FloatVector.fromArray(SPECIES, c, r2 + 2 * VL)); c2_3 = c2_3.add(FloatVector.fromArray(SPECIES, c, r2 + 3 * VL));
            c3_0 = c3_0.add(FloatVector.fromArray(SPECIES, c, r3)); c3_1 = c3_1.add(FloatVector.fromArray(SPECIES, c, r3 + VL));
            c3_2 = c3_2.add(FloatVector.fromArray(SPECIES, c, r3 + 2 * VL)); c3_3 = c3_3.add(FloatVector.fromArray(SPECIES, c, r3 + 3 * VL));
            c4_0 = c4_0.add(FloatVector.fromArray(SPECIES, c, r4)); c4_1 = c4_1.add(FloatVector.fromArray(SPECIES, c, r4 + VL));
            c4_2 = c4_2.add(FloatVector.fromArray(SPECIES, c, r4 + 2 * VL)); c4_3 = c4_3.add(FloatVector.fromArray(SPECIES, c, r4 + 3 * VL));
            c5_0 = c5_0.add(FloatVector.fromArray(SPECIES, c, r5)); c5_1 = c5_1.add(FloatVector.fromArray(SPECIES, c, r5 + VL));
            c5_2 = c5_2.add(FloatVector.fromArray(SPECIES, c, r5 + 2 * VL)); c5_3 = c5_3.add(FloatVector.fromArray(SPECIES, c, r5 + 3 * VL));
        }
        c0_0.intoArray(c, r0); c0_1.intoArray(c, r0 + VL); c0_2.intoArray(c, r0 + 2 * VL); c0_3.intoArray(c, r0 + 3 * VL);
        c1_0.intoArray(c, r1); c1_1.intoArray(c, r1 + VL); c1_2.intoArray(c, r1 + 2 * VL); c1_3.intoArray(c, r1 + 3 * VL);
        c2_0.intoArray(c, r2); c2_1.intoArray(c, r2 + VL); c2_2.intoArray(c, r2 + 2 * VL); c2_3.intoArray(c, r2 + 3 * VL);
        c3_0.intoArray(c, r3); c3_1.intoArray(c, r3 + VL); c3_2.intoArray(c, r3 + 2 * VL); c3_3.intoArray(c, r3 + 3 * VL);
        c4_0.intoArray(c, r4); c4_1.intoArray(c, r4 + VL); c4_2.intoArray(c, r4 + 2 * VL); c4_3.intoArray(c, r4 + 3 * VL);
        c5_0.intoArray(c, r5); c5_1.intoArray(c, r5 + VL); c5_2.intoArray(c, r5 + 2 * VL); c5_3.intoArray(c, r5 + 3 * VL);
    }
}
