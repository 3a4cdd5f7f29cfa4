package dev.onnxrun.runtime.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.onnxrun.runtime.ExecContext;
import dev.onnxrun.runtime.Parallel;
import dev.onnxrun.runtime.Tensor;
import java.util.Random;
import org.junit.jupiter.api.Test;

class MatrixOpsTest {
    private static void assertClose(Tensor expected, Tensor actual) {
        assertArrayEquals(expected.shape(), actual.shape());
        for (int i = 0; i < expected.size(); i++) assertEquals(expected.getDouble(i), actual.getDouble(i), 1e-4, "at " + i);
    }

    @Test
    void packedWeightsAndFoldedBatchMatchTheDoublePath() {
        Random r = new Random(11);
        try (Parallel par = new Parallel(2)) {
            for (long[] aShape : new long[][] {{3, 5, 40}, {2, 40}, {4, 1, 40}, {40}}) {
                Tensor a = RandomTensors.uniform(r, aShape), b = RandomTensors.uniform(r, 40, 21);
                Tensor expected = MatrixOps.matMul(Tensor.of(a.toDoubleArray(), a.shape()), Tensor.of(b.toDoubleArray(), b.shape()), par);
                assertClose(expected, MatrixOps.matMul(a, b, par));
                assertClose(expected, MatrixOps.matMul(a, b, MatrixOps.packRight(b, false), ExecContext.on(par)));
            }
        }
    }

    /**
     * Batches of products on both sides (attention heads), spread across the batch or split inside
     * each product: heads that divide evenly among the threads, and three large ones that do not.
     */
    @Test
    void batchedProductsOnEitherSplit() {
        Random r = new Random(13);
        try (Parallel par = new Parallel(2)) {
            for (long[][] shapes : new long[][][] {{{2, 4, 128, 64}, {2, 4, 64, 128}}, {{3, 128, 64}, {3, 64, 130}}, {{3, 5, 7}, {1, 7, 9}}}) {
                Tensor a = RandomTensors.uniform(r, shapes[0]), b = RandomTensors.uniform(r, shapes[1]);
                Tensor expected = MatrixOps.matMul(Tensor.of(a.toDoubleArray(), a.shape()), Tensor.of(b.toDoubleArray(), b.shape()), par);
                assertClose(expected, MatrixOps.matMul(a, b, par));
            }
        }
    }

    @Test
    void gemmWithPackedTransposedWeights() {
        Random r = new Random(12);
        Tensor a = RandomTensors.uniform(r, 9, 30), b = RandomTensors.uniform(r, 17, 30), c = RandomTensors.uniform(r, 17);
        Tensor expected = MatrixOps.gemm(a, b, c, false, true, 1.5f, 0.5f, Parallel.SERIAL);
        assertClose(expected, MatrixOps.gemm(a, b, MatrixOps.packRight(b, true), c, false, true, 1.5f, 0.5f, Parallel.SERIAL));
    }
}
