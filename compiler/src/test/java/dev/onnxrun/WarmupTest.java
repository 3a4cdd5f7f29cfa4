package dev.onnxrun;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.onnxrun.compiler.ir.GraphText;
import dev.onnxrun.compiler.ir.Model;
import dev.onnxrun.compiler.ir.OpsetImports;
import dev.onnxrun.runtime.Tensor;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class WarmupTest {
    private static final String CONV = """
            graph g(x: float[1,2,6,6]) -> (y: float[1,3,6,6])
              w: float[3,2,3,3] = random
              c = Conv(x, w) {kernel_shape: [3, 3], pads: [1, 1, 1, 1]}
              y = Relu(c)
            """;

    private static Model model(String text) {
        return new Model(9, "test", "", new OpsetImports(Map.of("", 17)), GraphText.parse(text, 1), Map.of(), Map.of());
    }

    /** The warm-up swallows failures, so a kernel whose entry point changed would silently warm nothing: each workload must run. */
    @Test
    void everyWorkloadRunsOnTheCurrentKernels() {
        for (Warmup.Workload w : Warmup.Workload.values()) assertDoesNotThrow(() -> w.prepare().run(), w.name());
    }

    @Test
    void workloadsFollowTheModelsOps() {
        assertEquals(Set.of(Warmup.Workload.CONVOLUTION), Warmup.workloadsFor(model(CONV).graph()));
        assertEquals(Set.of(Warmup.Workload.CONVOLUTION, Warmup.Workload.DEPTHWISE, Warmup.Workload.POOLING), Warmup.workloadsFor(model("""
                graph g(x: float[1,2,6,6]) -> (y: float[1,2,3,3])
                  w: float[2,1,3,3] = random
                  c = Conv(x, w) {kernel_shape: [3, 3], pads: [1, 1, 1, 1], group: 2}
                  y = MaxPool(c) {kernel_shape: [2, 2], strides: [2, 2]}
                """).graph()));
        assertEquals(Set.of(Warmup.Workload.MATRIX_PRODUCT), Warmup.workloadsFor(model("""
                graph g(x: float[2,4]) -> (y: float[2,3])
                  w: float[4,3] = random
                  y = MatMul(x, w)
                """).graph()));
        assertEquals(Set.of(), Warmup.workloadsFor(model("""
                graph g(x: float[2,4]) -> (y: float[2,4])
                  y = Relu(x)
                """).graph()));
    }

    @Test
    void resultsDoNotDependOnTheWarmup() {
        Tensor x = Tensor.of(new float[72], 1, 2, 6, 6);
        for (int i = 0; i < 72; i++) x.setFloat(i, (i % 7) - 3f);
        try (CompiledModel warm = CompiledModel.compile(model(CONV), new CompiledModel.Options(1));
             CompiledModel cold = CompiledModel.compile(model(CONV), new CompiledModel.Options(1).withWarmup(false));
             Session a = warm.newSession(); Session b = cold.newSession()) {
            assertArrayEquals(b.run(Map.of("x", x)).get("y").toFloatArray(), a.run(Map.of("x", x)).get("y").toFloatArray());
        }
    }
}
