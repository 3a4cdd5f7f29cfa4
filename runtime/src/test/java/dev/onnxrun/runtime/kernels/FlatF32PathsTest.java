package dev.onnxrun.runtime.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.onnxrun.runtime.DType;
import dev.onnxrun.runtime.Parallel;
import dev.onnxrun.runtime.Tensor;
import org.junit.jupiter.api.Test;

/** The float32 flat paths of compare and Where against their generic twins (run on double tensors of the same values). */
class FlatF32PathsTest {
    static final float[] SPECIAL = {0f, -0f, 1f, -1f, Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.MIN_VALUE, 3.5f};

    static Tensor floats(int n, int shift) {
        Tensor t = Tensor.allocate(DType.FLOAT, n);
        for (int i = 0; i < n; i++) t.setFloat(i, SPECIAL[(i + shift) % SPECIAL.length] * (1 + i % 7));
        return t;
    }

    @Test
    void compareAndWhereMatchTheGenericPath() {
        try (Parallel threads = new Parallel(3)) {
            for (int n : new int[] {1, 7, 13, 100, 4098, 70000}) {
                Tensor a = floats(n, 0), b = floats(n, 3), scalar = Tensor.scalar(0f);
                for (Comparison c : Comparison.values()) {
                    for (Tensor right : new Tensor[] {b, scalar}) {
                        Tensor fast = Elementwise.compare(c, a, right, threads);
                        Tensor generic = Elementwise.compare(c, RandomTensors.asDouble(a), RandomTensors.asDouble(right), threads);
                        for (int i = 0; i < n; i++) assertEquals(generic.getBoolean(i), fast.getBoolean(i), c + " n=" + n + " at " + i);
                    }
                }
                Tensor cond = Elementwise.compare(Comparison.GREATER, a, scalar, threads);
                for (Tensor[] pair : new Tensor[][] {{a, b}, {a, scalar}, {scalar, b}}) {
                    Tensor fast = Elementwise.where(cond, pair[0], pair[1], threads);
                    Tensor generic = Elementwise.where(cond, RandomTensors.asDouble(pair[0]), RandomTensors.asDouble(pair[1]), threads);
                    for (int i = 0; i < n; i++) assertEquals(generic.getDouble(i), fast.getDouble(i), 0, "Where n=" + n + " at " + i);
                }
            }
        }
    }
}
