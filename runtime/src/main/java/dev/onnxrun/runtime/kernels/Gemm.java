package dev.onnxrun.runtime.kernels;

import dev.onnxrun.runtime.Parallel;
import jdk.incubator.vector.FloatVector;
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
    /**
     * Micro-tile rows: 6 rows × 4 vectors = 24 accumulators, plus 4 B vectors and one broadcast A
     * value, fits 32 vector registers (AVX-512); each step's 10 loads feed 24 FMAs. With 16
     * registers (AVX2) some accumulators spill, yet it measured faster there (-XX:UseAVX=2) than
     * the 6×2 tile it replaced.
     */
    static final int MR = 6;
    /** Micro-tile columns: four vectors. */
    static final int NR = 4 * VL;
    /**
     * Depth of one packed block. A KC×NR panel of B (64 KiB at 16 lanes) is read from L2 by every
     * row panel of a block; 128 to 512 measured alike within noise, none better than 256.
     */
    static final int KC = 256;
    /** Rows of A packed at once (a multiple of MR). */
    static final int MC = MR * 64;
    /** Columns of B packed at once (a multiple of NR). */
    static final int NC = NR * 128;
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

    /** How many matrices this JVM has packed ({@link #pack}, {@link #packLeft}): shows that a loaded compiled model packed none. */
    public static long packings() { return PACKINGS.get(); }

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
            for (int pc = 0; pc < k; pc += KC) {
                int kc = Math.min(KC, k - pc), at = packed.blockAt(jc, pc);
                for (int p = 0; p * NR < nc; p++) packB(b, pc, kc, jc + p * NR, Math.min(NR, nc - p * NR), dst, at + p * kc * NR);
            }
        }
        return packed;
    }

    /**
     * A of a product packed ahead of time (constant weights), in the panel layout the micro-kernel
     * reads from {@code panels[base]}: per block of {@link #KC} depth steps, the {@link #MR}-row
     * panels of every row, the last zero-padded. Read by drivers in this package that run
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
        int panelAt(int pc, int rowPanel) { return base + pc * roundUp(m, MR) + rowPanel * roundUp(Math.min(KC, k - pc), VL) * MR; }

        /** Panels packed earlier for an m×k matrix, read in place from {@code panels[base]}. */
        static PackedA over(int m, int k, float[] panels, int base) { return new PackedA(m, k, panels, base); }
    }

    /** Floats the panels of a packed m×k left operand take. */
    static int leftSize(int m, int k) { return Math.toIntExact((long) (m + MR - 1) / MR * MR * ((k / KC) * KC + roundUp(k % KC, VL))); }

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
                packA(a, 1f, rp * MR, Math.min(MR, m - rp * MR), pc, Math.min(KC, k - pc), dst, packed.panelAt(pc, rp));
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

    /** The product with B either as a matrix ({@code b}) or packed ({@code prepacked}; {@code b} is then null). */
    private static void run(int m, int n, int k, float alpha, Matrix a, Matrix b, PackedB prepacked,
                            float[] c, int cOffset, int ldc, boolean accumulate, Parallel parallel) {
        if (m <= 0 || n <= 0) return;
        boolean streamB = prepacked == null && m < MR && (b.colStride() == 1 || b.rowStride() == 1);
        // the few-row paths and the last rows of a tile add into C; full tiles write over it in their first depth block
        if (!accumulate) {
            for (int i = 0; i < m; i++) java.util.Arrays.fill(c, cOffset + i * ldc, cOffset + i * ldc + n, 0f);
        }
        if (k <= 0) return;
        Parallel par = (long) m * n * k < PARALLEL_THRESHOLD ? Parallel.SERIAL : parallel;
        if ((m < MR || (long) m * n * k <= SMALL_PACKED) && prepacked != null) {
            // A few rows (or a small product) times packed weights: the panels stream through in
            // order, with no A to pack and no partial tiles.
            par.forRange((n + NR - 1) / NR, (from, to) -> {
                float[] sums = Scratch.floats(Scratch.EDGE_TILE, 4 * NR);
                for (int p = (int) from; p < to; p++) {
                    int col = p * NR, jc = col / NC * NC, cols = Math.min(NR, n - col);
                    for (int pc = 0; pc < k; pc += KC) {
                        int kc = Math.min(KC, k - pc), panel = prepacked.blockAt(jc, pc) + (col - jc) / NR * kc * NR;
                        panelRows(m, a, 0, pc, kc, alpha, prepacked.panels, panel, c, cOffset + col, ldc, cols, sums);
                    }
                }
            });
            return;
        }
        if ((long) m * n * k <= TINY_PRODUCT && prepacked == null && b.colStride() == 1) {
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
        // held by this thread while the pool's tasks read them
        float[] scratchB = prepacked != null ? null : Scratch.floats(Scratch.GEMM_PACKED_B, Math.min(KC, k) * roundUp(Math.min(NC, n), NR));
        float[] packedA = Scratch.floats(Scratch.GEMM_PACKED_A, roundUp(Math.min(MC, m), MR) * roundUp(Math.min(KC, k), VL));
        for (int jc = 0; jc < n; jc += NC) {
            int nc = Math.min(NC, n - jc);
            int colPanels = (nc + NR - 1) / NR;
            for (int pc = 0; pc < k; pc += KC) {
                int kc = Math.min(KC, k - pc), aPanel = roundUp(kc, VL) * MR;
                final int jc0 = jc, pc0 = pc;
                boolean add = accumulate || pc > 0;
                float[] packedB = prepacked != null ? prepacked.panels : scratchB;
                int bAt = prepacked != null ? prepacked.blockAt(jc, pc) : 0;
                if (prepacked == null) {
                    par.forRange(colPanels, (from, to) -> {
                        for (int p = (int) from; p < to; p++) packB(b, pc0, kc, jc0 + p * NR, Math.min(NR, nc - p * NR), scratchB, p * kc * NR);
                    });
                }
                for (int ic = 0; ic < m; ic += MC) {
                    int mc = Math.min(MC, m - ic);
                    int rowPanels = (mc + MR - 1) / MR;
                    final int ic0 = ic;
                    par.forRange(rowPanels, (from, to) -> {
                        for (int p = (int) from; p < to; p++) packA(a, alpha, ic0 + p * MR, Math.min(MR, mc - p * MR), pc0, kc, packedA, p * aPanel);
                    });
                    // Consecutive tiles share a B panel, which stays in cache while the A panels stream by.
                    par.forRange((long) rowPanels * colPanels, (from, to) -> {
                        float[] edge = Scratch.floats(Scratch.EDGE_TILE, MR * NR);
                        for (long t = from; t < to; t++) {
                            int rp = (int) (t % rowPanels), cp = (int) (t / rowPanels);
                            int rows = Math.min(MR, mc - rp * MR), cols = Math.min(NR, nc - cp * NR);
                            int cAt = cOffset + (ic0 + rp * MR) * ldc + jc0 + cp * NR;
                            int panel = bAt + cp * kc * NR;
                            if (rows == MR && cols == NR) {
                                microKernel(kc, packedA, rp * aPanel, packedB, null, 0, panel, NR, c, cAt, ldc, add);
                            } else if (rows < MR) {
                                // The last rows: a row or two at a time reads B less than a full tile's worth of FMAs.
                                panelRows(rows, a, ic0 + rp * MR, pc0, kc, alpha, packedB, panel, c, cAt, ldc, cols, edge);
                            } else {
                                // Edge tile: compute the full tile into a scratch buffer, then add (or write) the part that exists.
                                microKernel(kc, packedA, rp * aPanel, packedB, null, 0, panel, NR, edge, 0, NR, false);
                                for (int i = 0; i < rows; i++) {
                                    for (int j = 0; j < cols; j++) c[cAt + i * ldc + j] = (add ? c[cAt + i * ldc + j] : 0f) + edge[i * NR + j];
                                }
                            }
                        }
                    });
                }
            }
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
     * Adds alpha · A[row..row+rows) × [pc..pc+kc) × (one packed B panel) to C at {@code cAt}
     * (rows {@code ldc} apart, first {@code cols} columns): rows four at a time, then a pair, then
     * one alone, each group's product staged in {@code sums} (4·NR floats) before it is added to C.
     */
    private static void panelRows(int rows, Matrix a, int row, int pc, int kc, float alpha, float[] pb, int panel, float[] c, int cAt,
                                  int ldc, int cols, float[] sums) {
        int rs = a.rowStride(), cs = a.colStride(), aAt = a.offset() + row * rs + pc * cs;
        for (int i = 0; i < rows; ) {
            int group = rows - i >= 4 ? 4 : Math.min(2, rows - i);
            if (group == 4) panelRowQuad(a.data(), aAt + i * rs, rs, cs, kc, pb, panel, sums);
            else if (group == 2) panelRowPair(a.data(), aAt + i * rs, aAt + (i + 1) * rs, cs, kc, pb, panel, sums);
            else panelRow(a.data(), aAt + i * rs, cs, kc, pb, panel, sums);
            for (int g = 0; g < group; g++) FloatArrays.addScaled(sums, g * NR, alpha, c, cAt + (i + g) * ldc, cols);
            i += group;
        }
    }

    /**
     * sums[0..NR) = (one row of A, {@code kc} deep, elements {@code acs} apart) × (one packed B
     * panel): four vectors in registers over the whole depth while the panel streams through in
     * order. Kept this small on purpose: C1 gives up on larger vector methods ("out of virtual
     * registers"), and a method stuck below C2 runs its vector code hundreds of times slower.
     */
    private static void panelRow(float[] ad, int aAt, int acs, int kc, float[] pb, int panel, float[] sums) {
        FloatVector c0 = FloatVector.zero(SPECIES), c1 = FloatVector.zero(SPECIES), c2 = FloatVector.zero(SPECIES), c3 = FloatVector.zero(SPECIES);
        for (int l = 0, at = panel; l < kc; l++, at += NR) {
            FloatVector va = FloatVector.broadcast(SPECIES, ad[aAt + l * acs]);
            c0 = FloatVector.fromArray(SPECIES, pb, at).fma(va, c0);
            c1 = FloatVector.fromArray(SPECIES, pb, at + VL).fma(va, c1);
            c2 = FloatVector.fromArray(SPECIES, pb, at + 2 * VL).fma(va, c2);
            c3 = FloatVector.fromArray(SPECIES, pb, at + 3 * VL).fma(va, c3);
        }
        c0.intoArray(sums, 0);
        c1.intoArray(sums, VL);
        c2.intoArray(sums, 2 * VL);
        c3.intoArray(sums, 3 * VL);
    }

    /** {@link #panelRow} for two rows at once (into sums[0..NR) and [NR..2NR)), each B vector loaded once for both. */
    private static void panelRowPair(float[] ad, int aAt, int aAt2, int acs, int kc, float[] pb, int panel, float[] sums) {
        FloatVector c0 = FloatVector.zero(SPECIES), c1 = FloatVector.zero(SPECIES), c2 = FloatVector.zero(SPECIES), c3 = FloatVector.zero(SPECIES);
        FloatVector d0 = FloatVector.zero(SPECIES), d1 = FloatVector.zero(SPECIES), d2 = FloatVector.zero(SPECIES), d3 = FloatVector.zero(SPECIES);
        for (int l = 0, at = panel; l < kc; l++, at += NR) {
            FloatVector va = FloatVector.broadcast(SPECIES, ad[aAt + l * acs]), vb = FloatVector.broadcast(SPECIES, ad[aAt2 + l * acs]);
            FloatVector b0 = FloatVector.fromArray(SPECIES, pb, at), b1 = FloatVector.fromArray(SPECIES, pb, at + VL);
            FloatVector b2 = FloatVector.fromArray(SPECIES, pb, at + 2 * VL), b3 = FloatVector.fromArray(SPECIES, pb, at + 3 * VL);
            c0 = b0.fma(va, c0); c1 = b1.fma(va, c1); c2 = b2.fma(va, c2); c3 = b3.fma(va, c3);
            d0 = b0.fma(vb, d0); d1 = b1.fma(vb, d1); d2 = b2.fma(vb, d2); d3 = b3.fma(vb, d3);
        }
        c0.intoArray(sums, 0);
        c1.intoArray(sums, VL);
        c2.intoArray(sums, 2 * VL);
        c3.intoArray(sums, 3 * VL);
        d0.intoArray(sums, NR);
        d1.intoArray(sums, NR + VL);
        d2.intoArray(sums, NR + 2 * VL);
        d3.intoArray(sums, NR + 3 * VL);
    }

    /**
     * {@link #panelRow} for four rows at once ({@code ars} apart, into sums[0..4·NR)): 16
     * accumulators, and each step's four B vectors feed 16 FMAs where a pair's feed 8.
     */
    private static void panelRowQuad(float[] ad, int aAt, int ars, int acs, int kc, float[] pb, int panel, float[] sums) {
        int a1 = aAt + ars, a2 = aAt + 2 * ars, a3 = aAt + 3 * ars;
        FloatVector c00 = FloatVector.zero(SPECIES), c01 = FloatVector.zero(SPECIES), c02 = FloatVector.zero(SPECIES), c03 = FloatVector.zero(SPECIES);
        FloatVector c10 = FloatVector.zero(SPECIES), c11 = FloatVector.zero(SPECIES), c12 = FloatVector.zero(SPECIES), c13 = FloatVector.zero(SPECIES);
        FloatVector c20 = FloatVector.zero(SPECIES), c21 = FloatVector.zero(SPECIES), c22 = FloatVector.zero(SPECIES), c23 = FloatVector.zero(SPECIES);
        FloatVector c30 = FloatVector.zero(SPECIES), c31 = FloatVector.zero(SPECIES), c32 = FloatVector.zero(SPECIES), c33 = FloatVector.zero(SPECIES);
        for (int l = 0, at = panel; l < kc; l++, at += NR) {
            int o = l * acs;
            FloatVector b0 = FloatVector.fromArray(SPECIES, pb, at), b1 = FloatVector.fromArray(SPECIES, pb, at + VL);
            FloatVector b2 = FloatVector.fromArray(SPECIES, pb, at + 2 * VL), b3 = FloatVector.fromArray(SPECIES, pb, at + 3 * VL);
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
        c10.intoArray(sums, NR); c11.intoArray(sums, NR + VL); c12.intoArray(sums, NR + 2 * VL); c13.intoArray(sums, NR + 3 * VL);
        c20.intoArray(sums, 2 * NR); c21.intoArray(sums, 2 * NR + VL); c22.intoArray(sums, 2 * NR + 2 * VL); c23.intoArray(sums, 2 * NR + 3 * VL);
        c30.intoArray(sums, 3 * NR); c31.intoArray(sums, 3 * NR + VL); c32.intoArray(sums, 3 * NR + 2 * VL); c33.intoArray(sums, 3 * NR + 3 * VL);
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

    /** Copies B[pc..pc+kc) × [col..col+cols) into one panel, row by row, zero-padded to NR columns. */
    private static void packB(Matrix b, int pc, int kc, int col, int cols, float[] dst, int at) {
        float[] src = b.data();
        int rs = b.rowStride(), cs = b.colStride();
        for (int p = 0; p < kc; p++) {
            int base = b.offset() + (pc + p) * rs + col * cs;
            int o = at + p * NR;
            int j = 0;
            if (cs == 1) {
                // Vector copies: a panel row is a few vectors, too short for System.arraycopy's call to pay off.
                for (int upper = SPECIES.loopBound(cols); j < upper; j += VL) {
                    FloatVector.fromArray(SPECIES, src, base + j).intoArray(dst, o + j);
                }
            }
            for (; j < cols; j++) dst[o + j] = src[base + j * cs];
            for (; j < NR; j++) dst[o + j] = 0f;
        }
    }

    /**
     * Copies alpha·A[row..row+rows) × [pc..pc+kc) into one panel: per block of VL depth steps, MR
     * rows of VL values each (zero-padded), so a row-major A packs with whole-vector copies and
     * the micro-kernel still finds each step's MR values at fixed offsets.
     */
    private static void packA(Matrix a, float alpha, int row, int rows, int pc, int kc, float[] dst, int at) {
        float[] src = a.data();
        int rs = a.rowStride(), cs = a.colStride();
        for (int p0 = 0; p0 < kc; p0 += VL) {
            int len = Math.min(VL, kc - p0), block = at + p0 * MR;
            for (int i = 0; i < MR; i++) {
                int o = block + i * VL, l = 0;
                if (i < rows) {
                    int base = a.offset() + (row + i) * rs + (pc + p0) * cs;
                    if (cs == 1 && len == VL) {
                        FloatVector.fromArray(SPECIES, src, base).mul(alpha).intoArray(dst, o);
                        continue;
                    }
                    for (; l < len; l++) dst[o + l] = alpha * src[base + l * cs];
                }
                for (; l < VL; l++) dst[o + l] = 0f;
            }
        }
    }

    /**
     * The product of one packed A panel and kc rows of B, added to the MR×NR tile of C at
     * {@code cAt} ({@code accumulate}) or written over it. B's row p is the NR floats at
     * {@code b[rowAt[rowFrom + p] + col]} (rows of a convolution's input read in place) or, with
     * {@code rowAt} null, at {@code b[col + p·bStride]} (a packed panel, Winograd's transformed
     * input). Keep the null form wherever rows are evenly spaced: there every B address is affine
     * in p, the JIT hoists the bounds checks out of the loop (one per load otherwise), and the
     * kernel runs nearly twice as fast (C2 splits the loop on the null test). The C update is written out here rather than in a
     * helper taking vectors: a helper C2 declines to inline makes it box the accumulators,
     * several times slower.
     */
    static void microKernel(int kc, float[] pa, int aAt, float[] b, int[] rowAt, int rowFrom, int col, int bStride, float[] c, int cAt, int ldc,
                            boolean accumulate) {
        int r0 = cAt, r1 = cAt + ldc, r2 = cAt + 2 * ldc, r3 = cAt + 3 * ldc, r4 = cAt + 4 * ldc, r5 = cAt + 5 * ldc;
        FloatVector c0_0 = FloatVector.zero(SPECIES), c0_1 = FloatVector.zero(SPECIES), c0_2 = FloatVector.zero(SPECIES), c0_3 = FloatVector.zero(SPECIES);
        FloatVector c1_0 = FloatVector.zero(SPECIES), c1_1 = FloatVector.zero(SPECIES), c1_2 = FloatVector.zero(SPECIES), c1_3 = FloatVector.zero(SPECIES);
        FloatVector c2_0 = FloatVector.zero(SPECIES), c2_1 = FloatVector.zero(SPECIES), c2_2 = FloatVector.zero(SPECIES), c2_3 = FloatVector.zero(SPECIES);
        FloatVector c3_0 = FloatVector.zero(SPECIES), c3_1 = FloatVector.zero(SPECIES), c3_2 = FloatVector.zero(SPECIES), c3_3 = FloatVector.zero(SPECIES);
        FloatVector c4_0 = FloatVector.zero(SPECIES), c4_1 = FloatVector.zero(SPECIES), c4_2 = FloatVector.zero(SPECIES), c4_3 = FloatVector.zero(SPECIES);
        FloatVector c5_0 = FloatVector.zero(SPECIES), c5_1 = FloatVector.zero(SPECIES), c5_2 = FloatVector.zero(SPECIES), c5_3 = FloatVector.zero(SPECIES);
        for (int p0 = 0; p0 < kc; p0 += VL) {
            int steps = Math.min(VL, kc - p0), aBlock = aAt + p0 * MR;
            for (int l = 0; l < steps; l++) {
                int bo = rowAt == null ? col + (p0 + l) * bStride : rowAt[rowFrom + p0 + l] + col, ao = aBlock + l;
                FloatVector b0 = FloatVector.fromArray(SPECIES, b, bo);
                FloatVector b1 = FloatVector.fromArray(SPECIES, b, bo + VL);
                FloatVector b2 = FloatVector.fromArray(SPECIES, b, bo + 2 * VL);
                FloatVector b3 = FloatVector.fromArray(SPECIES, b, bo + 3 * VL);
                FloatVector a0 = FloatVector.broadcast(SPECIES, pa[ao]);
                c0_0 = a0.fma(b0, c0_0); c0_1 = a0.fma(b1, c0_1); c0_2 = a0.fma(b2, c0_2); c0_3 = a0.fma(b3, c0_3);
                FloatVector a1 = FloatVector.broadcast(SPECIES, pa[ao + VL]);
                c1_0 = a1.fma(b0, c1_0); c1_1 = a1.fma(b1, c1_1); c1_2 = a1.fma(b2, c1_2); c1_3 = a1.fma(b3, c1_3);
                FloatVector a2 = FloatVector.broadcast(SPECIES, pa[ao + 2 * VL]);
                c2_0 = a2.fma(b0, c2_0); c2_1 = a2.fma(b1, c2_1); c2_2 = a2.fma(b2, c2_2); c2_3 = a2.fma(b3, c2_3);
                FloatVector a3 = FloatVector.broadcast(SPECIES, pa[ao + 3 * VL]);
                c3_0 = a3.fma(b0, c3_0); c3_1 = a3.fma(b1, c3_1); c3_2 = a3.fma(b2, c3_2); c3_3 = a3.fma(b3, c3_3);
                FloatVector a4 = FloatVector.broadcast(SPECIES, pa[ao + 4 * VL]);
                c4_0 = a4.fma(b0, c4_0); c4_1 = a4.fma(b1, c4_1); c4_2 = a4.fma(b2, c4_2); c4_3 = a4.fma(b3, c4_3);
                FloatVector a5 = FloatVector.broadcast(SPECIES, pa[ao + 5 * VL]);
                c5_0 = a5.fma(b0, c5_0); c5_1 = a5.fma(b1, c5_1); c5_2 = a5.fma(b2, c5_2); c5_3 = a5.fma(b3, c5_3);
            }
        }
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
        c0_0.intoArray(c, r0);
        c0_1.intoArray(c, r0 + VL);
        c0_2.intoArray(c, r0 + 2 * VL);
        c0_3.intoArray(c, r0 + 3 * VL);
        c1_0.intoArray(c, r1);
        c1_1.intoArray(c, r1 + VL);
        c1_2.intoArray(c, r1 + 2 * VL);
        c1_3.intoArray(c, r1 + 3 * VL);
        c2_0.intoArray(c, r2);
        c2_1.intoArray(c, r2 + VL);
        c2_2.intoArray(c, r2 + 2 * VL);
        c2_3.intoArray(c, r2 + 3 * VL);
        c3_0.intoArray(c, r3);
        c3_1.intoArray(c, r3 + VL);
        c3_2.intoArray(c, r3 + 2 * VL);
        c3_3.intoArray(c, r3 + 3 * VL);
        c4_0.intoArray(c, r4);
        c4_1.intoArray(c, r4 + VL);
        c4_2.intoArray(c, r4 + 2 * VL);
        c4_3.intoArray(c, r4 + 3 * VL);
        c5_0.intoArray(c, r5);
        c5_1.intoArray(c, r5 + VL);
        c5_2.intoArray(c, r5 + 2 * VL);
        c5_3.intoArray(c, r5 + 3 * VL);
    }
}
