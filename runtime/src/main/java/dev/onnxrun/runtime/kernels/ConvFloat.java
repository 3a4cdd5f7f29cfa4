package dev.onnxrun.runtime.kernels;

import dev.onnxrun.runtime.Parallel;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * The float32 convolution kernels, on inputs laid out by {@link WindowPlanes}: an implicit GEMM
 * (packed weights times input rows, packed a column panel at a time for all the filter panels)
 * and a direct depthwise kernel. Both finish each
 * output tile with the epilogue (bias, residual, activation) while it is in cache.
 */
final class ConvFloat {
    private ConvFloat() {}

    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final int VL = SPECIES.length(), MR = Gemm.MR, NR = Gemm.NR, KC = Gemm.KC;
    /** Floats of accumulator tiles per task: a column block of all its filters stays in L2 across depth blocks. */
    private static final int BLOCK_FLOATS = 1 << 15;
    /**
     * Up to this depth, whole tiles take {@link Gemm#microKernelOut} (the epilogue in registers,
     * straight to Y). Below it the store through the scratch tile cost as much as the tile's
     * multiply-adds (a 16-deep 1×1 over 112×112: 0.39 of 0.64 ms), at 144 deep only 10–13 %;
     * and each model that uses the method pays for it in its first run, boxed until C2 compiles
     * it (resnet18's first run 631–661 ms against 437–454 with it in its 147-deep first layer).
     */
    private static final int INTO_Y_DEPTH = 64;
    /**
     * Column panels are packed a group at a time, as many as fit this many floats (in L1, at most
     * {@link #MAX_GROUP}), and each filter panel multiplies the whole group before the next: its
     * twelve output rows are then written in runs a group long. Column panel by column panel, the
     * tiles of all the filters were written in turn (60 rows of a 111×111 map at once), more write
     * streams than the hardware follows, and shallow layers waited on their stores: squeezenet's
     * first layer 0.60 → 0.49 ms, mobilenet_v2's 16 → 96 channel 1×1 over 112×112 1.18 → 0.67.
     * Deep layers get groups of one panel, which stays in L1 for all the filter panels.
     */
    private static final int GROUP_FLOATS = 1 << 13, MAX_GROUP = 8;
    /**
     * Below this many multiply-adds a convolution runs on one thread: handing work over (and the
     * data to another core's cache) costs more than it saves. From 2<sup>15</sup>, two threads
     * ran the LeNets' and mobilenet_block's layers (0.1 to 0.3 million) slower than one; at
     * 2<sup>22</sup> squeezenet1_1's 1×1 layers of 1.5 to 4 million ran on one thread and the
     * model 8 % slower at two threads.
     */
    static final long PARALLEL_THRESHOLD = 1L << 20;

    /**
     * One convolution's operands and output, float32, NCHW-like: X from {@code x[xAt]}, Y to
     * {@code y[yAt]}, the residual (optional) laid out as Y with Y's element i at
     * {@code residual[i + residualShift]}.
     */
    record Problem(float[] x, int xAt, float[] y, int yAt, float[] bias, float[] residual, int residualShift, Activation act,
                   WindowPlanes planes, int batch, int channels, int filters, int groups, int inSp, int outSp) {
        int cg() { return channels / groups; }

        int mg() { return filters / groups; }
    }

    /** The weights of each group as packed GEMM left operands, [filters/group × rowLength], in one array. */
    static Gemm.PackedA[] packWeights(float[] w, int filters, int groups, int rowLength) {
        int mg = filters / groups, size = Gemm.leftSize(mg, rowLength);
        float[] panels = new float[Math.toIntExact(packedSize(filters, groups, rowLength))];
        Gemm.PackedA[] packed = new Gemm.PackedA[groups];
        for (int grp = 0; grp < groups; grp++) {
            packed[grp] = Gemm.packLeft(mg, rowLength, Gemm.Matrix.rowMajor(w, grp * mg * rowLength, rowLength), panels, grp * size);
        }
        return packed;
    }

    /** Floats of {@link #packWeights}' array. */
    static long packedSize(int filters, int groups, int rowLength) { return (long) groups * Gemm.leftSize(filters / groups, rowLength); }

    /** {@link #packWeights}' result read back from its array. */
    static Gemm.PackedA[] packedWeights(float[] panels, int filters, int groups, int rowLength) {
        int mg = filters / groups, size = Gemm.leftSize(mg, rowLength);
        Gemm.PackedA[] packed = new Gemm.PackedA[groups];
        for (int grp = 0; grp < groups; grp++) packed[grp] = Gemm.PackedA.over(mg, rowLength, panels, grp * size);
        return packed;
    }

    /**
     * Y = act(W ⊛ X + B + R) as GEMM per (image, group): rows are filters, columns are output
     * columns, depth is (channel, tap). Tasks own (image, group, column block, row range), all
     * depth blocks of it, so threads meet once per convolution.
     */
    static void gemm(Problem pr, Gemm.PackedA[] weights, Parallel parallel) {
        WindowPlanes pl = pr.planes();
        int cg = pr.cg(), mg = pr.mg(), taps = pl.tapAt.length, depth = cg * taps;
        float[] t = pl.direct ? pr.x() : layOut(pr, parallel);
        int imageStride = pl.direct ? pr.channels() * pr.inSp() : pr.channels() * pl.channelStride;
        int[] rowAt = pl.tapRows(cg);
        // where rows carry padding columns, panels of outputs alone when that makes fewer (13×13: 6 panels, not 7)
        WindowPlanes.OutputPanels exact = pl.outputPanels(NR);
        WindowPlanes cols = exact == null ? pl : pl.outputs(); // what the GEMM's columns are, for the stores
        int rowPanels = (mg + MR - 1) / MR, colPanels = exact == null ? (pl.columns + NR - 1) / NR : exact.panels();
        boolean threaded = threaded(pr, depth, parallel);
        long images = (long) pr.batch() * pr.groups(), wanted = threaded ? 4L * parallel.threads() : 1;
        int blockPanels = blockPanels(rowPanels, colPanels, (wanted + images - 1) / images);
        int colBlocks = (colPanels + blockPanels - 1) / blockPanels;
        long units = images * colBlocks;
        int rowChunks = units < wanted ? (int) Math.min(rowPanels, (wanted + units - 1) / units) : 1;
        int chunkPanels = (rowPanels + rowChunks - 1) / rowChunks;
        boolean oneBlock = depth <= KC;
        boolean intoY = depth <= INTO_Y_DEPTH && pr.act().isClamp(); // tiles may take Gemm.microKernelOut
        float low = pr.act().clampLow(), high = pr.act().clampHigh();
        Parallel.RangeBody body = (from, to) -> {
            int ldc = blockPanels * NR;
            float[] acc = Scratch.floats(Scratch.CONV_TILES, (oneBlock ? MR * NR : chunkPanels * MR * ldc) + VL); // the epilogue reads whole vectors
            float[] panels = Scratch.floats(Scratch.B_PANEL, Math.max(GROUP_FLOATS, KC * NR) + VL);
            for (long task = from; task < to; task++) {
                int chunk = (int) (task % rowChunks);
                long unit = task / rowChunks;
                int block = (int) (unit % colBlocks), grp = (int) (unit / colBlocks % pr.groups()), b = (int) (unit / colBlocks / pr.groups());
                int rpFrom = chunk * chunkPanels, rpTo = Math.min(rowPanels, rpFrom + chunkPanels);
                int cpFrom = block * blockPanels, cpTo = Math.min(colPanels, cpFrom + blockPanels);
                int tAt = (pl.direct ? pr.xAt() : 0) + b * imageStride + grp * cg * (pl.direct ? pr.inSp() : pl.channelStride);
                Gemm.PackedA a = weights[grp];
                for (int pc = 0; pc < depth; pc += KC) {
                    int kc = Math.min(KC, depth - pc);
                    boolean lastDepth = pc + kc == depth;
                    int group = Math.clamp(GROUP_FLOATS / (kc * NR), 1, MAX_GROUP);
                    for (int g0 = cpFrom; g0 < cpTo; g0 += group) {
                        int g1 = Math.min(cpTo, g0 + group);
                        // once, for all the filter panels
                        if (exact == null) Gemm.packRows(t, rowAt, pc, kc, tAt + g0 * NR, g1 - g0, panels);
                        else WindowPlanes.packOutputs(exact, t, tAt, rowAt, pc, kc, g0, g1 - g0, NR, panels);
                        for (int rp = rpFrom; rp < rpTo; rp++) {
                            int filter = grp * mg + rp * MR;
                            for (int cp = g0; cp < g1; cp++) {
                                int q0 = cp * NR, q1 = Math.min(cols.columns, q0 + NR), panelAt = (cp - g0) * kc * NR;
                                // a tile of consecutive outputs, shallow, a clamp after the sum, a full-size panel (its missing
                                // filters not stored): epilogue in registers, straight to Y
                                int rows = Math.min(MR, mg - rp * MR);
                                int run = intoY && rows > Gemm.HALF ? cols.outputRun(q0, NR) : -1;
                                if (run >= 0) {
                                    int yAt = pr.yAt() + (b * pr.filters() + filter) * pr.outSp() + run;
                                    Gemm.microKernelOut(kc, a.panels, a.panelAt(pc, rp), panels, panelAt, pr.y(), yAt, pr.outSp(), pr.bias(),
                                            filter, pr.residual(), yAt + pr.residualShift(), low, high, rows);
                                    continue;
                                }
                                // one depth block: each tile is stored as soon as it is made, so one tile's space (in L1) serves them all
                                int cAt = oneBlock ? 0 : (rp - rpFrom) * MR * ldc + (cp - cpFrom) * NR, tileLd = oneBlock ? NR : ldc;
                                Gemm.panelKernel(rows, q1 - q0, kc, a.panels, a.panelAt(pc, rp), panels, panelAt, acc, cAt, tileLd, pc > 0);
                                if (!lastDepth) continue;
                                cols.store(acc, cAt, tileLd, rows, q0, q1, pr.y(),
                                        pr.yAt() + (b * pr.filters() + filter) * pr.outSp(), pr.outSp(), pr.bias(), filter, pr.residual(),
                                        pr.residualShift(), pr.act());
                            }
                        }
                    }
                }
            }
        };
        if (threaded) parallel.forEachTask(Math.toIntExact(units * rowChunks), body);
        else body.run(0, units * rowChunks);
    }

    /**
     * Column panels per task: as many as keep a block's accumulator tiles in L2, fewer where that
     * leaves under {@code blocksWanted} blocks, so each thread gets work. (Splitting the filters
     * instead would make every part pack the same column panels.)
     */
    private static int blockPanels(int rowPanels, int colPanels, long blocksWanted) {
        int fit = Math.clamp(BLOCK_FLOATS / (rowPanels * MR * NR), 1, colPanels);
        int blocks = (int) Math.min(colPanels, blocksWanted);
        return Math.min(fit, (colPanels + blocks - 1) / blocks);
    }

    /** Whether a convolution GEMM over {@code depth} steps is worth spreading over the pool ({@link #gemm}, {@link ConvByFilters}). */
    static boolean threaded(Problem pr, int depth, Parallel parallel) {
        return parallel.threads() > 1 && (long) pr.mg() * depth * pr.planes().columns * pr.batch() * pr.groups() >= PARALLEL_THRESHOLD;
    }

    /** The input of every image and channel laid out by the planes, with slack at the end. */
    static float[] layOut(Problem pr, Parallel parallel) {
        WindowPlanes pl = pr.planes();
        int planes = pr.batch() * pr.channels();
        float[] t = Scratch.laidOut(Scratch.CONV_INPUT, pl, planes * pl.channelStride + WindowPlanes.SLACK, 0f);
        Work.pool(parallel, (long) planes * pl.channelStride).forRange(planes, (from, to) -> {
            for (int c = (int) from; c < to; c++) pl.fill(pr.x(), pr.xAt() + c * pr.inSp(), t, c * pl.channelStride);
        });
        return t;
    }

    /**
     * Convolutions with one input channel per group (depthwise): per channel, lay it out, then
     * run each of its filters over it ({@link #depthwiseFilter}).
     */
    static void depthwise(Problem pr, float[] w, Parallel parallel) {
        WindowPlanes pl = pr.planes();
        int taps = pl.tapAt.length, mg = pr.mg();
        long work = (long) pr.batch() * pr.filters() * pl.columns * taps;
        Work.pool(parallel, work).forRange((long) pr.batch() * pr.channels(), (from, to) -> {
            float[] t = Scratch.laidOut(Scratch.WINDOW_PLANE, pl, pl.channelStride + WindowPlanes.SLACK, 0f), sums = new float[4 * VL];
            for (long bc = from; bc < to; bc++) {
                pl.fill(pr.x(), pr.xAt() + (int) bc * pr.inSp(), t, 0);
                int c = (int) (bc % pr.channels()), b = (int) (bc / pr.channels());
                for (int m = 0; m < mg; m++) {
                    int filter = c * mg + m;
                    depthwiseFilter(pr, t, w, filter * taps, filter, pr.yAt() + (b * pr.filters() + filter) * pr.outSp(), sums);
                }
            }
        });
    }

    /**
     * One depthwise filter over its laid-out channel {@code t}, written to the output channel at
     * {@code yAt}: the taps of four output vectors at a time are summed in registers (four
     * independent chains keep the FMA unit busy), then stored with the activation applied in
     * registers where it is a clamp and nothing is added after the bias, else by a pass over the
     * finished channel. (A method
     * of its own, called per filter, so the JIT compiles it whole rather than as a loop entered
     * midway.)
     */
    private static void depthwiseFilter(Problem pr, float[] t, float[] w, int wAt, int filter, int yAt, float[] sums) {
        WindowPlanes pl = pr.planes();
        int[] tapAt = pl.tapAt, column = pl.vectorColumn;
        int taps = tapAt.length, vectors = column.length;
        Activation act = pr.act();
        boolean fused = act.isClamp() && pr.residual() == null;
        FloatVector low = FloatVector.broadcast(SPECIES, act.clampLow()), high = FloatVector.broadcast(SPECIES, act.clampHigh());
        FloatVector bias = FloatVector.broadcast(SPECIES, pr.bias() == null ? 0f : pr.bias()[filter]);
        int v = 0;
        for (; v + 4 <= vectors; v += 4) {
            int q0 = column[v], q1 = column[v + 1], q2 = column[v + 2], q3 = column[v + 3];
            FloatVector s0 = bias, s1 = bias, s2 = bias, s3 = bias;
            for (int k = 0; k < taps; k++) {
                FloatVector wk = FloatVector.broadcast(SPECIES, w[wAt + k]);
                int at = tapAt[k];
                s0 = FloatVector.fromArray(SPECIES, t, at + q0).fma(wk, s0);
                s1 = FloatVector.fromArray(SPECIES, t, at + q1).fma(wk, s1);
                s2 = FloatVector.fromArray(SPECIES, t, at + q2).fma(wk, s2);
                s3 = FloatVector.fromArray(SPECIES, t, at + q3).fma(wk, s3);
            }
            if (fused) {
                s0 = s0.max(low).min(high);
                s1 = s1.max(low).min(high);
                s2 = s2.max(low).min(high);
                s3 = s3.max(low).min(high);
            }
            s0.intoArray(sums, 0);
            s1.intoArray(sums, VL);
            s2.intoArray(sums, 2 * VL);
            s3.intoArray(sums, 3 * VL);
            for (int i = 0; i < 4; i++) put(sums, i * VL, pr.y(), yAt + pl.vectorOut[v + i], pl.vectorLength[v + i]);
        }
        for (; v < vectors; v++) {
            FloatVector s0 = bias;
            for (int k = 0; k < taps; k++) s0 = FloatVector.fromArray(SPECIES, t, tapAt[k] + column[v]).fma(FloatVector.broadcast(SPECIES, w[wAt + k]), s0);
            (fused ? s0.max(low).min(high) : s0).intoArray(sums, 0);
            put(sums, 0, pr.y(), yAt + pl.vectorOut[v], pl.vectorLength[v]);
        }
        if (!fused) act.apply(pr.y(), yAt, yAt + pr.outSp(), pr.residual(), pr.residualShift());
    }

    /**
     * Copies the first {@code n} (at most a vector) of {@code src[from..]} to {@code y[at..]}.
     * (Vectors go through an array: passed to a helper C2 might not inline, they would be boxed.)
     */
    private static void put(float[] src, int from, float[] y, int at, int n) {
        if (n == VL) {
            FloatVector.fromArray(SPECIES, src, from).intoArray(y, at);
        } else {
            FloatVector.fromArray(SPECIES, src, from).intoArray(y, at, SPECIES.indexInRange(0, n));
        }
    }
}
