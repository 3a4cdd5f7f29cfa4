package dev.onnxrun.runtime.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.onnxrun.runtime.DType;
import dev.onnxrun.runtime.OnnxrunException;
import dev.onnxrun.runtime.Parallel;
import dev.onnxrun.runtime.Tensor;
import org.junit.jupiter.api.Test;

class StridedCopyTest {
    private static Tensor iota(DType dtype, long... shape) {
        Tensor t = Tensor.allocate(dtype, shape);
        for (long i = 0; i < t.size(); i++) t.setLong(i, i);
        return t;
    }

    @Test
    void parallelTransposeMatchesNaiveForEveryWidth() {
        try (Parallel p = new Parallel(4)) {
            for (DType dtype : new DType[] {DType.FLOAT, DType.INT64, DType.INT16, DType.UINT8, DType.DOUBLE}) {
                Tensor x = iota(dtype, 8, 60, 70, 3);
                Tensor y = StridedCopy.transpose(x, new int[] {2, 0, 3, 1}, p);
                assertArrayEquals(new long[] {70, 8, 3, 60}, y.shape());
                for (long c = 0; c < 70; c++) {
                    for (long a = 0; a < 8; a++) {
                        for (long d = 0; d < 3; d++) {
                            for (long b = 0; b < 60; b += 7) {
                                long src = ((a * 60 + b) * 70 + c) * 3 + d;
                                long dst = ((c * 8 + a) * 3 + d) * 60 + b;
                                assertEquals(x.getLong(src), y.getLong(dst), dtype + " at " + dst);
                            }
                        }
                    }
                }
            }
        }
    }

    @Test
    void floatRowsReadDownAColumnMoveInTilesWithTheirBits() {
        // [batch, tokens, heads, width] → [batch, heads, width, tokens], as attention transposes K;
        // 101 rows of width make six whole tiles and a tail, and four threads split the 1010 rows mid-tile
        Tensor x = iota(DType.FLOAT, 2, 67, 5, 101);
        x.setFloat(7, Float.intBitsToFloat(0x7fa00001)); // a signalling NaN keeps its payload
        x.setFloat(8, -0f);
        assertTransposedLikeK(x, Parallel.SERIAL);
        try (Parallel p = new Parallel(4)) {
            assertTransposedLikeK(x, p);
        }
    }

    private static void assertTransposedLikeK(Tensor x, Parallel p) {
        int batch = (int) x.dim(0), tokens = (int) x.dim(1), heads = (int) x.dim(2), width = (int) x.dim(3);
        Tensor y = StridedCopy.transpose(x, new int[] {0, 2, 3, 1}, p);
        assertArrayEquals(new long[] {batch, heads, width, tokens}, y.shape());
        for (int b = 0; b < batch; b++) {
            for (int h = 0; h < heads; h++) {
                for (int w = 0; w < width; w++) {
                    for (int t = 0; t < tokens; t++) {
                        long src = (((long) b * tokens + t) * heads + h) * width + w, dst = (((long) b * heads + h) * width + w) * tokens + t;
                        assertEquals(Float.floatToRawIntBits(x.getFloat(src)), Float.floatToRawIntBits(y.getFloat(dst)), "at " + dst);
                    }
                }
            }
        }
    }

    @Test
    void transposeKeepingInnerAxesCopiesBlocks() {
        Tensor x = iota(DType.INT32, 2, 3, 4);
        Tensor y = StridedCopy.transpose(x, new int[] {1, 0, 2}, Parallel.SERIAL);
        assertArrayEquals(new int[] {0, 1, 2, 3, 12, 13, 14, 15, 4, 5, 6, 7, 16, 17, 18, 19, 8, 9, 10, 11, 20, 21, 22, 23},
                y.toIntArray());
    }

    @Test
    void sliceRangesClampLikeOnnx() {
        assertArrayEquals(new long[] {9, 5}, StridedCopy.sliceRange(10, -1, Long.MIN_VALUE, -2));
        assertArrayEquals(new long[] {0, 10}, StridedCopy.sliceRange(10, Long.MIN_VALUE, Long.MAX_VALUE, 1));
        assertArrayEquals(new long[] {10, 0}, StridedCopy.sliceRange(10, 20, 30, 1));
        assertArrayEquals(new long[] {9, 0}, StridedCopy.sliceRange(10, 20, 30, -1));
        assertEquals(0, StridedCopy.sliceRange(0, 0, 5, 1)[1]);
    }

    @Test
    void tileWithZeroRepeatsAndStrings() {
        Tensor s = Tensor.ofStrings(new String[] {"x", "y"}, 2);
        assertArrayEquals(new String[] {"x", "y", "x", "y"}, StridedCopy.tile(s, new long[] {2}, Parallel.SERIAL).toStringArray());
        assertEquals(0, StridedCopy.tile(s, new long[] {0}, Parallel.SERIAL).size());
        assertThrows(OnnxrunException.class, () -> StridedCopy.tile(s, new long[] {-1}, Parallel.SERIAL));
    }

    @Test
    void expandRejectsIncompatibleShapes() {
        Tensor x = iota(DType.FLOAT, 3);
        assertThrows(OnnxrunException.class, () -> StridedCopy.expand(x, new long[] {2, 4}, Parallel.SERIAL));
        assertArrayEquals(new long[] {2, 3}, StridedCopy.expand(x, new long[] {2, 1}, Parallel.SERIAL).shape());
    }

    @Test
    void reflectPadWiderThanInputBounces() {
        Tensor x = iota(DType.INT64, 3);
        Tensor y = Padding.pad(x, new long[] {5, 5}, Padding.Mode.REFLECT, null);
        assertArrayEquals(new long[] {1, 0, 1, 2, 1, 0, 1, 2, 1, 0, 1, 2, 1}, y.toLongArray());
    }

    @Test
    void indexingErrorsNameTheIndex() {
        Tensor data = iota(DType.FLOAT, 2, 2);
        OnnxrunException e = assertThrows(OnnxrunException.class,
                () -> Indexing.gatherND(data, Tensor.of(new long[] {0, -3}, 1, 2), 0));
        assertEquals(OnnxrunException.Kind.INVALID_INPUT, e.kind());
        org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("index -3"), e.getMessage());
        assertThrows(OnnxrunException.class,
                () -> Indexing.scatterElements(data, Tensor.of(new long[] {2}, 1, 1), Tensor.of(new float[] {1}, 1, 1), 0,
                        Indexing.Reduction.NONE));
    }

    @Test
    void uniqueAlongAnAxis() {
        Tensor x = Tensor.of(new long[] {1, 0, 1, 1, 0, 1}, 2, 3); // columns: (1,1) (0,0) (1,1)
        Unique.Result r = Unique.run(x, 1L, true);
        assertArrayEquals(new long[] {2, 2}, r.values().shape());
        assertArrayEquals(new long[] {0, 1, 0, 1}, r.values().toLongArray());
        assertArrayEquals(new long[] {1, 0}, r.indices().toLongArray());
        assertArrayEquals(new long[] {1, 0, 1}, r.inverse().toLongArray());
        assertArrayEquals(new long[] {1, 2}, r.counts().toLongArray());
    }
}
