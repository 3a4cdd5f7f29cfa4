package dev.onnxrun;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.onnxrun.compiler.ir.GraphText;
import dev.onnxrun.compiler.ir.Model;
import dev.onnxrun.compiler.ir.OpsetImports;
import dev.onnxrun.runtime.ExecContext;
import dev.onnxrun.runtime.Tensor;
import dev.onnxrun.runtime.Value;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Sessions run planned intermediates in a reused arena: same results as the heap, flat memory, nothing kept after close. */
class SessionMemoryTest {
    /**
     * Elementwise chains (computed in place), views, a Softmax, a Transpose, a Concat and a layer
     * with bias, residual and activation (one FusedGemm), with a symbolic batch.
     */
    private static final String CHAIN = """
            graph g(x: float[N,64]) -> (y: float[64,N], z: float[N,64], u: float[N,128])
              a = Softmax(x)
              b = Relu(a)
              c = Mul(b, b)
              d = Add(c, a)
              shape: int64[3] = [-1, 8, 8]
              v = Reshape(d, shape)
              e = Sigmoid(v)
              back: int64[2] = [-1, 64]
              f = Reshape(e, back)
              g = Sub(f, x)
              y = Transpose(g)
              w: float[64,64] = random
              bias: float[64] = random
              m = MatMul(g, w)
              mb = Add(m, bias)
              ms = Add(mb, f)
              mr = Relu(ms)
              z = Tanh(mr)
              cat = Concat(f, g) {axis: 1}
              u = Sigmoid(cat)
            """;

    private static Model model(String text) {
        return new Model(9, "test", "", new OpsetImports(Map.of("", 17)), GraphText.parse(text, 1), Map.of(), Map.of());
    }

    private static Tensor random(long seed, long... shape) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[(int) dev.onnxrun.runtime.Shapes.size(shape)];
        for (int i = 0; i < v.length; i++) v[i] = (float) r.nextDouble(-2, 2);
        return Tensor.of(v, shape);
    }

    /** The same inputs run by the plan without a workspace: every value on the heap. */
    private static Value[] onHeap(CompiledModel m, Map<String, Tensor> inputs) {
        return m.plan().execute(new HashMap<>(inputs), new ExecContext(ExecContext.Scope.EMPTY, m.parallel()));
    }

    private static void assertSameOutputs(Value[] expected, Map<String, Tensor> actual) {
        List<Tensor> got = List.copyOf(actual.values());
        for (int i = 0; i < expected.length; i++) {
            assertArrayEquals(((Tensor) expected[i]).toFloatArray(), got.get(i).toFloatArray(), "output " + i);
        }
    }

    @Test
    void arenaRunsEqualHeapRunsAcrossShapes() {
        try (CompiledModel m = CompiledModel.compile(model(CHAIN), new CompiledModel.Options(2)); Session s = m.newSession()) {
            for (long batch : new long[] {1, 5, 32, 3, 32}) {
                Map<String, Tensor> in = Map.of("x", random(batch, batch, 64));
                assertSameOutputs(onHeap(m, in), s.run(in));
            }
            assertTrue(s.workspaceBytes() > 0, "the session ran in an arena");
        }
    }

    @Test
    void cyclingShapesKeepsTheArenaFlat() {
        long[] batches = {1, 7, 3, 16, 5};
        try (CompiledModel m = CompiledModel.compile(model(CHAIN), new CompiledModel.Options(1)); Session s = m.newSession()) {
            for (long b : batches) s.run(Map.of("x", random(b, b, 64)));
            long afterFirstCycle = s.workspaceBytes();
            long direct = directBytes();
            for (int run = 0; run < 500; run++) {
                long b = batches[run % batches.length];
                Map<String, Tensor> in = Map.of("x", random(run, b, 64));
                Map<String, Tensor> out = s.run(in);
                if (run % 97 == 0) assertSameOutputs(onHeap(m, in), out);
            }
            assertEquals(afterFirstCycle, s.workspaceBytes(), "the arena grows only to the largest shape's plan");
            assertEquals(direct, directBytes(), "runs hold no off-heap memory");
        }
    }

    @Test
    void closingASessionLetsGoOfItsArena() {
        CompiledModel m = CompiledModel.compile(model(CHAIN), new CompiledModel.Options(1));
        Session s = m.newSession();
        s.run(Map.of("x", random(1, 4, 64)));
        assertTrue(s.workspaceBytes() > 0);
        s.close();
        m.close();
        assertEquals(0, s.workspaceBytes());
    }

    /**
     * Inference Dropout (kept here: no passes) returns its input as its output. a's memory is
     * free after Dropout reads it, and Sin writes e there (Neg then overwrites e in place); if d
     * still pointed into a's memory, y would be b + b.
     */
    @Test
    void aKernelReturningItsInputIsCopiedOutOfMemoryThatIsReused() {
        String text = """
                graph g(x: float[256]) -> (y: float[256])
                  a = Relu(x)
                  d = Dropout(a)
                  e = Sin(d)
                  b = Neg(e)
                  y = Add(d, b)
                """;
        try (CompiledModel m = CompiledModel.compile(model(text), new CompiledModel.Options(1, List.of())); Session s = m.newSession()) {
            Map<String, Tensor> in = Map.of("x", random(9, 256));
            assertSameOutputs(onHeap(m, in), s.run(in));
        }
    }

    private static long directBytes() {
        return ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
                .filter(p -> p.getName().equals("direct")).mapToLong(BufferPoolMXBean::getMemoryUsed).sum();
    }
}
