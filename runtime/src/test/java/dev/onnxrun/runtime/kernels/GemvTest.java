package dev.onnxrun.runtime.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.onnxrun.runtime.Parallel;
import java.util.Random;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

/** {@link Gemv} against {@link Gemm#reference}: every row grouping (eights, fours, pairs, one), whole blocks and single-vector columns, serial and split over a pool. */
class GemvTest {
    private static final int VL = FloatVector.SPECIES_PREFERRED.length();

    @Test
    void matchesTheReference() {
        Random r = new Random(3);
        try (Parallel pool = new Parallel(3)) {
            for (int k : new int[] {1, 5, 64, 300}) {
                // no whole block, one, and blocks followed by single vectors
                for (int n : new int[] {VL, Gemv.BLOCK, 2 * Gemv.BLOCK + 3 * VL}) {
                    float[] b = random(r, k * n);
                    Gemv.Packed packed = Gemv.pack(k, n, b, 0);
                    // saved and restored, it is the same matrix
                    Gemv.Packed restored = Gemv.of(k, n, packed.toArray(), 0);
                    assertArrayEquals(packed.toArray(), restored.toArray());
                    for (int m = 1; m <= 15; m++) {
                        int lda = k + 2, ldc = n + 5; // strides wider than the rows, to check them
                        float[] a = random(r, m * lda), expected = random(r, m * ldc), actual = expected.clone();
                        Gemm.reference(m, n, k, 1f, Gemm.Matrix.rowMajor(a, 0, lda), Gemm.Matrix.rowMajor(b, 0, n), expected, 0, ldc, false);
                        Gemv.multiply(m, a, 0, lda, m % 2 == 0 ? restored : packed, actual, 0, ldc, m > 4 ? pool : Parallel.SERIAL);
                        for (int i = 0; i < m; i++) {
                            // the columns past n, the caller's, are left as they were, in both
                            for (int j = 0; j < ldc; j++) {
                                assertEquals(expected[i * ldc + j], actual[i * ldc + j], 1e-5f * (1 + k), "m=" + m + " n=" + n + " k=" + k + " at (" + i + "," + j + ")");
                            }
                        }
                    }
                }
            }
        }
    }

    private static float[] random(Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = r.nextFloat() * 2 - 1;
        return a;
    }
}
