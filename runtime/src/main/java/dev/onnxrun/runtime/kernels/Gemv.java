package dev.onnxrun.runtime.kernels;

import dev.onnxrun.runtime.Parallel;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@code C[m×n] = A[m×k]·B[k×n]} for a few rows m and a constant B: the recurrent product of a
 * recurrent layer's time step. With one row or two, each element of B feeds one or two
 * multiply-adds, so the product runs at the speed B streams in from L2; what decides that speed is
 * alignment. A vector load from a float[] straddles two cache lines three times in four (its
 * elements start 16 bytes past an 8-byte aligned header, and the collector moves it), and such a
 * product measured 1.7 times slower than on memory aligned to cache lines (2.6 against 1.5 µs
 * for 128 × 512 on AVX-512). So B lives off the heap, aligned, in blocks of {@link #BLOCK}
 * columns (the last columns in blocks of one vector), each block's k rows one after the other:
 * a block streams through in order, eight independent sums per row of A.
 */
final class Gemv {
    private Gemv() {}

    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final int VL = SPECIES.length();
    /** Columns of a block: eight vectors, eight sums in flight per row (four wait on the FMA latency). */
    static final int BLOCK = 8 * VL;
    private static final long LINE = 64;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    /** Below this many multiply-adds, handing column blocks to other threads costs more than it saves. */
    private static final long PARALLEL_THRESHOLD = 1L << 18;

    /** What the layout of {@link Packed} depends on, for layout keys of saved forms. */
    static final String LAYOUT = "gemv v1 vl=" + VL;

    /** B packed for {@link #multiply}: k×n, n a whole number of vectors, in aligned native memory freed with this object. */
    static final class Packed {
        final int k, n;
        private final MemorySegment data;

        private Packed(int k, int n) {
            if (n % VL != 0) throw new IllegalArgumentException("columns " + n + " are not whole vectors of " + VL);
            this.k = k;
            this.n = n;
            data = Arena.ofAuto().allocate(Math.max(1, (long) k * n * Float.BYTES), LINE);
        }

        /** The packed floats, in the layout {@link #of(int, int, float[], int)} takes back. */
        float[] toArray() { return data.toArray(ValueLayout.JAVA_FLOAT); }
    }

    /** Packs the row-major k×n matrix at {@code b[at]}. */
    static Packed pack(int k, int n, float[] b, int at) {
        Gemm.countPacking();
        Packed p = new Packed(k, n);
        long i = 0;
        for (int j0 = 0; j0 < n; j0 += width(j0, n)) {
            int w = width(j0, n);
            for (int r = 0; r < k; r++) {
                MemorySegment.copy(b, at + r * n + j0, p.data, ValueLayout.JAVA_FLOAT, i * Float.BYTES, w);
                i += w;
            }
        }
        return p;
    }

    /** A k×n matrix packed earlier ({@link Packed#toArray}), from {@code floats[at]}. */
    static Packed of(int k, int n, float[] floats, int at) {
        Packed p = new Packed(k, n);
        MemorySegment.copy(floats, at, p.data, ValueLayout.JAVA_FLOAT, 0, k * n);
        return p;
    }

    /** Columns of the block starting at column {@code j0}: a whole block while one fits, then single vectors. */
    private static int width(int j0, int n) { return n - j0 >= BLOCK ? BLOCK : VL; }

    /**
     * C = A·B for rows of A {@code lda} apart from {@code a[aAt]} (their first k values) into rows
     * of C {@code ldc} apart from {@code c[cAt]} (their first n values, overwritten). Rows go
     * several at a time, each load of B feeding all of them; large products split their blocks over the pool.
     */
    static void multiply(int m, float[] a, int aAt, int lda, Packed b, float[] c, int cAt, int ldc, Parallel parallel) {
        int k = b.k, n = b.n, blocks = n / BLOCK, groups = blocks + (n - blocks * BLOCK) / VL;
        if ((long) m * n * k < PARALLEL_THRESHOLD) {
            multiply(0, groups, m, a, aAt, lda, b, c, cAt, ldc);
        } else {
            parallel.forRange(groups, (from, to) -> multiply((int) from, (int) to, m, a, aAt, lda, b, c, cAt, ldc));
        }
    }

    /**
     * {@link #multiply} over column groups [from, to): the whole blocks, then the single vectors
     * past them. A block takes eight rows at a time two vectors wide (each block vector feeding
     * eight sums, the block read once for the eight), then four rows four vectors wide, then the
     * last rows two or one at a time across the whole block.
     */
    private static void multiply(int from, int to, int m, float[] a, int aAt, int lda, Packed b, float[] c, int cAt, int ldc) {
        int k = b.k, blocks = b.n / BLOCK;
        long v = (long) VL * Float.BYTES;
        for (int g = from; g < to; g++) {
            int j0 = g < blocks ? g * BLOCK : blocks * BLOCK + (g - blocks) * VL;
            long at = (long) j0 * k * Float.BYTES;
            int i = 0;
            if (g < blocks) {
                for (; m - i >= 8; i += 8) {
                    for (int q = 0; q < 8; q += 2) eightRows(a, aAt + i * lda, lda, k, b.data, at + q * v, c, cAt + i * ldc + j0 + q * VL, ldc);
                }
                if (m - i >= 4) {
                    for (int q = 0; q < 8; q += 4) fourRows(a, aAt + i * lda, lda, k, b.data, at + q * v, c, cAt + i * ldc + j0 + q * VL, ldc);
                    i += 4;
                }
            }
            for (; i < m; i += 2) {
                int a0 = aAt + i * lda, c0 = cAt + i * ldc + j0;
                boolean pair = i + 1 < m;
                if (g >= blocks) vectorRows(pair ? 2 : 1, a, a0, lda, k, b.data, at, c, c0, ldc);
                else if (pair) blockPair(a, a0, a0 + lda, k, b.data, at, c, c0, c0 + ldc);
                else blockRow(a, a0, k, b.data, at, c, c0);
            }
        }
    }

    /**
     * Eight rows ({@code lda} and {@code ldc} apart) times two vectors of a block (at {@code at};
     * block rows are eight vectors): 16 sums, each loaded vector feeding eight. 1.3 times as fast
     * as the same rows three and two at a time across the block, which read it three times.
     */
    private static void eightRows(float[] a, int a0, int lda, int k, MemorySegment b, long at, float[] c, int c0, int ldc) {
        FloatVector s0 = FloatVector.zero(SPECIES), s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0, s6 = s0, s7 = s0;
        FloatVector t0 = s0, t1 = s0, t2 = s0, t3 = s0, t4 = s0, t5 = s0, t6 = s0, t7 = s0;
        long v = (long) VL * Float.BYTES;
        for (int p = 0; p < k; p++, at += 8 * v) {
            FloatVector b0 = FloatVector.fromMemorySegment(SPECIES, b, at, ORDER), b1 = FloatVector.fromMemorySegment(SPECIES, b, at + v, ORDER);
            FloatVector x = FloatVector.broadcast(SPECIES, a[a0 + p]);
            s0 = b0.fma(x, s0);
            t0 = b1.fma(x, t0);
            x = FloatVector.broadcast(SPECIES, a[a0 + lda + p]);
            s1 = b0.fma(x, s1);
            t1 = b1.fma(x, t1);
            x = FloatVector.broadcast(SPECIES, a[a0 + 2 * lda + p]);
            s2 = b0.fma(x, s2);
            t2 = b1.fma(x, t2);
            x = FloatVector.broadcast(SPECIES, a[a0 + 3 * lda + p]);
            s3 = b0.fma(x, s3);
            t3 = b1.fma(x, t3);
            x = FloatVector.broadcast(SPECIES, a[a0 + 4 * lda + p]);
            s4 = b0.fma(x, s4);
            t4 = b1.fma(x, t4);
            x = FloatVector.broadcast(SPECIES, a[a0 + 5 * lda + p]);
            s5 = b0.fma(x, s5);
            t5 = b1.fma(x, t5);
            x = FloatVector.broadcast(SPECIES, a[a0 + 6 * lda + p]);
            s6 = b0.fma(x, s6);
            t6 = b1.fma(x, t6);
            x = FloatVector.broadcast(SPECIES, a[a0 + 7 * lda + p]);
            s7 = b0.fma(x, s7);
            t7 = b1.fma(x, t7);
        }
        s0.intoArray(c, c0);
        t0.intoArray(c, c0 + VL);
        s1.intoArray(c, c0 + ldc);
        t1.intoArray(c, c0 + ldc + VL);
        s2.intoArray(c, c0 + 2 * ldc);
        t2.intoArray(c, c0 + 2 * ldc + VL);
        s3.intoArray(c, c0 + 3 * ldc);
        t3.intoArray(c, c0 + 3 * ldc + VL);
        s4.intoArray(c, c0 + 4 * ldc);
        t4.intoArray(c, c0 + 4 * ldc + VL);
        s5.intoArray(c, c0 + 5 * ldc);
        t5.intoArray(c, c0 + 5 * ldc + VL);
        s6.intoArray(c, c0 + 6 * ldc);
        t6.intoArray(c, c0 + 6 * ldc + VL);
        s7.intoArray(c, c0 + 7 * ldc);
        t7.intoArray(c, c0 + 7 * ldc + VL);
    }

    /** Four rows times four vectors of a block: 16 sums, each loaded vector feeding four (7 % faster than two pairs across the block). */
    private static void fourRows(float[] a, int a0, int lda, int k, MemorySegment b, long at, float[] c, int c0, int ldc) {
        FloatVector s0 = FloatVector.zero(SPECIES), s1 = s0, s2 = s0, s3 = s0, t0 = s0, t1 = s0, t2 = s0, t3 = s0;
        FloatVector u0 = s0, u1 = s0, u2 = s0, u3 = s0, w0 = s0, w1 = s0, w2 = s0, w3 = s0;
        long v = (long) VL * Float.BYTES;
        for (int p = 0; p < k; p++, at += 8 * v) {
            FloatVector b0 = FloatVector.fromMemorySegment(SPECIES, b, at, ORDER), b1 = FloatVector.fromMemorySegment(SPECIES, b, at + v, ORDER);
            FloatVector b2 = FloatVector.fromMemorySegment(SPECIES, b, at + 2 * v, ORDER), b3 = FloatVector.fromMemorySegment(SPECIES, b, at + 3 * v, ORDER);
            FloatVector x = FloatVector.broadcast(SPECIES, a[a0 + p]);
            s0 = b0.fma(x, s0);
            s1 = b1.fma(x, s1);
            s2 = b2.fma(x, s2);
            s3 = b3.fma(x, s3);
            x = FloatVector.broadcast(SPECIES, a[a0 + lda + p]);
            t0 = b0.fma(x, t0);
            t1 = b1.fma(x, t1);
            t2 = b2.fma(x, t2);
            t3 = b3.fma(x, t3);
            x = FloatVector.broadcast(SPECIES, a[a0 + 2 * lda + p]);
            u0 = b0.fma(x, u0);
            u1 = b1.fma(x, u1);
            u2 = b2.fma(x, u2);
            u3 = b3.fma(x, u3);
            x = FloatVector.broadcast(SPECIES, a[a0 + 3 * lda + p]);
            w0 = b0.fma(x, w0);
            w1 = b1.fma(x, w1);
            w2 = b2.fma(x, w2);
            w3 = b3.fma(x, w3);
        }
        s0.intoArray(c, c0);
        s1.intoArray(c, c0 + VL);
        s2.intoArray(c, c0 + 2 * VL);
        s3.intoArray(c, c0 + 3 * VL);
        t0.intoArray(c, c0 + ldc);
        t1.intoArray(c, c0 + ldc + VL);
        t2.intoArray(c, c0 + ldc + 2 * VL);
        t3.intoArray(c, c0 + ldc + 3 * VL);
        u0.intoArray(c, c0 + 2 * ldc);
        u1.intoArray(c, c0 + 2 * ldc + VL);
        u2.intoArray(c, c0 + 2 * ldc + 2 * VL);
        u3.intoArray(c, c0 + 2 * ldc + 3 * VL);
        w0.intoArray(c, c0 + 3 * ldc);
        w1.intoArray(c, c0 + 3 * ldc + VL);
        w2.intoArray(c, c0 + 3 * ldc + 2 * VL);
        w3.intoArray(c, c0 + 3 * ldc + 3 * VL);
    }

    /** One row times one block: eight sums over the whole depth, each block row loaded once. */
    private static void blockRow(float[] a, int a0, int k, MemorySegment b, long at, float[] c, int c0) {
        FloatVector s0 = FloatVector.zero(SPECIES), s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0, s6 = s0, s7 = s0;
        long v = (long) VL * Float.BYTES;
        for (int p = 0; p < k; p++, at += 8 * v) {
            FloatVector x = FloatVector.broadcast(SPECIES, a[a0 + p]);
            s0 = FloatVector.fromMemorySegment(SPECIES, b, at, ORDER).fma(x, s0);
            s1 = FloatVector.fromMemorySegment(SPECIES, b, at + v, ORDER).fma(x, s1);
            s2 = FloatVector.fromMemorySegment(SPECIES, b, at + 2 * v, ORDER).fma(x, s2);
            s3 = FloatVector.fromMemorySegment(SPECIES, b, at + 3 * v, ORDER).fma(x, s3);
            s4 = FloatVector.fromMemorySegment(SPECIES, b, at + 4 * v, ORDER).fma(x, s4);
            s5 = FloatVector.fromMemorySegment(SPECIES, b, at + 5 * v, ORDER).fma(x, s5);
            s6 = FloatVector.fromMemorySegment(SPECIES, b, at + 6 * v, ORDER).fma(x, s6);
            s7 = FloatVector.fromMemorySegment(SPECIES, b, at + 7 * v, ORDER).fma(x, s7);
        }
        s0.intoArray(c, c0);
        s1.intoArray(c, c0 + VL);
        s2.intoArray(c, c0 + 2 * VL);
        s3.intoArray(c, c0 + 3 * VL);
        s4.intoArray(c, c0 + 4 * VL);
        s5.intoArray(c, c0 + 5 * VL);
        s6.intoArray(c, c0 + 6 * VL);
        s7.intoArray(c, c0 + 7 * VL);
    }

    /** {@link #blockRow} for two rows at once, each block vector loaded once for both. */
    private static void blockPair(float[] a, int a0, int a1, int k, MemorySegment b, long at, float[] c, int c0, int c1) {
        FloatVector s0 = FloatVector.zero(SPECIES), s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0, s6 = s0, s7 = s0;
        FloatVector t0 = s0, t1 = s0, t2 = s0, t3 = s0, t4 = s0, t5 = s0, t6 = s0, t7 = s0;
        long v = (long) VL * Float.BYTES;
        for (int p = 0; p < k; p++, at += 8 * v) {
            FloatVector x = FloatVector.broadcast(SPECIES, a[a0 + p]), y = FloatVector.broadcast(SPECIES, a[a1 + p]);
            FloatVector b0 = FloatVector.fromMemorySegment(SPECIES, b, at, ORDER);
            s0 = b0.fma(x, s0);
            t0 = b0.fma(y, t0);
            FloatVector b1 = FloatVector.fromMemorySegment(SPECIES, b, at + v, ORDER);
            s1 = b1.fma(x, s1);
            t1 = b1.fma(y, t1);
            FloatVector b2 = FloatVector.fromMemorySegment(SPECIES, b, at + 2 * v, ORDER);
            s2 = b2.fma(x, s2);
            t2 = b2.fma(y, t2);
            FloatVector b3 = FloatVector.fromMemorySegment(SPECIES, b, at + 3 * v, ORDER);
            s3 = b3.fma(x, s3);
            t3 = b3.fma(y, t3);
            FloatVector b4 = FloatVector.fromMemorySegment(SPECIES, b, at + 4 * v, ORDER);
            s4 = b4.fma(x, s4);
            t4 = b4.fma(y, t4);
            FloatVector b5 = FloatVector.fromMemorySegment(SPECIES, b, at + 5 * v, ORDER);
            s5 = b5.fma(x, s5);
            t5 = b5.fma(y, t5);
            FloatVector b6 = FloatVector.fromMemorySegment(SPECIES, b, at + 6 * v, ORDER);
            s6 = b6.fma(x, s6);
            t6 = b6.fma(y, t6);
            FloatVector b7 = FloatVector.fromMemorySegment(SPECIES, b, at + 7 * v, ORDER);
            s7 = b7.fma(x, s7);
            t7 = b7.fma(y, t7);
        }
        s0.intoArray(c, c0);
        s1.intoArray(c, c0 + VL);
        s2.intoArray(c, c0 + 2 * VL);
        s3.intoArray(c, c0 + 3 * VL);
        s4.intoArray(c, c0 + 4 * VL);
        s5.intoArray(c, c0 + 5 * VL);
        s6.intoArray(c, c0 + 6 * VL);
        s7.intoArray(c, c0 + 7 * VL);
        t0.intoArray(c, c1);
        t1.intoArray(c, c1 + VL);
        t2.intoArray(c, c1 + 2 * VL);
        t3.intoArray(c, c1 + 3 * VL);
        t4.intoArray(c, c1 + 4 * VL);
        t5.intoArray(c, c1 + 5 * VL);
        t6.intoArray(c, c1 + 6 * VL);
        t7.intoArray(c, c1 + 7 * VL);
    }

    /** One row or two times a block one vector wide: the columns past the last whole block. */
    private static void vectorRows(int rows, float[] a, int a0, int lda, int k, MemorySegment b, long at, float[] c, int c0, int ldc) {
        for (int r = 0; r < rows; r++) {
            FloatVector s = FloatVector.zero(SPECIES);
            for (int p = 0; p < k; p++) {
                s = FloatVector.fromMemorySegment(SPECIES, b, at + (long) p * VL * Float.BYTES, ORDER).fma(FloatVector.broadcast(SPECIES, a[a0 + r * lda + p]), s);
            }
            s.intoArray(c, c0 + r * ldc);
        }
    }
}
