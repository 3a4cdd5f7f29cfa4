package dev.onnxrun.runtime.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.onnxrun.runtime.Parallel;
import java.util.Random;
import org.junit.jupiter.api.Test;

class GemmTest {
    private static final int[] SIZES = {1, 7, 8, 13, 17, 100, 257};

    private static float[] random(Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = r.nextFloat() * 2 - 1;
        return a;
    }

    private static void check(int m, int n, int k, boolean transA, boolean transB, boolean accumulate, float alpha, Parallel par) {
        Random r = new Random(m * 31L + n * 17L + k);
        float[] a = random(r, m * k), b = random(r, k * n);
        Gemm.Matrix ma = transA ? Gemm.Matrix.rowMajor(a, 0, m).transposed() : Gemm.Matrix.rowMajor(a, 0, k);
        Gemm.Matrix mb = transB ? Gemm.Matrix.rowMajor(b, 0, k).transposed() : Gemm.Matrix.rowMajor(b, 0, n);
        int ldc = n + 3; // a C wider than the product, to check the row stride
        float[] expected = random(r, m * ldc), actual = expected.clone();
        Gemm.reference(m, n, k, alpha, ma, mb, expected, 0, ldc, accumulate);
        Gemm.multiply(m, n, k, alpha, ma, mb, actual, 0, ldc, accumulate, par);
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < ldc; j++) {
                int at = i * ldc + j;
                assertEquals(expected[at], actual[at], 1e-4f * (1 + k), "m=" + m + " n=" + n + " k=" + k + " at (" + i + "," + j + ")");
            }
        }
    }

    @Test
    void matchesReferenceOnAwkwardSizes() {
        try (Parallel par = new Parallel(3)) {
            for (int m : SIZES) {
                for (int n : SIZES) {
                    for (int k : SIZES) check(m, n, k, false, false, false, 1f, par);
                }
            }
        }
    }

    /** Sizes on both sides of each tile and block boundary: partial micro-tiles and partial depth blocks. */
    @Test
    void tileAndBlockEdges() {
        int[] ms = {Gemm.MR - 1, Gemm.MR, Gemm.MR + 1, 2 * Gemm.MR + 5};
        int[] ns = {Gemm.NR - 1, Gemm.NR, Gemm.NR + 1, 2 * Gemm.NR + 3};
        int[] ks = {1, Gemm.KC - 1, Gemm.KC, Gemm.KC + 1, 2 * Gemm.KC + 3};
        try (Parallel par = new Parallel(2)) {
            for (int m : ms) {
                for (int n : ns) {
                    for (int k : ks) check(m, n, k, false, false, true, 1f, par);
                }
            }
        }
    }

    /** Without accumulate, C's old contents must not leak into the result, not even NaN. */
    @Test
    void overwritesStaleOutput() {
        int[][] shapes = {{Gemm.MR + 1, Gemm.NR + 1, Gemm.KC + 1}, {3, 17, 5}, {13, 8, 1}};
        for (int[] s : shapes) {
            int m = s[0], n = s[1], k = s[2];
            Random r = new Random(m + n + k);
            float[] a = random(r, m * k), b = random(r, k * n), expected = new float[m * n], actual = new float[m * n];
            java.util.Arrays.fill(actual, Float.NaN);
            Gemm.reference(m, n, k, 1f, Gemm.Matrix.rowMajor(a, 0, k), Gemm.Matrix.rowMajor(b, 0, n), expected, 0, n, false);
            Gemm.multiply(m, n, k, 1f, Gemm.Matrix.rowMajor(a, 0, k), Gemm.Matrix.rowMajor(b, 0, n), actual, 0, n, false, Parallel.SERIAL);
            for (int i = 0; i < expected.length; i++) {
                assertEquals(expected[i], actual[i], 1e-4f * (1 + k), "m=" + m + " n=" + n + " k=" + k + " at " + i);
            }
        }
    }

    @Test
    void transposedOperandsAlphaAndAccumulate() {
        try (Parallel par = new Parallel(2)) {
            for (int s : SIZES) {
                check(s, 13, 17, true, false, true, 0.5f, par);
                check(17, s, 100, false, true, false, -2f, par);
                check(100, 7, s, true, true, true, 1.5f, par);
            }
        }
    }

    @Test
    void fewRowsStreamB() {
        try (Parallel par = new Parallel(2)) {
            for (int m = 1; m < Gemm.MR; m++) {
                check(m, 257, 100, false, true, false, 1f, par);
                check(m, 100, 257, true, true, true, 2f, par);
                check(m, 17, 1000, false, false, true, 1f, par);
            }
        }
    }

    @Test
    void prepackedRightOperandMatchesReference() {
        try (Parallel par = new Parallel(3)) {
            int[][] shapes = {{1, 7, 13}, {5, 100, 17}, {6, 8, 1}, {100, Gemm.NC + 3, Gemm.KC + 1}, {13, 257, 2 * Gemm.KC + 5},
                    {2, Gemm.NC + 3, 2 * Gemm.KC + 5}, {7, 70, Gemm.KC + 3}, {Gemm.MC + 5, 40, Gemm.KC + 7},
                    {30, 40, 40_000}, // so deep that A is packed a few rows at a time
                    {1, Gemm.NC + 3, 2 * Gemm.KC + 5}, {1, 1000, 300}}; // a lone row: eight panels at a time, the last group short
            for (int[] s : shapes) {
                int m = s[0], n = s[1], k = s[2];
                Random r = new Random(m + n + k);
                float[] a = random(r, m * k), b = random(r, n * k);
                for (boolean transB : new boolean[] {false, true}) {
                    for (boolean accumulate : new boolean[] {true, false}) {
                        Gemm.Matrix mb = transB ? Gemm.Matrix.rowMajor(b, 0, k).transposed() : Gemm.Matrix.rowMajor(b, 0, n);
                        Gemm.PackedB packed = Gemm.pack(k, n, mb);
                        float[] expected = random(r, m * n), actual = expected.clone();
                        Gemm.reference(m, n, k, 0.5f, Gemm.Matrix.rowMajor(a, 0, k), mb, expected, 0, n, accumulate);
                        Gemm.multiply(m, 0.5f, Gemm.Matrix.rowMajor(a, 0, k), packed, actual, 0, n, accumulate, par);
                        for (int i = 0; i < expected.length; i++) {
                            assertEquals(expected[i], actual[i], 1e-4f * (1 + k), "m=" + m + " n=" + n + " k=" + k + " accumulate=" + accumulate + " at " + i);
                        }
                    }
                }
            }
        }
    }

    /** Every count of rows the panel paths group (fours, a pair, one alone), alone and as a big product's last rows. */
    @Test
    void packedPanelsInRowGroups() {
        try (Parallel par = new Parallel(2)) {
            for (int m : new int[] {1, 2, 3, 4, 5, 7, 8, 9, Gemm.MR * 3 + 4, Gemm.MR * 3 + 5}) {
                for (int[] nk : new int[][] {{Gemm.NR + 5, 13}, {257, Gemm.KC + 3}}) {
                    int n = nk[0], k = nk[1];
                    Random r = new Random(m * 7L + n + k);
                    float[] a = random(r, m * k), b = random(r, k * n), expected = random(r, m * n), actual = expected.clone();
                    Gemm.Matrix ma = Gemm.Matrix.rowMajor(a, 0, k), mb = Gemm.Matrix.rowMajor(b, 0, n);
                    Gemm.reference(m, n, k, -1.5f, ma, mb, expected, 0, n, true);
                    Gemm.multiply(m, -1.5f, ma, Gemm.pack(k, n, mb), actual, 0, n, true, par);
                    for (int i = 0; i < expected.length; i++) {
                        assertEquals(expected[i], actual[i], 1e-4f * (1 + k), "m=" + m + " n=" + n + " k=" + k + " at " + i);
                    }
                }
            }
        }
    }

    @Test
    void spansSeveralPackedBlocks() {
        try (Parallel par = new Parallel(4)) {
            check(Gemm.MC + 5, Gemm.NC + 3, Gemm.KC * 2 + 1, false, false, true, 1f, par);
        }
    }
}
