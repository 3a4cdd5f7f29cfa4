package dev.onnxrun.runtime.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.onnxrun.runtime.DType;
import dev.onnxrun.runtime.ExecContext;
import dev.onnxrun.runtime.Parallel;
import dev.onnxrun.runtime.Tensor;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ReduceTest {
    /** The same seeded Gaussian values (times 10) as a float tensor and a double tensor of {@code shape}. */
    private static Tensor[] floatAndDouble(long seed, long... shape) {
        Random random = new Random(seed);
        Tensor f = Tensor.allocate(DType.FLOAT, shape), d = Tensor.allocate(DType.DOUBLE, shape);
        for (long i = 0; i < f.size(); i++) {
            float v = (float) random.nextGaussian() * 10;
            f.setFloat(i, v);
            d.setDouble(i, v);
        }
        return new Tensor[] {f, d};
    }

    /** Sums and means over a run of middle axes, with kept axes after it (the planes' vector path), against the double path. */
    @Test
    void sumsOverMiddleAxesMatchTheDoublePath() {
        Tensor[] fd = floatAndDouble(11, 2, 6, 5, 37);
        Tensor f = fd[0], d = fd[1];
        try (Parallel parallel = new Parallel(3)) {
            for (boolean[] axes : new boolean[][] {{false, true, false, false}, {true, true, false, false}, {false, true, true, false}, {true, false, false, false}}) {
                for (Reduce.Reduction r : new Reduce.Reduction[] {Reduce.Reduction.SUM, Reduce.Reduction.MEAN}) {
                    for (boolean keepdims : new boolean[] {false, true}) {
                        Tensor want = Reduce.reduce(d, r, axes, keepdims, parallel), got = Reduce.reduce(f, r, axes, keepdims, parallel);
                        assertArrayEquals(want.shape(), got.shape());
                        double[] expected = want.toDoubleArray();
                        float[] actual = got.toFloatArray();
                        for (int i = 0; i < expected.length; i++) {
                            assertEquals(expected[i], actual[i], 1e-5 * (1 + Math.abs(expected[i])), r + " " + java.util.Arrays.toString(axes) + " " + i);
                        }
                    }
                }
            }
        }
    }

    /** The float32 fast paths agree with the double path on the same values. */
    @Test
    void floatFastPathsMatchTheDoublePath() {
        long[] shape = {3, 5, 17};
        Tensor[] fd = floatAndDouble(7, shape);
        Tensor f = fd[0], d = fd[1];
        try (Parallel parallel = new Parallel(3)) {
            for (boolean[] axes : new boolean[][] {{false, false, true}, {false, true, true}, {true, false, true}, {true, true, true}}) {
                for (Reduce.Reduction r : Reduce.Reduction.values()) {
                    if (r == Reduce.Reduction.LOG_SUM || r == Reduce.Reduction.PROD) continue;
                    double[] expected = Reduce.reduce(d, r, axes, false, parallel).toDoubleArray();
                    float[] actual = Reduce.reduce(f, r, axes, false, parallel).toFloatArray();
                    for (int i = 0; i < expected.length; i++) assertEquals(expected[i], actual[i], 1e-4 * (1 + Math.abs(expected[i])), r + " " + i);
                }
            }
            for (Softmax.Kind kind : Softmax.Kind.values()) {
                AxisLayout layout = AxisLayout.around(shape, 2);
                double[] expected = Softmax.apply(d, layout, kind, ExecContext.on(parallel)).toDoubleArray();
                float[] actual = Softmax.apply(f, layout, kind, ExecContext.on(parallel)).toFloatArray();
                for (int i = 0; i < expected.length; i++) assertEquals(expected[i], actual[i], 1e-5 * (1 + Math.abs(expected[i])));
            }
        }
    }

    @Test
    void scalarReducesToItself() {
        Tensor x = Tensor.of(new float[] {4});
        Tensor y = Reduce.reduce(x, Reduce.Reduction.L2, new boolean[0], true, Parallel.SERIAL);
        assertArrayEquals(new long[0], y.shape());
        assertEquals(4f, y.getFloat(0));
    }

    @Test
    void axisLayoutLineStarts() {
        AxisLayout layout = AxisLayout.around(new long[] {2, 3, 4}, 1);
        assertEquals(new AxisLayout(2, 3, 4), layout);
        assertEquals(8, layout.lines());
        assertEquals(13, layout.lineStart(5)); // outer 1, inner 1
    }
}
