package dev.onnxrun.runtime.kernels;

import dev.onnxrun.runtime.Parallel;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Float32 matrix multiply, {@code C (+)= alpha · A · B}, on row-major arrays addressed by explicit
 * row and column strides (so transposed operands need no copy).
 *
 * <p>The fast path follows the usual packed-panel scheme: B is copied in blocks of {@link #KC}
 * rows into panels {@link #NR} columns wide, A into panels {@link #MR} rows tall (scaled by alpha),
 * and a register-blocked MR×NR micro-kernel accumulates with vector FMAs (A values broadcast,
 * B rows loaded as whole vectors). Partial panels are
 * zero-padded when packed, so the micro-kernel never branches on size; only the final store of an
 * edge tile is scalar. Tiles of one packed block are spread over the pool. Constant right
 * operands (weights) can be packed once ({@link #pack}); products with fewer rows than a
 * micro-tile skip packing and stream B with vector axpys or dot products.
 * {@link #reference} is the plain triple loop the fast path is tested against.
 */
public final class Gemm {
    private Gemm() {}

    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final int VL = SPECIES.length();
    private static final VectorSpecies<Integer> INT_SPECIES = SPECIES.withLanes(int.class);
    /**
     * Micro-tile rows: 12 rows × 2 vectors = 24 accumulators, plus 2 B vectors and one broadcast A
     * value, fits 32 vector registers (AVX-512); each step's 14 loads (2 vectors, 12 broadcasts
     * from one cache line or two) feed 24 FMAs. On packed B, 256 deep, it measured some 20 % faster
     * than the 6 × 4 tile it replaced: a step loads half as many B vectors (each one split over two
     * cache lines, float arrays being 16 bytes off a line), and a KC-deep B panel (32 KiB) fits
     * L1. With 16 registers (AVX2) some accumulators spill.
     */
    static final int MR = 12;
    /**
     * Whether the vector registers hold a whole MR × NR tile: AVX-512 has 32, AVX2 16, where the
     * 24 accumulators spilled (the GEMM ran at 34 GFLOP/s at 512³, 8 lanes, against 107 at 16
     * lanes on the same Zen 4 core) and the tile is computed as two {@link #HALF}-row tiles of 12.
     */
    static final boolean WIDE_REGISTERS = VL >= 16;
    /** Rows of {@link #microKernelHalf}. */
    static final int HALF = MR / 2;
    /** Micro-tile columns: two vectors. */
    static final int NR = 2 * VL;
    /** Depth of one packed block; 128 to 384 measured alike within noise for the 12 × 2 tile. */
    static final int KC = 256;
    /** Rows of A packed at once (a multiple of MR). */
    static final int MC = MR * 32;
    /** The most floats of A a task of the product over packed weights packs at once, over the whole depth (4 MiB a thread). */
    private static final long PACKED_A_FLOATS = 1L << 20;
    /** Columns of B packed at once (a multiple of NR). */
    static final int NC = NR * 256;
    /** Up to this many rows, a product with an unpacked B streams B's rows once per row of A instead of packing B. */
    private static final int STREAM_ROWS = 5;
    /** Up to this many multiply-adds, a product with packed B streams its panels a few rows at a time. */
    private static final long SMALL_PACKED = 1 << 15;
    /** Up to this many multiply-adds, a product with an unpacked B takes plain loops ({@link #tinyRow}). */
    private static final long TINY_PRODUCT = 1 << 11;
    /** Below this many multiply-adds, threading costs more than it saves. */
    private static final long PARALLEL_THRESHOLD = 1L << 18;

    /** A float matrix view: element (r, c) is {@code data[offset + r*rowStride + c*colStride]}. */
    public record Matrix(float[] data, int offset, int rowStride, int colStride) {
        public static Matrix rowMajor(float[] data, int offset, int cols) { return new Matrix(data, offset, cols, 1); }

        /** The transpose of this view, without copying. */
        public Matrix transposed() { return new Matrix(data, offset, colStride, rowStride); }

        float get(int r, int c) { return data[offset + r * rowStride + c * colStride]; }
    }

    /**
     * Everything the layout of packed panels depends on: vector lanes, micro-tile and block
     * sizes. Part of the layout key of every packed form saved with a compiled model
     * ({@link PackedForm}), so a file packed on a machine with other vectors is repacked, not misread.
     */
    public static final String PANEL_LAYOUT = "vl=" + VL + " mr=" + MR + " nr=" + NR + " kc=" + KC + " nc=" + NC;

    private static final java.util.concurrent.atomic.AtomicLong PACKINGS = new java.util.concurrent.atomic.AtomicLong();

    /** How many matrices this JVM has packed ({@link #pack}, {@link #packLeft}, {@link Gemv#pack}): shows that a loaded compiled model packed none. */
    public static long packings() { return PACKINGS.get(); }

    /** Counts one packing done elsewhere in {@link #packings}. */
    static void countPacking() { PACKINGS.incrementAndGet(); }

    /**
     * B of a product packed ahead of time (constant weights), in the panel layout the micro-kernel
     * reads from {@code panels[base]}: per block of {@link #NC} columns, per block of {@link #KC}
     * rows, zero-padded panels. Saved with a compiled model as the part "b".
     */
    public static final class PackedB implements PackedForm {
        static final String PART = "b", LAYOUT = "gemm-b v1 " + PANEL_LAYOUT;
        private final int k, n, base;
        private final float[] panels;

        private PackedB(int k, int n, float[] panels, int base) {
            this.k = k;
            this.n = n;
            this.panels = panels;
            this.base = base;
        }

        public int rows() { return k; }

        public int cols() { return n; }

        @Override
        public java.util.Map<String, PackedForm.Part> parts() {
            int size = rightSize(k, n);
            float[] own = base == 0 && panels.length == size ? panels : java.util.Arrays.copyOfRange(panels, base, base + size);
            return java.util.Map.of(PART, new PackedForm.Part(LAYOUT, own));
        }

        /** Where the panels of column block {@code jc} and row block {@code pc} start. */
        int blockAt(int jc, int pc) { return base + jc * k + pc * roundUp(Math.min(NC, n - jc), NR); }

        /** Panels packed earlier for a k×n matrix, read in place from {@code panels[base]}. */
        static PackedB over(int k, int n, float[] panels, int base) { return new PackedB(k, n, panels, base); }
    }

    /** Floats the panels of a packed k×n right operand take. */
    static int rightSize(int k, int n) { return Math.toIntExact((long) k * roundUp(n, NR)); }

    /** Packs the k×n matrix {@code b} for repeated use as the right operand of {@link #multiply}. */
    public static PackedB pack(int k, int n, Matrix b) {
        return pack(k, n, b, new float[rightSize(k, n)], 0);
    }

    /** {@link #pack} into {@code dst} from {@code base}, where {@link #rightSize} floats are free. */
    static PackedB pack(int k, int n, Matrix b, float[] dst, int base) {
        PACKINGS.incrementAndGet();
        PackedB packed = new PackedB(k, n, dst, base);
        for (int jc = 0; jc < n; jc += NC) {
            int nc = Math.min(NC, n - jc);
            for (int pc = 0; pc < k; pc += KC) packB(b, pc, Math.min(KC, k - pc), jc, nc, dst, packed.blockAt(jc, pc));
        }
        return packed;
    }

    /**
     * A of a product packed ahead of time (constant weights), in the panel layout the micro-kernel
     * reads from {@code panels[base]}: per block of {@link #KC} depth steps, the {@link #MR}-row
     * panels of every row, the last zero-padded; a panel holds its MR values of each depth step
     * side by side (see {@link #packA}). Read by drivers in this package that run
     * {@link #microKernel} themselves.
     */
    static final class PackedA {
        final int m, k;
        final float[] panels;
        private final int base;

        private PackedA(int m, int k, float[] panels, int base) {
            this.m = m;
            this.k = k;
            this.panels = panels;
            this.base = base;
        }

        /** Where the panel of rows [rowPanel·MR, +MR) for depth block [pc, pc + KC) starts. */
        int panelAt(int pc, int rowPanel) { return base + pc * roundUp(m, MR) + rowPanel * Math.min(KC, k - pc) * MR; }

        /** Panels packed earlier for an m×k matrix, read in place from {@code panels[base]}. */
        static PackedA over(int m, int k, float[] panels, int base) { return new PackedA(m, k, panels, base); }
    }

    /** Floats the panels of a packed m×k left operand take. */
    static int leftSize(int m, int k) { return Math.toIntExact((long) roundUp(m, MR) * k); }

    /**
     * Packs the m×k matrix {@code a} into {@code dst} from {@code base} ({@link #leftSize} floats)
     * for repeated use as the left operand of {@link #microKernel}.
     */
    static PackedA packLeft(int m, int k, Matrix a, float[] dst, int base) {
        PACKINGS.incrementAndGet();
        int rowPanels = (m + MR - 1) / MR;
        PackedA packed = new PackedA(m, k, dst, base);
        for (int pc = 0; pc < k; pc += KC) {
            for (int rp = 0; rp < rowPanels; rp++) {
                packA(a, 1f, rp * MR, Math.min(MR, m - rp * MR), pc, Math.min(KC, k - pc), dst, packed.panelAt(pc, rp), false);
            }
        }
        return packed;
    }

    /**
     * {@code C[m×n] = alpha·A[m×k]·B[k×n] + (accumulate ? C : 0)}, where C is row-major with row
     * stride {@code ldc} starting at {@code cOffset}.
     */
    public static void multiply(int m, int n, int k, float alpha, Matrix a, Matrix b,
                                float[] c, int cOffset, int ldc, boolean accumulate, Parallel parallel) {
        run(m, n, k, alpha, a, b, null, c, cOffset, ldc, accumulate, parallel);
    }

    /** {@link #multiply} with B packed beforehand. */
    public static void multiply(int m, float alpha, Matrix a, PackedB b, float[] c, int cOffset, int ldc, boolean accumulate,
                                Parallel parallel) {
        run(m, b.n, b.k, alpha, a, null, b, c, cOffset, ldc, accumulate, parallel);
    }

    /**
     * {@code C = before(C); C += alpha·A·B; C = after(C)} with B packed beforehand, where
     * {@code before} and {@code after} run on blocks of C's rows [from, to), counted from its
     * first row: where the product is tiled,
     * on the thread that computes the block, right before and after it, while the rows are in
     * that core's cache (FusedGemm's bias and epilogue: at two threads, run over all rows apart
     * from the product, they took as long as at one, 12 µs of the encoder's 58 µs products).
     */
    public static void multiply(int m, float alpha, Matrix a, PackedB b, float[] c, int cOffset, int ldc, Parallel.RangeBody before,
                                Parallel.RangeBody after, Parallel parallel) {
        if (m <= 0) return;
        long products = (long) m * b.n * b.k;
        if (tilesOverPacked(m, b.k, products)) {
            tiledOverPacked(m, b.n, b.k, alpha, a, b, c, cOffset, ldc, true, before, after, pool(parallel, products));
            return;
        }
        Parallel rows = Work.pool(parallel, (long) m * b.n);
        rows.forRange(m, before);
        run(m, b.n, b.k, alpha, a, null, b, c, cOffset, ldc, true, parallel);
        rows.forRange(m, after);
    }

    /** {@code parallel} for a product of {@code products} multiply-adds, else the serial pool. */
    private static Parallel pool(Parallel parallel, long products) {
        return products < PARALLEL_THRESHOLD ? Parallel.SERIAL : parallel;
    }

    /** Whether a product over packed weights of m rows and depth k is tiled ({@link #tiledOverPacked}), not done a few rows at a time. */
    private static boolean tilesOverPacked(int m, int k, long products) {
        return k > 0 && m >= MR && products > SMALL_PACKED;
    }

    /** The product with B either as a matrix ({@code b}) or packed ({@code prepacked}; {@code b} is then null). */
    private static void run(int m, int n, int k, float alpha, Matrix a, Matrix b, PackedB prepacked,
                            float[] c, int cOffset, int ldc, boolean accumulate, Parallel parallel) {
        if (m <= 0 || n <= 0) return;
        long products = (long) m * n * k;
        boolean packedRows = prepacked != null && k > 0 && !tilesOverPacked(m, k, products);
        boolean tiny = prepacked == null && products <= TINY_PRODUCT && b.colStride() == 1;
        boolean streamB = prepacked == null && m <= STREAM_ROWS && (b.colStride() == 1 || b.rowStride() == 1);
        boolean tiled = k > 0 && !packedRows && !tiny && !streamB;
        // Tiles write over C in their first depth block; the few-row paths add into it.
        if (!accumulate && !tiled) {
            for (int i = 0; i < m; i++) java.util.Arrays.fill(c, cOffset + i * ldc, cOffset + i * ldc + n, 0f);
        }
        if (k <= 0) return;
        Parallel par = pool(parallel, products);
        if (packedRows) {
            // A few rows (or a small product) times packed weights: the panels stream through in
            // order, with no A to pack and no partial tiles. A lone row takes eight panels at a time,
            // other rows two (each group in one block of NC columns, NC being a multiple of 8·NR).
            int unit = m == 1 ? 8 : 2;
            par.forRange((n + unit * NR - 1) / (unit * NR), (from, to) -> {
                float[] sums = Scratch.floats(Scratch.EDGE_TILE, 8 * NR);
                for (int p = unit * (int) from; p < unit * to; p += unit) {
                    int col = p * NR, jc = col / NC * NC, cols = Math.min(unit * NR, n - col);
                    for (int pc = 0; pc < k; pc += KC) {
                        int kc = Math.min(KC, k - pc), panel = prepacked.blockAt(jc, pc) + (col - jc) / NR * kc * NR;
                        if (m == 1) {
                            panelRowEight(a.data(), a.offset() + pc * a.colStride(), a.colStride(), kc, prepacked.panels, panel, kc * NR,
                                    (cols + NR - 1) / NR, sums);
                            FloatArrays.addScaled(sums, 0, alpha, c, cOffset + col, cols);
                        } else {
                            panelRows(m, a, 0, pc, kc, alpha, prepacked.panels, panel, cols > NR ? kc * NR : 0, c, cOffset + col, ldc, cols, sums);
                        }
                    }
                }
            });
            return;
        }
        if (tiny) {
            // Attention heads of tiny models: plain loops over rows of B cost less than packing.
            float[] row = n <= VL ? new float[VL] : null;
            for (int i = 0; i < m; i++) tinyRow(i, n, k, alpha, a, b, c, cOffset + i * ldc, row);
            return;
        }
        if (streamB) {
            // A few rows (batch-1 inference): packing would cost as much as the product, so stream B.
            par.forRange(n, (from, to) -> {
                for (int i = 0; i < m; i++) fewRows(i, (int) from, (int) to, k, alpha, a, b, c, cOffset + i * ldc);
            });
            return;
        }
        if (prepacked != null) {
            tiledOverPacked(m, n, k, alpha, a, prepacked, c, cOffset, ldc, accumulate, null, null, par);
            return;
        }
        // held by this thread while the pool's tasks read them
        float[] packedB = Scratch.floats(Scratch.GEMM_PACKED_B, Math.min(KC, k) * roundUp(Math.min(NC, n), NR));
        float[] packedA = Scratch.floats(Scratch.GEMM_PACKED_A, roundUp(Math.min(MC, m), MR) * Math.min(KC, k));
        for (int jc = 0; jc < n; jc += NC) {
            int nc = Math.min(NC, n - jc);
            int colPanels = (nc + NR - 1) / NR;
            for (int pc = 0; pc < k; pc += KC) {
                int kc = Math.min(KC, k - pc), aPanel = kc * MR;
                final int jc0 = jc, pc0 = pc;
                boolean add = accumulate || pc > 0;
                par.forRange(colPanels, (from, to) -> {
                    int col = (int) from * NR;
                    packB(b, pc0, kc, jc0 + col, Math.min(nc - col, (int) (to - from) * NR), packedB, (int) from * kc * NR);
                });
                for (int ic = 0; ic < m; ic += MC) {
                    int mc = Math.min(MC, m - ic);
                    int rowPanels = (mc + MR - 1) / MR;
                    final int ic0 = ic;
                    par.forRange(rowPanels, (from, to) -> {
                        for (int p = (int) from; p < to; p++) packA(a, alpha, ic0 + p * MR, Math.min(MR, mc - p * MR), pc0, kc, packedA, p * aPanel, true);
                    });
                    // Consecutive tiles share a B panel, which stays in cache while the A panels stream by.
                    par.forRange((long) rowPanels * colPanels, (from, to) -> {
                        float[] edge = Scratch.floats(Scratch.EDGE_TILE, MR * NR);
                        for (long t = from; t < to; t++) {
                            int rp = (int) (t % rowPanels), cp = (int) (t / rowPanels);
                            int rows = Math.min(MR, mc - rp * MR), cols = Math.min(NR, nc - cp * NR);
                            int cAt = cOffset + (ic0 + rp * MR) * ldc + jc0 + cp * NR;
                            int panel = cp * kc * NR;
                            if (rows == MR && cols == NR) {
                                microKernel(kc, packedA, rp * aPanel, packedB, panel, c, cAt, ldc, add);
                            } else {
                                // Edge tile: compute the full tile into a scratch buffer, then add (or write) the part that exists.
                                microKernel(kc, packedA, rp * aPanel, packedB, panel, edge, 0, NR, false);
                                writeEdgeTile(edge, 0, rows, cols, c, cAt, ldc, add);
                            }
                        }
                    });
                }
            }
        }
    }

    /**
     * The tiled product over B packed beforehand (weights). Tasks own blocks of rows: a task packs
     * its rows of A over the whole depth, then computes them against every column panel of B
     * (each depth block of a B panel stays in L1 while the task's row panels pass), so threads
     * meet once per product and a thread reads only the A it packed. (With A packed by all
     * threads and tasks by column panel, every task read rows of A another core had just
     * written: the encoder's 128×256×256 product took 58 µs at two threads, 81 at one.)
     * On one thread, or with few rows, one task packs all of A (at most MC rows at a time).
     */
    private static void tiledOverPacked(int m, int n, int k, float alpha, Matrix a, PackedB b, float[] c, int cOffset, int ldc,
                                        boolean accumulate, Parallel.RangeBody before, Parallel.RangeBody after, Parallel par) {
        int colPanels = (n + NR - 1) / NR, rowPanels = (m + MR - 1) / MR;
        // row panels a task packs: at most MC rows, fewer where they would pass PACKED_A_FLOATS over the whole depth,
        // fewer again so that each thread has a share
        int fit = (int) Math.clamp(PACKED_A_FLOATS / k / MR, 1, MC / MR);
        int perTask = Math.min(fit, (rowPanels + par.threads() - 1) / par.threads()), tasks = (rowPanels + perTask - 1) / perTask;
        par.forEachTask(tasks, (from, to) -> {
            float[] packedA = Scratch.floats(Scratch.GEMM_PACKED_A, perTask * MR * k);
            float[] edge = Scratch.floats(Scratch.EDGE_TILE, perTask * MR * NR);
            for (int task = (int) from; task < to; task++) {
                int ic = task * perTask * MR, mc = Math.min(perTask * MR, m - ic), panels = (mc + MR - 1) / MR;
                if (before != null) before.run(ic, ic + mc);
                PackedA pa = new PackedA(mc, k, packedA, 0);
                for (int pc = 0; pc < k; pc += KC) {
                    for (int rp = 0; rp < panels; rp++) {
                        packA(a, alpha, ic + rp * MR, Math.min(MR, mc - rp * MR), pc, Math.min(KC, k - pc), packedA, pa.panelAt(pc, rp), true);
                    }
                }
                for (int cp = 0; cp < colPanels; cp++) {
                    int col = cp * NR, cols = Math.min(NR, n - col), jc = col / NC * NC;
                    for (int pc = 0; pc < k; pc += KC) {
                        int kc = Math.min(KC, k - pc), panel = b.blockAt(jc, pc) + (col - jc) / NR * kc * NR;
                        for (int rp = 0; rp < panels; rp++) {
                            // an edge tile is made whole in a scratch tile, then its part that exists goes to C
                            if (cols == NR && mc - rp * MR >= MR) {
                                microKernel(kc, packedA, pa.panelAt(pc, rp), b.panels, panel, c, cOffset + (ic + rp * MR) * ldc + col, ldc,
                                        accumulate || pc > 0);
                            } else {
                                microKernel(kc, packedA, pa.panelAt(pc, rp), b.panels, panel, edge, rp * MR * NR, NR, pc > 0);
                            }
                        }
                    }
                    for (int rp = 0; rp < panels; rp++) {
                        int rows = Math.min(MR, mc - rp * MR);
                        if (cols < NR || rows < MR) writeEdgeTile(edge, rp * MR * NR, rows, cols, c, cOffset + (ic + rp * MR) * ldc + col, ldc, accumulate);
                    }
                }
                if (after != null) after.run(ic, ic + mc);
            }
        });
    }

    /** The rows × cols part that exists of an edge tile made whole at {@code edge[edgeAt]} (rows NR apart), added to C or written over it. */
    private static void writeEdgeTile(float[] edge, int edgeAt, int rows, int cols, float[] c, int cAt, int ldc, boolean add) {
        for (int i = 0; i < rows; i++) {
            if (add) FloatArrays.addScaled(edge, edgeAt + i * NR, 1f, c, cAt + i * ldc, cols);
            else System.arraycopy(edge, edgeAt + i * NR, c, cAt + i * ldc, cols);
        }
    }

    /**
     * Row {@code i} of C over columns [from, to): axpy over rows of B when they are contiguous,
     * else dot products with B's contiguous columns.
     */
    private static void fewRows(int i, int from, int to, int k, float alpha, Matrix a, Matrix b, float[] c, int cRow) {
        float[] ad = a.data(), bd = b.data();
        int aRow = a.offset() + i * a.rowStride(), acs = a.colStride();
        if (b.colStride() == 1) {
            // Four vectors of C stay in registers over the whole depth; only B is streamed.
            int brs = b.rowStride(), j = from;
            for (; j + 4 * VL <= to; j += 4 * VL) {
                FloatVector c0 = FloatVector.zero(SPECIES), c1 = FloatVector.zero(SPECIES), c2 = FloatVector.zero(SPECIES), c3 = FloatVector.zero(SPECIES);
                for (int p = 0, bAt = b.offset() + j; p < k; p++, bAt += brs) {
                    FloatVector va = FloatVector.broadcast(SPECIES, ad[aRow + p * acs]);
                    c0 = FloatVector.fromArray(SPECIES, bd, bAt).fma(va, c0);
                    c1 = FloatVector.fromArray(SPECIES, bd, bAt + VL).fma(va, c1);
                    c2 = FloatVector.fromArray(SPECIES, bd, bAt + 2 * VL).fma(va, c2);
                    c3 = FloatVector.fromArray(SPECIES, bd, bAt + 3 * VL).fma(va, c3);
                }
                FloatVector.fromArray(SPECIES, c, cRow + j).add(c0.mul(alpha)).intoArray(c, cRow + j);
                FloatVector.fromArray(SPECIES, c, cRow + j + VL).add(c1.mul(alpha)).intoArray(c, cRow + j + VL);
                FloatVector.fromArray(SPECIES, c, cRow + j + 2 * VL).add(c2.mul(alpha)).intoArray(c, cRow + j + 2 * VL);
                FloatVector.fromArray(SPECIES, c, cRow + j + 3 * VL).add(c3.mul(alpha)).intoArray(c, cRow + j + 3 * VL);
            }
            for (; j + VL <= to; j += VL) {
                FloatVector acc = FloatVector.zero(SPECIES);
                for (int p = 0, bAt = b.offset() + j; p < k; p++, bAt += brs) {
                    acc = FloatVector.fromArray(SPECIES, bd, bAt).fma(FloatVector.broadcast(SPECIES, ad[aRow + p * acs]), acc);
                }
                FloatVector.fromArray(SPECIES, c, cRow + j).add(acc.mul(alpha)).intoArray(c, cRow + j);
            }
            // the last columns one at a time: a masked vector could run past the end of B or C
            for (; j < to; j++) {
                float sum = 0;
                for (int p = 0, bAt = b.offset() + j; p < k; p++, bAt += brs) sum += ad[aRow + p * acs] * bd[bAt];
                c[cRow + j] += alpha * sum;
            }
            return;
        }
        int upper = SPECIES.loopBound(k);
        for (int j = from; j < to; j++) {
            int bCol = b.offset() + j * b.colStride();
            FloatVector acc = FloatVector.zero(SPECIES);
            int p = 0;
            if (acs == 1) {
                for (; p < upper; p += VL) {
                    acc = FloatVector.fromArray(SPECIES, ad, aRow + p).fma(FloatVector.fromArray(SPECIES, bd, bCol + p), acc);
                }
            }
            float sum = FloatFastPaths.sumLanes(acc);
            for (; p < k; p++) sum += ad[aRow + p * acs] * bd[bCol + p];
            c[cRow + j] += alpha * sum;
        }
    }

    /**
     * Adds alpha · A[row..row+rows) × [pc..pc+kc) × (two adjacent packed B panels) to C at
     * {@code cAt} (rows {@code ldc} apart, first {@code cols} columns, at most 2·NR): rows four at
     * a time, then a pair, then one alone, each group's product staged in {@code sums} (8·NR
     * floats) before it is added to C. The second panel starts {@code second} floats after the
     * first; where there is none, pass 0 and the first one's product is made twice (and dropped):
     * two panels a call give a lone row four FMA chains, where one panel's two chains wait on
     * the FMA latency.
     */
    private static void panelRows(int rows, Matrix a, int row, int pc, int kc, float alpha, float[] pb, int panel, int second, float[] c,
                                  int cAt, int ldc, int cols, float[] sums) {
        int rs = a.rowStride(), cs = a.colStride(), aAt = a.offset() + row * rs + pc * cs;
        for (int i = 0; i < rows; ) {
            int group = rows - i >= 4 ? 4 : Math.min(2, rows - i);
            if (group == 4) panelRowQuad(a.data(), aAt + i * rs, rs, cs, kc, pb, panel, second, sums);
            else if (group == 2) panelRowPair(a.data(), aAt + i * rs, aAt + (i + 1) * rs, cs, kc, pb, panel, second, sums);
            else panelRow(a.data(), aAt + i * rs, cs, kc, pb, panel, second, sums);
            for (int g = 0; g < group; g++) FloatArrays.addScaled(sums, 2 * g * NR, alpha, c, cAt + (i + g) * ldc, cols);
            i += group;
        }
    }

    /**
     * sums[0..2·NR) = (one row of A, {@code kc} deep, elements {@code acs} apart) × (two packed B
     * panels, {@code second} apart): four vectors in registers over the whole depth while the
     * panels stream through in order. Kept this small on purpose: C1 gives up on larger vector
     * methods ("out of virtual registers"), and a method stuck below C2 runs its vector code
     * hundreds of times slower.
     */
    private static void panelRow(float[] ad, int aAt, int acs, int kc, float[] pb, int panel, int second, float[] sums) {
        FloatVector c0 = FloatVector.zero(SPECIES), c1 = FloatVector.zero(SPECIES), c2 = FloatVector.zero(SPECIES), c3 = FloatVector.zero(SPECIES);
        for (int l = 0, at = panel, at2 = panel + second; l < kc; l++, at += NR, at2 += NR) {
            FloatVector va = FloatVector.broadcast(SPECIES, ad[aAt + l * acs]);
            c0 = FloatVector.fromArray(SPECIES, pb, at).fma(va, c0);
            c1 = FloatVector.fromArray(SPECIES, pb, at + VL).fma(va, c1);
            c2 = FloatVector.fromArray(SPECIES, pb, at2).fma(va, c2);
            c3 = FloatVector.fromArray(SPECIES, pb, at2 + VL).fma(va, c3);
        }
        c0.intoArray(sums, 0);
        c1.intoArray(sums, VL);
        c2.intoArray(sums, 2 * VL);
        c3.intoArray(sums, 3 * VL);
    }

    /**
     * sums[0..8·NR) = (one row of A, {@code kc} deep, elements {@code acs} apart) × (the first
     * {@code count} of eight packed B panels, {@code apart} floats apart; the rest repeat the first,
     * and are dropped). A lone row's product streams B from memory, and eight streams at once
     * fetch it faster than {@link #panelRow}'s two (1280 × 1000 weights from DRAM, one thread:
     * 230 → 170 µs at 16 lanes, 276–301 → 216–224 at 8, where the 16 sums do not all fit in
     * registers).
     */
    private static void panelRowEight(float[] ad, int aAt, int acs, int kc, float[] pb, int panel, int apart, int count, float[] sums) {
        int s1 = count > 1 ? apart : 0, s2 = count > 2 ? 2 * apart : 0, s3 = count > 3 ? 3 * apart : 0, s4 = count > 4 ? 4 * apart : 0;
        int s5 = count > 5 ? 5 * apart : 0, s6 = count > 6 ? 6 * apart : 0, s7 = count > 7 ? 7 * apart : 0;
        FloatVector zero = FloatVector.zero(SPECIES);
        FloatVector c0 = zero, c1 = zero, c2 = zero, c3 = zero, c4 = zero, c5 = zero, c6 = zero, c7 = zero;
        FloatVector d0 = zero, d1 = zero, d2 = zero, d3 = zero, d4 = zero, d5 = zero, d6 = zero, d7 = zero;
        for (int l = 0, at = panel; l < kc; l++, at += NR) {
            FloatVector va = FloatVector.broadcast(SPECIES, ad[aAt + l * acs]);
            c0 = FloatVector.fromArray(SPECIES, pb, at).fma(va, c0);
            d0 = FloatVector.fromArray(SPECIES, pb, at + VL).fma(va, d0);
            c1 = FloatVector.fromArray(SPECIES, pb, at + s1).fma(va, c1);
            d1 = FloatVector.fromArray(SPECIES, pb, at + s1 + VL).fma(va, d1);
            c2 = FloatVector.fromArray(SPECIES, pb, at + s2).fma(va, c2);
            d2 = FloatVector.fromArray(SPECIES, pb, at + s2 + VL).fma(va, d2);
            c3 = FloatVector.fromArray(SPECIES, pb, at + s3).fma(va, c3);
            d3 = FloatVector.fromArray(SPECIES, pb, at + s3 + VL).fma(va, d3);
            c4 = FloatVector.fromArray(SPECIES, pb, at + s4).fma(va, c4);
            d4 = FloatVector.fromArray(SPECIES, pb, at + s4 + VL).fma(va, d4);
            c5 = FloatVector.fromArray(SPECIES, pb, at + s5).fma(va, c5);
            d5 = FloatVector.fromArray(SPECIES, pb, at + s5 + VL).fma(va, d5);
            c6 = FloatVector.fromArray(SPECIES, pb, at + s6).fma(va, c6);
            d6 = FloatVector.fromArray(SPECIES, pb, at + s6 + VL).fma(va, d6);
            c7 = FloatVector.fromArray(SPECIES, pb, at + s7).fma(va, c7);
            d7 = FloatVector.fromArray(SPECIES, pb, at + s7 + VL).fma(va, d7);
        }
        c0.intoArray(sums, 0); d0.intoArray(sums, VL); c1.intoArray(sums, NR); d1.intoArray(sums, NR + VL);
        c2.intoArray(sums, 2 * NR); d2.intoArray(sums, 2 * NR + VL); c3.intoArray(sums, 3 * NR); d3.intoArray(sums, 3 * NR + VL);
        c4.intoArray(sums, 4 * NR); d4.intoArray(sums, 4 * NR + VL); c5.intoArray(sums, 5 * NR); d5.intoArray(sums, 5 * NR + VL);
        c6.intoArray(sums, 6 * NR); d6.intoArray(sums, 6 * NR + VL); c7.intoArray(sums, 7 * NR); d7.intoArray(sums, 7 * NR + VL);
    }

    /** {@link #panelRow} for two rows at once (into sums[0..2NR) and [2NR..4NR)), each B vector loaded once for both. */
    private static void panelRowPair(float[] ad, int aAt, int aAt2, int acs, int kc, float[] pb, int panel, int second, float[] sums) {
        FloatVector c0 = FloatVector.zero(SPECIES), c1 = FloatVector.zero(SPECIES), c2 = FloatVector.zero(SPECIES), c3 = FloatVector.zero(SPECIES);
        FloatVector d0 = FloatVector.zero(SPECIES), d1 = FloatVector.zero(SPECIES), d2 = FloatVector.zero(SPECIES), d3 = FloatVector.zero(SPECIES);
        for (int l = 0, at = panel, at2 = panel + second; l < kc; l++, at += NR, at2 += NR) {
            FloatVector va = FloatVector.broadcast(SPECIES, ad[aAt + l * acs]), vb = FloatVector.broadcast(SPECIES, ad[aAt2 + l * acs]);
            FloatVector b0 = FloatVector.fromArray(SPECIES, pb, at), b1 = FloatVector.fromArray(SPECIES, pb, at + VL);
            FloatVector b2 = FloatVector.fromArray(SPECIES, pb, at2), b3 = FloatVector.fromArray(SPECIES, pb, at2 + VL);
            c0 = b0.fma(va, c0); c1 = b1.fma(va, c1); c2 = b2.fma(va, c2); c3 = b3.fma(va, c3);
            d0 = b0.fma(vb, d0); d1 = b1.fma(vb, d1); d2 = b2.fma(vb, d2); d3 = b3.fma(vb, d3);
        }
        c0.intoArray(sums, 0);
        c1.intoArray(sums, VL);
        c2.intoArray(sums, 2 * VL);
        c3.intoArray(sums, 3 * VL);
        d0.intoArray(sums, 2 * NR);
        d1.intoArray(sums, 2 * NR + VL);
        d2.intoArray(sums, 2 * NR + 2 * VL);
        d3.intoArray(sums, 2 * NR + 3 * VL);
    }

    /**
     * {@link #panelRow} for four rows at once ({@code ars} apart, into sums[0..8·NR)): 16
     * accumulators, and each step's four B vectors feed 16 FMAs where a pair's feed 8.
     */
    private static void panelRowQuad(float[] ad, int aAt, int ars, int acs, int kc, float[] pb, int panel, int second, float[] sums) {
        int a1 = aAt + ars, a2 = aAt + 2 * ars, a3 = aAt + 3 * ars;
        FloatVector c00 = FloatVector.zero(SPECIES), c01 = FloatVector.zero(SPECIES), c02 = FloatVector.zero(SPECIES), c03 = FloatVector.zero(SPECIES);
        FloatVector c10 = FloatVector.zero(SPECIES), c11 = FloatVector.zero(SPECIES), c12 = FloatVector.zero(SPECIES), c13 = FloatVector.zero(SPECIES);
        FloatVector c20 = FloatVector.zero(SPECIES), c21 = FloatVector.zero(SPECIES), c22 = FloatVector.zero(SPECIES), c23 = FloatVector.zero(SPECIES);
        FloatVector c30 = FloatVector.zero(SPECIES), c31 = FloatVector.zero(SPECIES), c32 = FloatVector.zero(SPECIES), c33 = FloatVector.zero(SPECIES);
        for (int l = 0, at = panel, at2 = panel + second; l < kc; l++, at += NR, at2 += NR) {
            int o = l * acs;
            FloatVector b0 = FloatVector.fromArray(SPECIES, pb, at), b1 = FloatVector.fromArray(SPECIES, pb, at + VL);
            FloatVector b2 = FloatVector.fromArray(SPECIES, pb, at2), b3 = FloatVector.fromArray(SPECIES, pb, at2 + VL);
            FloatVector v = FloatVector.broadcast(SPECIES, ad[aAt + o]);
            c00 = b0.fma(v, c00); c01 = b1.fma(v, c01); c02 = b2.fma(v, c02); c03 = b3.fma(v, c03);
            v = FloatVector.broadcast(SPECIES, ad[a1 + o]);
            c10 = b0.fma(v, c10); c11 = b1.fma(v, c11); c12 = b2.fma(v, c12); c13 = b3.fma(v, c13);
            v = FloatVector.broadcast(SPECIES, ad[a2 + o]);
            c20 = b0.fma(v, c20); c21 = b1.fma(v, c21); c22 = b2.fma(v, c22); c23 = b3.fma(v, c23);
            v = FloatVector.broadcast(SPECIES, ad[a3 + o]);
            c30 = b0.fma(v, c30); c31 = b1.fma(v, c31); c32 = b2.fma(v, c32); c33 = b3.fma(v, c33);
        }
        c00.intoArray(sums, 0); c01.intoArray(sums, VL); c02.intoArray(sums, 2 * VL); c03.intoArray(sums, 3 * VL);
        c10.intoArray(sums, 2 * NR); c11.intoArray(sums, 2 * NR + VL); c12.intoArray(sums, 2 * NR + 2 * VL); c13.intoArray(sums, 2 * NR + 3 * VL);
        c20.intoArray(sums, 4 * NR); c21.intoArray(sums, 4 * NR + VL); c22.intoArray(sums, 4 * NR + 2 * VL); c23.intoArray(sums, 4 * NR + 3 * VL);
        c30.intoArray(sums, 6 * NR); c31.intoArray(sums, 6 * NR + VL); c32.intoArray(sums, 6 * NR + 2 * VL); c33.intoArray(sums, 6 * NR + 3 * VL);
    }

    /**
     * Row {@code i} of C += alpha · A[i, :] · B, B's rows contiguous. A row of C no wider than a
     * vector ({@code row} given) is summed in one vector: each step loads a whole vector from B's
     * row, the lanes past the row's end landing in lanes that are dropped (B's last rows, whose
     * vector would run past the array, in scalars). Wider rows take scalar axpys.
     */
    private static void tinyRow(int i, int n, int k, float alpha, Matrix a, Matrix b, float[] c, int cRow, float[] row) {
        float[] ad = a.data(), bd = b.data();
        int aRow = a.offset() + i * a.rowStride(), acs = a.colStride(), brs = b.rowStride();
        int p = 0, bRow = b.offset();
        if (row != null) {
            FloatVector acc = FloatVector.zero(SPECIES);
            for (; p < k && bRow + VL <= bd.length; p++, bRow += brs) {
                acc = FloatVector.fromArray(SPECIES, bd, bRow).fma(FloatVector.broadcast(SPECIES, ad[aRow + p * acs]), acc);
            }
            acc.intoArray(row, 0);
            for (int j = 0; j < n; j++) c[cRow + j] += alpha * row[j];
        }
        for (; p < k; p++, bRow += brs) {
            float av = alpha * ad[aRow + p * acs];
            for (int j = 0; j < n; j++) c[cRow + j] += av * bd[bRow + j];
        }
    }

    /** The textbook triple loop with the same contract as {@link #multiply}; the reference for tests. */
    public static void reference(int m, int n, int k, float alpha, Matrix a, Matrix b,
                                 float[] c, int cOffset, int ldc, boolean accumulate) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double sum = 0;
                for (int p = 0; p < k; p++) sum += (double) a.get(i, p) * b.get(p, j);
                int at = cOffset + i * ldc + j;
                c[at] = (accumulate ? c[at] : 0f) + (float) (alpha * sum);
            }
        }
    }

    static int roundUp(int x, int multiple) { return (x + multiple - 1) / multiple * multiple; }

    /**
     * Copies B[pc..pc+kc) × [col..col+cols) into consecutive panels from {@code dst[at]} (panel q
     * from {@code at + q·kc·NR}), the last zero-padded to NR columns. Row by row across all the
     * panels, so a row-major B is read in order: panel by panel, each row's few vectors came from
     * another page, and the misses of a B not in cache waited one by one (the 512×512 product
     * spent three times as long packing B as packing the same B in cache).
     */
    private static void packB(Matrix b, int pc, int kc, int col, int cols, float[] dst, int at) {
        float[] src = b.data();
        int rs = b.rowStride(), cs = b.colStride(), panels = (cols + NR - 1) / NR;
        for (int p = 0; p < kc; p++) {
            int base = b.offset() + (pc + p) * rs + col * cs;
            for (int q = 0; q < panels; q++) {
                int o = at + q * kc * NR + p * NR, from = q * NR, width = Math.min(NR, cols - from), j = 0;
                if (cs == 1) {
                    // Vector copies: a panel row is a few vectors, too short for System.arraycopy's call to pay off.
                    for (; j + VL <= width; j += VL) FloatVector.fromArray(SPECIES, src, base + from + j).intoArray(dst, o + j);
                }
                for (; j < width; j++) dst[o + j] = src[base + (from + j) * cs];
                for (; j < NR; j++) dst[o + j] = 0f;
            }
        }
    }

    /**
     * Packs kc rows of B read in place into {@code panels} consecutive panels as
     * {@link #microKernel} reads them: the NR floats at {@code src[rowAt[rowFrom + p] + col + j·NR]}
     * to {@code dst[(j·kc + p)·NR]}, those past the end of {@code src} as zeros.
     */
    static void packRows(float[] src, int[] rowAt, int rowFrom, int kc, int col, int panels, float[] dst) {
        for (int j = 0; j < panels; j++) {
            for (int p = 0; p < kc; p++) packRow(src, rowAt[rowFrom + p] + col + j * NR, dst, (j * kc + p) * NR);
        }
    }

    /** {@link #packRows} for rows evenly spaced: row p at {@code src[from + p·stride]}. */
    static void packRows(float[] src, int from, int stride, int kc, float[] panel) {
        for (int p = 0; p < kc; p++) packRow(src, from + p * stride, panel, p * NR);
    }

    /** The NR floats at {@code src[from]} to {@code panel[at]}, those past the end of {@code src} as zeros. */
    private static void packRow(float[] src, int from, float[] panel, int at) {
        if (from + NR <= src.length) {
            FloatVector.fromArray(SPECIES, src, from).intoArray(panel, at);
            FloatVector.fromArray(SPECIES, src, from + VL).intoArray(panel, at + VL);
        } else {
            int n = Math.max(0, src.length - from);
            System.arraycopy(src, from, panel, at, n);
            Arrays.fill(panel, at + n, at + NR, 0f);
        }
    }

    /**
     * Two vectors interleaved lane by lane, from their low halves and from their high halves (the
     * first selects of a 4 × VL transpose here; Winograd's and the depthwise kernels' too).
     */
    static final IntVector ZIP_LOW = lanes(i -> i / 2 + i % 2 * VL), ZIP_HIGH = lanes(i -> VL / 2 + i / 2 + i % 2 * VL);
    /** The second select: interleaves pairs of two zipped row pairs, giving each step's four rows side by side. */
    private static final IntVector PAIRS_LOW = lanes(i -> 2 * (i / 4) + (i % 4 < 2 ? i % 4 : VL + i % 4 - 2)),
            PAIRS_HIGH = lanes(i -> VL / 2 + 2 * (i / 4) + (i % 4 < 2 ? i % 4 : VL + i % 4 - 2));
    /**
     * Lane i of the selects that merge the three transposed row groups (rows 0-3, 4-7, 8-11; VL/4
     * steps each, a step's four rows side by side) into vector j of their panel layout (a step's
     * twelve rows side by side): FIRST{j} takes lane i from group 0 or 1 (its other lanes are
     * don't-cares), SECOND{j} keeps that or takes group 2's.
     */
    private static final IntVector FIRST0 = merge(0, false), FIRST1 = merge(1, false), FIRST2 = merge(2, false);
    private static final IntVector SECOND0 = merge(0, true), SECOND1 = merge(1, true), SECOND2 = merge(2, true);

    private static IntVector merge(int part, boolean second) {
        return lanes(i -> {
            int at = part * VL + i, group = at % MR / 4, lane = at / MR * 4 + at % 4;
            if (second) return group == 2 ? VL + lane : i;
            return group == 0 ? lane : group == 1 ? VL + lane : 0;
        });
    }

    /**
     * An index vector for {@code selectFrom(v1, v2)}: lane i picks lane {@code index(i)} of v1
     * (below VL) or v2 (VL and up). Integer lanes, used on floats reinterpreted as ints: with
     * float indices C2 converts them to integers, and checks the conversion, at every select
     * (the stride-2 depthwise kernel's row loop: 82–90 instructions with them, 38–48 without).
     * Here rather than in a kernel that uses it because every convolution kernel depends on this
     * class, and this class on none of them (a cycle in static initialization can deadlock two
     * threads loading the classes at once).
     */
    static IntVector lanes(java.util.function.IntUnaryOperator index) {
        int[] lanes = new int[VL];
        for (int i = 0; i < VL; i++) lanes[i] = index.applyAsInt(i);
        return IntVector.fromArray(INT_SPECIES, lanes, 0);
    }

    /**
     * Copies alpha·A[row..row+rows) × [pc..pc+kc) into one panel, step by step: each depth
     * step's MR values (one per row, zero past {@code rows}) side by side, so the micro-kernel
     * broadcasts them at fixed offsets from one index (three index streams, one per four rows,
     * cost it 5-15 % on strided B, where the loop's scalar work is the limit). A row-major A packs
     * the panel's twelve rows × VL steps at a time, all in registers: per four rows two rounds of
     * two-vector selects (a transpose) give each step's four values side by side, and two more
     * selects per output vector merge the three groups, stored as whole vectors. The selects run on
     * the values' bits as ints: with float indices each one converts and checks its indices.
     * Value by value measured twice as slow, and the quarter-vector masked stores this replaced
     * (one per step and four rows) three times as slow. Weights packed once while a model
     * compiles go value by value ({@code vectors} false): there the JVM is cold, and vector code
     * not yet compiled by C2 runs boxed, far slower than a plain loop (resnet18's load took 0.2 s
     * longer).
     */
    private static void packA(Matrix a, float alpha, int row, int rows, int pc, int kc, float[] dst, int at, boolean vectors) {
        float[] src = a.data();
        int rs = a.rowStride(), cs = a.colStride(), vectorSteps = 0;
        if (vectors && cs == 1 && MR == 12 && VL % 4 == 0) {
            vectorSteps = kc / VL * VL;
            int r0 = a.offset() + row * rs + pc;
            for (int l = 0; l < vectorSteps; l += VL) {
                int from = r0 + l;
                IntVector v0 = rowOrZero(src, from, 0, rows, rs), v1 = rowOrZero(src, from, 1, rows, rs);
                IntVector v2 = rowOrZero(src, from, 2, rows, rs), v3 = rowOrZero(src, from, 3, rows, rs);
                IntVector lo01 = ZIP_LOW.selectFrom(v0, v1), hi01 = ZIP_HIGH.selectFrom(v0, v1);
                IntVector lo23 = ZIP_LOW.selectFrom(v2, v3), hi23 = ZIP_HIGH.selectFrom(v2, v3);
                IntVector g0s0 = PAIRS_LOW.selectFrom(lo01, lo23), g0s1 = PAIRS_HIGH.selectFrom(lo01, lo23);
                IntVector g0s2 = PAIRS_LOW.selectFrom(hi01, hi23), g0s3 = PAIRS_HIGH.selectFrom(hi01, hi23);
                v0 = rowOrZero(src, from, 4, rows, rs); v1 = rowOrZero(src, from, 5, rows, rs);
                v2 = rowOrZero(src, from, 6, rows, rs); v3 = rowOrZero(src, from, 7, rows, rs);
                lo01 = ZIP_LOW.selectFrom(v0, v1); hi01 = ZIP_HIGH.selectFrom(v0, v1);
                lo23 = ZIP_LOW.selectFrom(v2, v3); hi23 = ZIP_HIGH.selectFrom(v2, v3);
                IntVector g1s0 = PAIRS_LOW.selectFrom(lo01, lo23), g1s1 = PAIRS_HIGH.selectFrom(lo01, lo23);
                IntVector g1s2 = PAIRS_LOW.selectFrom(hi01, hi23), g1s3 = PAIRS_HIGH.selectFrom(hi01, hi23);
                v0 = rowOrZero(src, from, 8, rows, rs); v1 = rowOrZero(src, from, 9, rows, rs);
                v2 = rowOrZero(src, from, 10, rows, rs); v3 = rowOrZero(src, from, 11, rows, rs);
                lo01 = ZIP_LOW.selectFrom(v0, v1); hi01 = ZIP_HIGH.selectFrom(v0, v1);
                lo23 = ZIP_LOW.selectFrom(v2, v3); hi23 = ZIP_HIGH.selectFrom(v2, v3);
                IntVector g2s0 = PAIRS_LOW.selectFrom(lo01, lo23), g2s1 = PAIRS_HIGH.selectFrom(lo01, lo23);
                IntVector g2s2 = PAIRS_LOW.selectFrom(hi01, hi23), g2s3 = PAIRS_HIGH.selectFrom(hi01, hi23);
                // g{group}s{k}: VL/4 steps from l + k·VL/4, four rows each; each k fills three vectors of the
                // panel. All written out: C2 declined to inline a helper taking the vectors, and boxed them, and
                // loops over the groups and quarters, passing the vectors through a scratch array, packed 1.5-2× slower.
                int d = at + MR * l, quarter = MR * VL / 4;
                SECOND0.selectFrom(FIRST0.selectFrom(g0s0, g1s0), g2s0).reinterpretAsFloats().mul(alpha).intoArray(dst, d);
                SECOND1.selectFrom(FIRST1.selectFrom(g0s0, g1s0), g2s0).reinterpretAsFloats().mul(alpha).intoArray(dst, d + VL);
                SECOND2.selectFrom(FIRST2.selectFrom(g0s0, g1s0), g2s0).reinterpretAsFloats().mul(alpha).intoArray(dst, d + 2 * VL);
                SECOND0.selectFrom(FIRST0.selectFrom(g0s1, g1s1), g2s1).reinterpretAsFloats().mul(alpha).intoArray(dst, d + quarter);
                SECOND1.selectFrom(FIRST1.selectFrom(g0s1, g1s1), g2s1).reinterpretAsFloats().mul(alpha).intoArray(dst, d + quarter + VL);
                SECOND2.selectFrom(FIRST2.selectFrom(g0s1, g1s1), g2s1).reinterpretAsFloats().mul(alpha).intoArray(dst, d + quarter + 2 * VL);
                SECOND0.selectFrom(FIRST0.selectFrom(g0s2, g1s2), g2s2).reinterpretAsFloats().mul(alpha).intoArray(dst, d + 2 * quarter);
                SECOND1.selectFrom(FIRST1.selectFrom(g0s2, g1s2), g2s2).reinterpretAsFloats().mul(alpha).intoArray(dst, d + 2 * quarter + VL);
                SECOND2.selectFrom(FIRST2.selectFrom(g0s2, g1s2), g2s2).reinterpretAsFloats().mul(alpha).intoArray(dst, d + 2 * quarter + 2 * VL);
                SECOND0.selectFrom(FIRST0.selectFrom(g0s3, g1s3), g2s3).reinterpretAsFloats().mul(alpha).intoArray(dst, d + 3 * quarter);
                SECOND1.selectFrom(FIRST1.selectFrom(g0s3, g1s3), g2s3).reinterpretAsFloats().mul(alpha).intoArray(dst, d + 3 * quarter + VL);
                SECOND2.selectFrom(FIRST2.selectFrom(g0s3, g1s3), g2s3).reinterpretAsFloats().mul(alpha).intoArray(dst, d + 3 * quarter + 2 * VL);
            }
        }
        for (int i = 0; i < MR; i++) {
            int o = at + i, base = a.offset() + (row + i) * rs + pc * cs;
            for (int l = vectorSteps; l < kc; l++) dst[o + MR * l] = i < rows ? alpha * src[base + l * cs] : 0f;
        }
    }

    /** VL steps of row {@code i} of a panel whose rows start at {@code from}, {@code rs} apart, as bits; zeros past {@code rows}. */
    private static IntVector rowOrZero(float[] src, int from, int i, int rows, int rs) {
        return i < rows ? FloatVector.fromArray(SPECIES, src, from + i * rs).reinterpretAsInts() : IntVector.zero(INT_SPECIES);
    }

    /**
     * The product of one packed A panel and kc rows of B, added to the MR×NR tile of C at
     * {@code cAt} ({@code accumulate}) or written over it. B is a packed panel: row p is the NR
     * floats at {@code pb[bAt + p·NR]} ({@link #packB}, {@link #packRows}). The C update is
     * written out here rather than in a helper taking vectors: a helper C2 declines to inline
     * makes it box the accumulators, several times slower.
     *
     * <p>One form of B, addresses affine in the step, and no test inside the loop, because the
     * loop must keep every value it uses in a register and C2 must hoist its bounds checks. B's
     * rows read through a table of offsets (a convolution's input in place) cost a load and two
     * bounds checks a step: in L1, 128 deep, 155–165 GFLOP/s against 212–224 on a panel (AVX-512,
     * peak 244), so convolutions pack their rows ({@link #packRows}) once per panel, which all the
     * filter panels then share. When B had two forms in one loop, C2 compiled it well or badly
     * depending on which form the profile had seen first (5–8 values reloaded from the stack a
     * step in some JVMs, convolutions 10–30 % slower).
     */
    static void microKernel(int kc, float[] pa, int aAt, float[] pb, int bAt, float[] c, int cAt, int ldc,
                            boolean accumulate) {
        if (!WIDE_REGISTERS) {
            microKernelFour(kc, pa, aAt, pb, bAt, c, cAt, ldc, accumulate);
            microKernelFour(kc, pa, aAt + 4, pb, bAt, c, cAt + 4 * ldc, ldc, accumulate);
            microKernelFour(kc, pa, aAt + 8, pb, bAt, c, cAt + 8 * ldc, ldc, accumulate);
            return;
        }
        FloatVector c0_0 = FloatVector.zero(SPECIES), c0_1 = FloatVector.zero(SPECIES), c1_0 = FloatVector.zero(SPECIES), c1_1 = FloatVector.zero(SPECIES);
        FloatVector c2_0 = FloatVector.zero(SPECIES), c2_1 = FloatVector.zero(SPECIES), c3_0 = FloatVector.zero(SPECIES), c3_1 = FloatVector.zero(SPECIES);
        FloatVector c4_0 = FloatVector.zero(SPECIES), c4_1 = FloatVector.zero(SPECIES), c5_0 = FloatVector.zero(SPECIES), c5_1 = FloatVector.zero(SPECIES);
        FloatVector c6_0 = FloatVector.zero(SPECIES), c6_1 = FloatVector.zero(SPECIES), c7_0 = FloatVector.zero(SPECIES), c7_1 = FloatVector.zero(SPECIES);
        FloatVector c8_0 = FloatVector.zero(SPECIES), c8_1 = FloatVector.zero(SPECIES), c9_0 = FloatVector.zero(SPECIES), c9_1 = FloatVector.zero(SPECIES);
        FloatVector c10_0 = FloatVector.zero(SPECIES), c10_1 = FloatVector.zero(SPECIES), c11_0 = FloatVector.zero(SPECIES), c11_1 = FloatVector.zero(SPECIES);
        for (int l = 0; l < kc; l++) {
            int bo = bAt + NR * l;
            int a0 = aAt + MR * l;
            FloatVector b0 = FloatVector.fromArray(SPECIES, pb, bo), b1 = FloatVector.fromArray(SPECIES, pb, bo + VL);
            FloatVector v0 = FloatVector.broadcast(SPECIES, pa[a0]);
            c0_0 = v0.fma(b0, c0_0); c0_1 = v0.fma(b1, c0_1);
            FloatVector v1 = FloatVector.broadcast(SPECIES, pa[a0 + 1]);
            c1_0 = v1.fma(b0, c1_0); c1_1 = v1.fma(b1, c1_1);
            FloatVector v2 = FloatVector.broadcast(SPECIES, pa[a0 + 2]);
            c2_0 = v2.fma(b0, c2_0); c2_1 = v2.fma(b1, c2_1);
            FloatVector v3 = FloatVector.broadcast(SPECIES, pa[a0 + 3]);
            c3_0 = v3.fma(b0, c3_0); c3_1 = v3.fma(b1, c3_1);
            FloatVector v4 = FloatVector.broadcast(SPECIES, pa[a0 + 4]);
            c4_0 = v4.fma(b0, c4_0); c4_1 = v4.fma(b1, c4_1);
            FloatVector v5 = FloatVector.broadcast(SPECIES, pa[a0 + 5]);
            c5_0 = v5.fma(b0, c5_0); c5_1 = v5.fma(b1, c5_1);
            FloatVector v6 = FloatVector.broadcast(SPECIES, pa[a0 + 6]);
            c6_0 = v6.fma(b0, c6_0); c6_1 = v6.fma(b1, c6_1);
            FloatVector v7 = FloatVector.broadcast(SPECIES, pa[a0 + 7]);
            c7_0 = v7.fma(b0, c7_0); c7_1 = v7.fma(b1, c7_1);
            FloatVector v8 = FloatVector.broadcast(SPECIES, pa[a0 + 8]);
            c8_0 = v8.fma(b0, c8_0); c8_1 = v8.fma(b1, c8_1);
            FloatVector v9 = FloatVector.broadcast(SPECIES, pa[a0 + 9]);
            c9_0 = v9.fma(b0, c9_0); c9_1 = v9.fma(b1, c9_1);
            FloatVector v10 = FloatVector.broadcast(SPECIES, pa[a0 + 10]);
            c10_0 = v10.fma(b0, c10_0); c10_1 = v10.fma(b1, c10_1);
            FloatVector v11 = FloatVector.broadcast(SPECIES, pa[a0 + 11]);
            c11_0 = v11.fma(b0, c11_0); c11_1 = v11.fma(b1, c11_1);
        }
        if (accumulate) {
            c0_0 = c0_0.add(FloatVector.fromArray(SPECIES, c, cAt)); c0_1 = c0_1.add(FloatVector.fromArray(SPECIES, c, cAt + VL));
            c1_0 = c1_0.add(FloatVector.fromArray(SPECIES, c, cAt + ldc)); c1_1 = c1_1.add(FloatVector.fromArray(SPECIES, c, cAt + ldc + VL));
            c2_0 = c2_0.add(FloatVector.fromArray(SPECIES, c, cAt + 2 * ldc)); c2_1 = c2_1.add(FloatVector.fromArray(SPECIES, c, cAt + 2 * ldc + VL));
            c3_0 = c3_0.add(FloatVector.fromArray(SPECIES, c, cAt + 3 * ldc)); c3_1 = c3_1.add(FloatVector.fromArray(SPECIES, c, cAt + 3 * ldc + VL));
            c4_0 = c4_0.add(FloatVector.fromArray(SPECIES, c, cAt + 4 * ldc)); c4_1 = c4_1.add(FloatVector.fromArray(SPECIES, c, cAt + 4 * ldc + VL));
            c5_0 = c5_0.add(FloatVector.fromArray(SPECIES, c, cAt + 5 * ldc)); c5_1 = c5_1.add(FloatVector.fromArray(SPECIES, c, cAt + 5 * ldc + VL));
            c6_0 = c6_0.add(FloatVector.fromArray(SPECIES, c, cAt + 6 * ldc)); c6_1 = c6_1.add(FloatVector.fromArray(SPECIES, c, cAt + 6 * ldc + VL));
            c7_0 = c7_0.add(FloatVector.fromArray(SPECIES, c, cAt + 7 * ldc)); c7_1 = c7_1.add(FloatVector.fromArray(SPECIES, c, cAt + 7 * ldc + VL));
            c8_0 = c8_0.add(FloatVector.fromArray(SPECIES, c, cAt + 8 * ldc)); c8_1 = c8_1.add(FloatVector.fromArray(SPECIES, c, cAt + 8 * ldc + VL));
            c9_0 = c9_0.add(FloatVector.fromArray(SPECIES, c, cAt + 9 * ldc)); c9_1 = c9_1.add(FloatVector.fromArray(SPECIES, c, cAt + 9 * ldc + VL));
            c10_0 = c10_0.add(FloatVector.fromArray(SPECIES, c, cAt + 10 * ldc)); c10_1 = c10_1.add(FloatVector.fromArray(SPECIES, c, cAt + 10 * ldc + VL));
            c11_0 = c11_0.add(FloatVector.fromArray(SPECIES, c, cAt + 11 * ldc)); c11_1 = c11_1.add(FloatVector.fromArray(SPECIES, c, cAt + 11 * ldc + VL));
        }
        c0_0.intoArray(c, cAt); c0_1.intoArray(c, cAt + VL);
        c1_0.intoArray(c, cAt + ldc); c1_1.intoArray(c, cAt + ldc + VL);
        c2_0.intoArray(c, cAt + 2 * ldc); c2_1.intoArray(c, cAt + 2 * ldc + VL);
        c3_0.intoArray(c, cAt + 3 * ldc); c3_1.intoArray(c, cAt + 3 * ldc + VL);
        c4_0.intoArray(c, cAt + 4 * ldc); c4_1.intoArray(c, cAt + 4 * ldc + VL);
        c5_0.intoArray(c, cAt + 5 * ldc); c5_1.intoArray(c, cAt + 5 * ldc + VL);
        c6_0.intoArray(c, cAt + 6 * ldc); c6_1.intoArray(c, cAt + 6 * ldc + VL);
        c7_0.intoArray(c, cAt + 7 * ldc); c7_1.intoArray(c, cAt + 7 * ldc + VL);
        c8_0.intoArray(c, cAt + 8 * ldc); c8_1.intoArray(c, cAt + 8 * ldc + VL);
        c9_0.intoArray(c, cAt + 9 * ldc); c9_1.intoArray(c, cAt + 9 * ldc + VL);
        c10_0.intoArray(c, cAt + 10 * ldc); c10_1.intoArray(c, cAt + 10 * ldc + VL);
        c11_0.intoArray(c, cAt + 11 * ldc); c11_1.intoArray(c, cAt + 11 * ldc + VL);
    }

    /**
     * {@link #microKernel} over one whole depth block with the convolution epilogue in registers:
     * row i of the tile, plus {@code bias[biasAt + i]} and the residual's row at
     * {@code residual[residualAt + i·yStride]} (each none when null) and limited to [low, high],
     * goes straight to {@code y[yAt + i·yStride]}, NR consecutive outputs. Shallow
     * convolutions (16 to 64 deep, mobilenet's and squeezenet's 1×1 layers) spent as long in the
     * tile's store through a scratch tile and {@link WindowPlanes#store} as in its multiply-adds:
     * mobilenet's 16→96 1×1 over 112×112 took 0.47–0.54 ms this way against 0.57–0.59.
     * A method of its own: the same epilogue inside {@link #microKernel} made plain GEMMs 20 %
     * slower with an identical inner loop (code layout), and one method with both epilogues was
     * too large for C1 in some JVMs ("out of virtual registers"; the GEMM then ran interpreted
     * until C2 came), so the loop is written out twice. The
     * clamp is max and min, not {@link FloatFastPaths#clamp}: C2 declined to inline that here
     * (NodeCountInliningCutoff), boxing every vector passed to it (four times slower).
     */
    static void microKernelOut(int kc, float[] pa, int aAt, float[] pb, int bAt, float[] y, int yAt, int yStride,
                               float[] bias, int biasAt, float[] residual, int residualAt, float low, float high, int rows) {
        if (!WIDE_REGISTERS) {
            for (int r = 0; r < rows; r += 4) {
                microKernelOutFour(kc, pa, aAt + r, pb, bAt, y, yAt + r * yStride, yStride, bias, biasAt + r, residual, residualAt + r * yStride,
                        low, high, Math.min(4, rows - r));
            }
            return;
        }
        FloatVector c0_0 = FloatVector.zero(SPECIES), c0_1 = FloatVector.zero(SPECIES), c1_0 = FloatVector.zero(SPECIES), c1_1 = FloatVector.zero(SPECIES);
        FloatVector c2_0 = FloatVector.zero(SPECIES), c2_1 = FloatVector.zero(SPECIES), c3_0 = FloatVector.zero(SPECIES), c3_1 = FloatVector.zero(SPECIES);
        FloatVector c4_0 = FloatVector.zero(SPECIES), c4_1 = FloatVector.zero(SPECIES), c5_0 = FloatVector.zero(SPECIES), c5_1 = FloatVector.zero(SPECIES);
        FloatVector c6_0 = FloatVector.zero(SPECIES), c6_1 = FloatVector.zero(SPECIES), c7_0 = FloatVector.zero(SPECIES), c7_1 = FloatVector.zero(SPECIES);
        FloatVector c8_0 = FloatVector.zero(SPECIES), c8_1 = FloatVector.zero(SPECIES), c9_0 = FloatVector.zero(SPECIES), c9_1 = FloatVector.zero(SPECIES);
        FloatVector c10_0 = FloatVector.zero(SPECIES), c10_1 = FloatVector.zero(SPECIES), c11_0 = FloatVector.zero(SPECIES), c11_1 = FloatVector.zero(SPECIES);
        for (int l = 0; l < kc; l++) {
            int bo = bAt + NR * l;
            int a0 = aAt + MR * l;
            FloatVector b0 = FloatVector.fromArray(SPECIES, pb, bo), b1 = FloatVector.fromArray(SPECIES, pb, bo + VL);
            FloatVector v0 = FloatVector.broadcast(SPECIES, pa[a0]);
            c0_0 = v0.fma(b0, c0_0); c0_1 = v0.fma(b1, c0_1);
            FloatVector v1 = FloatVector.broadcast(SPECIES, pa[a0 + 1]);
            c1_0 = v1.fma(b0, c1_0); c1_1 = v1.fma(b1, c1_1);
            FloatVector v2 = FloatVector.broadcast(SPECIES, pa[a0 + 2]);
            c2_0 = v2.fma(b0, c2_0); c2_1 = v2.fma(b1, c2_1);
            FloatVector v3 = FloatVector.broadcast(SPECIES, pa[a0 + 3]);
            c3_0 = v3.fma(b0, c3_0); c3_1 = v3.fma(b1, c3_1);
            FloatVector v4 = FloatVector.broadcast(SPECIES, pa[a0 + 4]);
            c4_0 = v4.fma(b0, c4_0); c4_1 = v4.fma(b1, c4_1);
            FloatVector v5 = FloatVector.broadcast(SPECIES, pa[a0 + 5]);
            c5_0 = v5.fma(b0, c5_0); c5_1 = v5.fma(b1, c5_1);
            FloatVector v6 = FloatVector.broadcast(SPECIES, pa[a0 + 6]);
            c6_0 = v6.fma(b0, c6_0); c6_1 = v6.fma(b1, c6_1);
            FloatVector v7 = FloatVector.broadcast(SPECIES, pa[a0 + 7]);
            c7_0 = v7.fma(b0, c7_0); c7_1 = v7.fma(b1, c7_1);
            FloatVector v8 = FloatVector.broadcast(SPECIES, pa[a0 + 8]);
            c8_0 = v8.fma(b0, c8_0); c8_1 = v8.fma(b1, c8_1);
            FloatVector v9 = FloatVector.broadcast(SPECIES, pa[a0 + 9]);
            c9_0 = v9.fma(b0, c9_0); c9_1 = v9.fma(b1, c9_1);
            FloatVector v10 = FloatVector.broadcast(SPECIES, pa[a0 + 10]);
            c10_0 = v10.fma(b0, c10_0); c10_1 = v10.fma(b1, c10_1);
            FloatVector v11 = FloatVector.broadcast(SPECIES, pa[a0 + 11]);
            c11_0 = v11.fma(b0, c11_0); c11_1 = v11.fma(b1, c11_1);
        }
        c0_0 = c0_0.add(bias == null ? 0f : bias[biasAt]); c0_1 = c0_1.add(bias == null ? 0f : bias[biasAt]);
        c1_0 = c1_0.add(bias == null ? 0f : bias[biasAt + 1]); c1_1 = c1_1.add(bias == null ? 0f : bias[biasAt + 1]);
        c2_0 = c2_0.add(bias == null ? 0f : bias[biasAt + 2]); c2_1 = c2_1.add(bias == null ? 0f : bias[biasAt + 2]);
        c3_0 = c3_0.add(bias == null ? 0f : bias[biasAt + 3]); c3_1 = c3_1.add(bias == null ? 0f : bias[biasAt + 3]);
        c4_0 = c4_0.add(bias == null ? 0f : bias[biasAt + 4]); c4_1 = c4_1.add(bias == null ? 0f : bias[biasAt + 4]);
        c5_0 = c5_0.add(bias == null ? 0f : bias[biasAt + 5]); c5_1 = c5_1.add(bias == null ? 0f : bias[biasAt + 5]);
        c6_0 = c6_0.add(bias == null ? 0f : bias[biasAt + 6]); c6_1 = c6_1.add(bias == null ? 0f : bias[biasAt + 6]);
        c7_0 = c7_0.add(bias == null || rows <= 7 ? 0f : bias[biasAt + 7]); c7_1 = c7_1.add(bias == null || rows <= 7 ? 0f : bias[biasAt + 7]);
        c8_0 = c8_0.add(bias == null || rows <= 8 ? 0f : bias[biasAt + 8]); c8_1 = c8_1.add(bias == null || rows <= 8 ? 0f : bias[biasAt + 8]);
        c9_0 = c9_0.add(bias == null || rows <= 9 ? 0f : bias[biasAt + 9]); c9_1 = c9_1.add(bias == null || rows <= 9 ? 0f : bias[biasAt + 9]);
        c10_0 = c10_0.add(bias == null || rows <= 10 ? 0f : bias[biasAt + 10]); c10_1 = c10_1.add(bias == null || rows <= 10 ? 0f : bias[biasAt + 10]);
        c11_0 = c11_0.add(bias == null || rows <= 11 ? 0f : bias[biasAt + 11]); c11_1 = c11_1.add(bias == null || rows <= 11 ? 0f : bias[biasAt + 11]);
        if (residual != null) {
            c0_0 = c0_0.add(FloatVector.fromArray(SPECIES, residual, residualAt)); c0_1 = c0_1.add(FloatVector.fromArray(SPECIES, residual, residualAt + VL));
            c1_0 = c1_0.add(FloatVector.fromArray(SPECIES, residual, residualAt + 1 * yStride)); c1_1 = c1_1.add(FloatVector.fromArray(SPECIES, residual, residualAt + 1 * yStride + VL));
            c2_0 = c2_0.add(FloatVector.fromArray(SPECIES, residual, residualAt + 2 * yStride)); c2_1 = c2_1.add(FloatVector.fromArray(SPECIES, residual, residualAt + 2 * yStride + VL));
            c3_0 = c3_0.add(FloatVector.fromArray(SPECIES, residual, residualAt + 3 * yStride)); c3_1 = c3_1.add(FloatVector.fromArray(SPECIES, residual, residualAt + 3 * yStride + VL));
            c4_0 = c4_0.add(FloatVector.fromArray(SPECIES, residual, residualAt + 4 * yStride)); c4_1 = c4_1.add(FloatVector.fromArray(SPECIES, residual, residualAt + 4 * yStride + VL));
            c5_0 = c5_0.add(FloatVector.fromArray(SPECIES, residual, residualAt + 5 * yStride)); c5_1 = c5_1.add(FloatVector.fromArray(SPECIES, residual, residualAt + 5 * yStride + VL));
            c6_0 = c6_0.add(FloatVector.fromArray(SPECIES, residual, residualAt + 6 * yStride)); c6_1 = c6_1.add(FloatVector.fromArray(SPECIES, residual, residualAt + 6 * yStride + VL));
            if (rows > 7) { c7_0 = c7_0.add(FloatVector.fromArray(SPECIES, residual, residualAt + 7 * yStride)); c7_1 = c7_1.add(FloatVector.fromArray(SPECIES, residual, residualAt + 7 * yStride + VL)); }
            if (rows > 8) { c8_0 = c8_0.add(FloatVector.fromArray(SPECIES, residual, residualAt + 8 * yStride)); c8_1 = c8_1.add(FloatVector.fromArray(SPECIES, residual, residualAt + 8 * yStride + VL)); }
            if (rows > 9) { c9_0 = c9_0.add(FloatVector.fromArray(SPECIES, residual, residualAt + 9 * yStride)); c9_1 = c9_1.add(FloatVector.fromArray(SPECIES, residual, residualAt + 9 * yStride + VL)); }
            if (rows > 10) { c10_0 = c10_0.add(FloatVector.fromArray(SPECIES, residual, residualAt + 10 * yStride)); c10_1 = c10_1.add(FloatVector.fromArray(SPECIES, residual, residualAt + 10 * yStride + VL)); }
            if (rows > 11) { c11_0 = c11_0.add(FloatVector.fromArray(SPECIES, residual, residualAt + 11 * yStride)); c11_1 = c11_1.add(FloatVector.fromArray(SPECIES, residual, residualAt + 11 * yStride + VL)); }
        }
        c0_0.max(low).min(high).intoArray(y, yAt); c0_1.max(low).min(high).intoArray(y, yAt + VL);
        c1_0.max(low).min(high).intoArray(y, yAt + 1 * yStride); c1_1.max(low).min(high).intoArray(y, yAt + 1 * yStride + VL);
        c2_0.max(low).min(high).intoArray(y, yAt + 2 * yStride); c2_1.max(low).min(high).intoArray(y, yAt + 2 * yStride + VL);
        c3_0.max(low).min(high).intoArray(y, yAt + 3 * yStride); c3_1.max(low).min(high).intoArray(y, yAt + 3 * yStride + VL);
        c4_0.max(low).min(high).intoArray(y, yAt + 4 * yStride); c4_1.max(low).min(high).intoArray(y, yAt + 4 * yStride + VL);
        c5_0.max(low).min(high).intoArray(y, yAt + 5 * yStride); c5_1.max(low).min(high).intoArray(y, yAt + 5 * yStride + VL);
        c6_0.max(low).min(high).intoArray(y, yAt + 6 * yStride); c6_1.max(low).min(high).intoArray(y, yAt + 6 * yStride + VL);
        if (rows > 7) { c7_0.max(low).min(high).intoArray(y, yAt + 7 * yStride); c7_1.max(low).min(high).intoArray(y, yAt + 7 * yStride + VL); }
        if (rows > 8) { c8_0.max(low).min(high).intoArray(y, yAt + 8 * yStride); c8_1.max(low).min(high).intoArray(y, yAt + 8 * yStride + VL); }
        if (rows > 9) { c9_0.max(low).min(high).intoArray(y, yAt + 9 * yStride); c9_1.max(low).min(high).intoArray(y, yAt + 9 * yStride + VL); }
        if (rows > 10) { c10_0.max(low).min(high).intoArray(y, yAt + 10 * yStride); c10_1.max(low).min(high).intoArray(y, yAt + 10 * yStride + VL); }
        if (rows > 11) { c11_0.max(low).min(high).intoArray(y, yAt + 11 * yStride); c11_1.max(low).min(high).intoArray(y, yAt + 11 * yStride + VL); }
    }

    /**
     * {@link #microKernel} for a panel of which only the first {@code rows} rows and {@code cols}
     * columns exist (more than MR or NR: all of them): {@link #microKernelNarrow} where the
     * columns fit one vector, {@link #microKernelHalf} where the rows fit it, so a last panel of a
     * few filters or a few columns costs half a full one.
     */
    static void panelKernel(int rows, int cols, int kc, float[] pa, int aAt, float[] pb, int bAt, float[] c, int cAt, int ldc,
                            boolean accumulate) {
        if (cols <= VL) microKernelNarrow(kc, pa, aAt, pb, bAt, c, cAt, ldc, accumulate);
        else if (rows <= HALF) microKernelHalf(kc, pa, aAt, pb, bAt, c, cAt, ldc, accumulate);
        else microKernel(kc, pa, aAt, pb, bAt, c, cAt, ldc, accumulate);
    }

    /**
     * {@link #microKernel} for the first vector of the panel's columns alone, for a last panel
     * with no more columns than that (a 13×13 map's 169 outputs are five panels and 9 columns):
     * half the multiply-adds of a full panel whose other columns are dropped. The same packed A
     * and B; only the first VL columns of each of the MR rows of C are written.
     */
    static void microKernelNarrow(int kc, float[] pa, int aAt, float[] pb, int bAt, float[] c, int cAt, int ldc,
                                  boolean accumulate) {
        FloatVector c0 = FloatVector.zero(SPECIES), c1 = FloatVector.zero(SPECIES), c2 = FloatVector.zero(SPECIES), c3 = FloatVector.zero(SPECIES);
        FloatVector c4 = FloatVector.zero(SPECIES), c5 = FloatVector.zero(SPECIES), c6 = FloatVector.zero(SPECIES), c7 = FloatVector.zero(SPECIES);
        FloatVector c8 = FloatVector.zero(SPECIES), c9 = FloatVector.zero(SPECIES), c10 = FloatVector.zero(SPECIES), c11 = FloatVector.zero(SPECIES);
        for (int l = 0; l < kc; l++) {
            int a0 = aAt + MR * l;
            FloatVector b0 = FloatVector.fromArray(SPECIES, pb, bAt + NR * l);
            c0 = FloatVector.broadcast(SPECIES, pa[a0]).fma(b0, c0);
            c1 = FloatVector.broadcast(SPECIES, pa[a0 + 1]).fma(b0, c1);
            c2 = FloatVector.broadcast(SPECIES, pa[a0 + 2]).fma(b0, c2);
            c3 = FloatVector.broadcast(SPECIES, pa[a0 + 3]).fma(b0, c3);
            c4 = FloatVector.broadcast(SPECIES, pa[a0 + 4]).fma(b0, c4);
            c5 = FloatVector.broadcast(SPECIES, pa[a0 + 5]).fma(b0, c5);
            c6 = FloatVector.broadcast(SPECIES, pa[a0 + 6]).fma(b0, c6);
            c7 = FloatVector.broadcast(SPECIES, pa[a0 + 7]).fma(b0, c7);
            c8 = FloatVector.broadcast(SPECIES, pa[a0 + 8]).fma(b0, c8);
            c9 = FloatVector.broadcast(SPECIES, pa[a0 + 9]).fma(b0, c9);
            c10 = FloatVector.broadcast(SPECIES, pa[a0 + 10]).fma(b0, c10);
            c11 = FloatVector.broadcast(SPECIES, pa[a0 + 11]).fma(b0, c11);
        }
        if (accumulate) {
            c0 = c0.add(FloatVector.fromArray(SPECIES, c, cAt)); c1 = c1.add(FloatVector.fromArray(SPECIES, c, cAt + ldc));
            c2 = c2.add(FloatVector.fromArray(SPECIES, c, cAt + 2 * ldc)); c3 = c3.add(FloatVector.fromArray(SPECIES, c, cAt + 3 * ldc));
            c4 = c4.add(FloatVector.fromArray(SPECIES, c, cAt + 4 * ldc)); c5 = c5.add(FloatVector.fromArray(SPECIES, c, cAt + 5 * ldc));
            c6 = c6.add(FloatVector.fromArray(SPECIES, c, cAt + 6 * ldc)); c7 = c7.add(FloatVector.fromArray(SPECIES, c, cAt + 7 * ldc));
            c8 = c8.add(FloatVector.fromArray(SPECIES, c, cAt + 8 * ldc)); c9 = c9.add(FloatVector.fromArray(SPECIES, c, cAt + 9 * ldc));
            c10 = c10.add(FloatVector.fromArray(SPECIES, c, cAt + 10 * ldc)); c11 = c11.add(FloatVector.fromArray(SPECIES, c, cAt + 11 * ldc));
        }
        c0.intoArray(c, cAt); c1.intoArray(c, cAt + ldc); c2.intoArray(c, cAt + 2 * ldc); c3.intoArray(c, cAt + 3 * ldc);
        c4.intoArray(c, cAt + 4 * ldc); c5.intoArray(c, cAt + 5 * ldc); c6.intoArray(c, cAt + 6 * ldc); c7.intoArray(c, cAt + 7 * ldc);
        c8.intoArray(c, cAt + 8 * ldc); c9.intoArray(c, cAt + 9 * ldc); c10.intoArray(c, cAt + 10 * ldc); c11.intoArray(c, cAt + 11 * ldc);
    }

    /**
     * {@link #microKernel} for the first {@link #HALF} rows of the panel alone, for a last panel
     * with no more rows than that (16 filters are one panel and a half, 64 five and a third):
     * half the multiply-adds of a full panel whose other rows are zero padding. The same packed A
     * and B; only HALF rows of C are written.
     */
    static void microKernelHalf(int kc, float[] pa, int aAt, float[] pb, int bAt, float[] c, int cAt, int ldc,
                                boolean accumulate) {
        if (!WIDE_REGISTERS) {
            microKernelFour(kc, pa, aAt, pb, bAt, c, cAt, ldc, accumulate);
            microKernelTwo(kc, pa, aAt + 4, pb, bAt, c, cAt + 4 * ldc, ldc, accumulate);
            return;
        }
        FloatVector c0_0 = FloatVector.zero(SPECIES), c0_1 = FloatVector.zero(SPECIES), c1_0 = FloatVector.zero(SPECIES), c1_1 = FloatVector.zero(SPECIES);
        FloatVector c2_0 = FloatVector.zero(SPECIES), c2_1 = FloatVector.zero(SPECIES), c3_0 = FloatVector.zero(SPECIES), c3_1 = FloatVector.zero(SPECIES);
        FloatVector c4_0 = FloatVector.zero(SPECIES), c4_1 = FloatVector.zero(SPECIES), c5_0 = FloatVector.zero(SPECIES), c5_1 = FloatVector.zero(SPECIES);
        for (int l = 0; l < kc; l++) {
            int bo = bAt + NR * l;
            int a0 = aAt + MR * l;
            FloatVector b0 = FloatVector.fromArray(SPECIES, pb, bo), b1 = FloatVector.fromArray(SPECIES, pb, bo + VL);
            FloatVector v0 = FloatVector.broadcast(SPECIES, pa[a0]);
            c0_0 = v0.fma(b0, c0_0); c0_1 = v0.fma(b1, c0_1);
            FloatVector v1 = FloatVector.broadcast(SPECIES, pa[a0 + 1]);
            c1_0 = v1.fma(b0, c1_0); c1_1 = v1.fma(b1, c1_1);
            FloatVector v2 = FloatVector.broadcast(SPECIES, pa[a0 + 2]);
            c2_0 = v2.fma(b0, c2_0); c2_1 = v2.fma(b1, c2_1);
            FloatVector v3 = FloatVector.broadcast(SPECIES, pa[a0 + 3]);
            c3_0 = v3.fma(b0, c3_0); c3_1 = v3.fma(b1, c3_1);
            FloatVector v4 = FloatVector.broadcast(SPECIES, pa[a0 + 4]);
            c4_0 = v4.fma(b0, c4_0); c4_1 = v4.fma(b1, c4_1);
            FloatVector v5 = FloatVector.broadcast(SPECIES, pa[a0 + 5]);
            c5_0 = v5.fma(b0, c5_0); c5_1 = v5.fma(b1, c5_1);
        }
        if (accumulate) {
            c0_0 = c0_0.add(FloatVector.fromArray(SPECIES, c, cAt)); c0_1 = c0_1.add(FloatVector.fromArray(SPECIES, c, cAt + VL));
            c1_0 = c1_0.add(FloatVector.fromArray(SPECIES, c, cAt + ldc)); c1_1 = c1_1.add(FloatVector.fromArray(SPECIES, c, cAt + ldc + VL));
            c2_0 = c2_0.add(FloatVector.fromArray(SPECIES, c, cAt + 2 * ldc)); c2_1 = c2_1.add(FloatVector.fromArray(SPECIES, c, cAt + 2 * ldc + VL));
            c3_0 = c3_0.add(FloatVector.fromArray(SPECIES, c, cAt + 3 * ldc)); c3_1 = c3_1.add(FloatVector.fromArray(SPECIES, c, cAt + 3 * ldc + VL));
            c4_0 = c4_0.add(FloatVector.fromArray(SPECIES, c, cAt + 4 * ldc)); c4_1 = c4_1.add(FloatVector.fromArray(SPECIES, c, cAt + 4 * ldc + VL));
            c5_0 = c5_0.add(FloatVector.fromArray(SPECIES, c, cAt + 5 * ldc)); c5_1 = c5_1.add(FloatVector.fromArray(SPECIES, c, cAt + 5 * ldc + VL));
        }
        c0_0.intoArray(c, cAt); c0_1.intoArray(c, cAt + VL);
        c1_0.intoArray(c, cAt + ldc); c1_1.intoArray(c, cAt + ldc + VL);
        c2_0.intoArray(c, cAt + 2 * ldc); c2_1.intoArray(c, cAt + 2 * ldc + VL);
        c3_0.intoArray(c, cAt + 3 * ldc); c3_1.intoArray(c, cAt + 3 * ldc + VL);
        c4_0.intoArray(c, cAt + 4 * ldc); c4_1.intoArray(c, cAt + 4 * ldc + VL);
        c5_0.intoArray(c, cAt + 5 * ldc); c5_1.intoArray(c, cAt + 5 * ldc + VL);
    }

    /**
     * {@link #microKernel} for four rows of the panel (rows {@code aAt − panel start} on): the
     * tile of 16-register machines (AVX2). Eight accumulators, two B vectors and the broadcasts
     * fit; with twelve, as in the six-row tile, C2 kept an accumulator on the stack, each step
     * storing and reloading it (6 × 2 ran at 50 GFLOP/s in L1 with 8 lanes on a Zen 4 core, three
     * 4 × 2 tiles over the same panel at 105).
     */
    static void microKernelFour(int kc, float[] pa, int aAt, float[] pb, int bAt, float[] c, int cAt, int ldc, boolean accumulate) {
        FloatVector c0_0 = FloatVector.zero(SPECIES), c0_1 = FloatVector.zero(SPECIES), c1_0 = FloatVector.zero(SPECIES), c1_1 = FloatVector.zero(SPECIES);
        FloatVector c2_0 = FloatVector.zero(SPECIES), c2_1 = FloatVector.zero(SPECIES), c3_0 = FloatVector.zero(SPECIES), c3_1 = FloatVector.zero(SPECIES);
        for (int l = 0; l < kc; l++) {
            int bo = bAt + NR * l;
            int a0 = aAt + MR * l;
            FloatVector b0 = FloatVector.fromArray(SPECIES, pb, bo), b1 = FloatVector.fromArray(SPECIES, pb, bo + VL);
            FloatVector v0 = FloatVector.broadcast(SPECIES, pa[a0]);
            c0_0 = v0.fma(b0, c0_0); c0_1 = v0.fma(b1, c0_1);
            FloatVector v1 = FloatVector.broadcast(SPECIES, pa[a0 + 1]);
            c1_0 = v1.fma(b0, c1_0); c1_1 = v1.fma(b1, c1_1);
            FloatVector v2 = FloatVector.broadcast(SPECIES, pa[a0 + 2]);
            c2_0 = v2.fma(b0, c2_0); c2_1 = v2.fma(b1, c2_1);
            FloatVector v3 = FloatVector.broadcast(SPECIES, pa[a0 + 3]);
            c3_0 = v3.fma(b0, c3_0); c3_1 = v3.fma(b1, c3_1);
        }
        if (accumulate) {
            c0_0 = c0_0.add(FloatVector.fromArray(SPECIES, c, cAt)); c0_1 = c0_1.add(FloatVector.fromArray(SPECIES, c, cAt + VL));
            c1_0 = c1_0.add(FloatVector.fromArray(SPECIES, c, cAt + ldc)); c1_1 = c1_1.add(FloatVector.fromArray(SPECIES, c, cAt + ldc + VL));
            c2_0 = c2_0.add(FloatVector.fromArray(SPECIES, c, cAt + 2 * ldc)); c2_1 = c2_1.add(FloatVector.fromArray(SPECIES, c, cAt + 2 * ldc + VL));
            c3_0 = c3_0.add(FloatVector.fromArray(SPECIES, c, cAt + 3 * ldc)); c3_1 = c3_1.add(FloatVector.fromArray(SPECIES, c, cAt + 3 * ldc + VL));
        }
        c0_0.intoArray(c, cAt); c0_1.intoArray(c, cAt + VL);
        c1_0.intoArray(c, cAt + ldc); c1_1.intoArray(c, cAt + ldc + VL);
        c2_0.intoArray(c, cAt + 2 * ldc); c2_1.intoArray(c, cAt + 2 * ldc + VL);
        c3_0.intoArray(c, cAt + 3 * ldc); c3_1.intoArray(c, cAt + 3 * ldc + VL);
    }

    /** {@link #microKernelFour} for two rows: with it, the last two of {@link #microKernelHalf}'s six on AVX2. */
    static void microKernelTwo(int kc, float[] pa, int aAt, float[] pb, int bAt, float[] c, int cAt, int ldc, boolean accumulate) {
        FloatVector c0_0 = FloatVector.zero(SPECIES), c0_1 = FloatVector.zero(SPECIES), c1_0 = FloatVector.zero(SPECIES), c1_1 = FloatVector.zero(SPECIES);
        for (int l = 0; l < kc; l++) {
            int bo = bAt + NR * l;
            int a0 = aAt + MR * l;
            FloatVector b0 = FloatVector.fromArray(SPECIES, pb, bo), b1 = FloatVector.fromArray(SPECIES, pb, bo + VL);
            FloatVector v0 = FloatVector.broadcast(SPECIES, pa[a0]);
            c0_0 = v0.fma(b0, c0_0); c0_1 = v0.fma(b1, c0_1);
            FloatVector v1 = FloatVector.broadcast(SPECIES, pa[a0 + 1]);
            c1_0 = v1.fma(b0, c1_0); c1_1 = v1.fma(b1, c1_1);
        }
        if (accumulate) {
            c0_0 = c0_0.add(FloatVector.fromArray(SPECIES, c, cAt)); c0_1 = c0_1.add(FloatVector.fromArray(SPECIES, c, cAt + VL));
            c1_0 = c1_0.add(FloatVector.fromArray(SPECIES, c, cAt + ldc)); c1_1 = c1_1.add(FloatVector.fromArray(SPECIES, c, cAt + ldc + VL));
        }
        c0_0.intoArray(c, cAt); c0_1.intoArray(c, cAt + VL);
        c1_0.intoArray(c, cAt + ldc); c1_1.intoArray(c, cAt + ldc + VL);
    }

    /** {@link #microKernelOut} for four rows of the panel, of which the first {@code rows} (1 to 4) are stored: AVX2's tile ({@link #microKernelFour}). */
    static void microKernelOutFour(int kc, float[] pa, int aAt, float[] pb, int bAt, float[] y, int yAt, int yStride,
                                   float[] bias, int biasAt, float[] residual, int residualAt, float low, float high, int rows) {
        FloatVector c0_0 = FloatVector.zero(SPECIES), c0_1 = FloatVector.zero(SPECIES), c1_0 = FloatVector.zero(SPECIES), c1_1 = FloatVector.zero(SPECIES);
        FloatVector c2_0 = FloatVector.zero(SPECIES), c2_1 = FloatVector.zero(SPECIES), c3_0 = FloatVector.zero(SPECIES), c3_1 = FloatVector.zero(SPECIES);
        for (int l = 0; l < kc; l++) {
            int bo = bAt + NR * l;
            int a0 = aAt + MR * l;
            FloatVector b0 = FloatVector.fromArray(SPECIES, pb, bo), b1 = FloatVector.fromArray(SPECIES, pb, bo + VL);
            FloatVector v0 = FloatVector.broadcast(SPECIES, pa[a0]);
            c0_0 = v0.fma(b0, c0_0); c0_1 = v0.fma(b1, c0_1);
            FloatVector v1 = FloatVector.broadcast(SPECIES, pa[a0 + 1]);
            c1_0 = v1.fma(b0, c1_0); c1_1 = v1.fma(b1, c1_1);
            FloatVector v2 = FloatVector.broadcast(SPECIES, pa[a0 + 2]);
            c2_0 = v2.fma(b0, c2_0); c2_1 = v2.fma(b1, c2_1);
            FloatVector v3 = FloatVector.broadcast(SPECIES, pa[a0 + 3]);
            c3_0 = v3.fma(b0, c3_0); c3_1 = v3.fma(b1, c3_1);
        }
        c0_0 = c0_0.add(bias == null ? 0f : bias[biasAt]); c0_1 = c0_1.add(bias == null ? 0f : bias[biasAt]);
        c1_0 = c1_0.add(bias == null || rows <= 1 ? 0f : bias[biasAt + 1]); c1_1 = c1_1.add(bias == null || rows <= 1 ? 0f : bias[biasAt + 1]);
        c2_0 = c2_0.add(bias == null || rows <= 2 ? 0f : bias[biasAt + 2]); c2_1 = c2_1.add(bias == null || rows <= 2 ? 0f : bias[biasAt + 2]);
        c3_0 = c3_0.add(bias == null || rows <= 3 ? 0f : bias[biasAt + 3]); c3_1 = c3_1.add(bias == null || rows <= 3 ? 0f : bias[biasAt + 3]);
        if (residual != null) {
            c0_0 = c0_0.add(FloatVector.fromArray(SPECIES, residual, residualAt)); c0_1 = c0_1.add(FloatVector.fromArray(SPECIES, residual, residualAt + VL));
            if (rows > 1) { c1_0 = c1_0.add(FloatVector.fromArray(SPECIES, residual, residualAt + yStride)); c1_1 = c1_1.add(FloatVector.fromArray(SPECIES, residual, residualAt + yStride + VL)); }
            if (rows > 2) { c2_0 = c2_0.add(FloatVector.fromArray(SPECIES, residual, residualAt + 2 * yStride)); c2_1 = c2_1.add(FloatVector.fromArray(SPECIES, residual, residualAt + 2 * yStride + VL)); }
            if (rows > 3) { c3_0 = c3_0.add(FloatVector.fromArray(SPECIES, residual, residualAt + 3 * yStride)); c3_1 = c3_1.add(FloatVector.fromArray(SPECIES, residual, residualAt + 3 * yStride + VL)); }
        }
        c0_0.max(low).min(high).intoArray(y, yAt); c0_1.max(low).min(high).intoArray(y, yAt + VL);
        if (rows > 1) { c1_0.max(low).min(high).intoArray(y, yAt + yStride); c1_1.max(low).min(high).intoArray(y, yAt + yStride + VL); }
        if (rows > 2) { c2_0.max(low).min(high).intoArray(y, yAt + 2 * yStride); c2_1.max(low).min(high).intoArray(y, yAt + 2 * yStride + VL); }
        if (rows > 3) { c3_0.max(low).min(high).intoArray(y, yAt + 3 * yStride); c3_1.max(low).min(high).intoArray(y, yAt + 3 * yStride + VL); }
    }
}
