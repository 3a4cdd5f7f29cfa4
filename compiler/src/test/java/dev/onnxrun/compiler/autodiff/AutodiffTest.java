package dev.onnxrun.compiler.autodiff;

import static dev.onnxrun.compiler.autodiff.GradientCheck.OPSETS;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.onnxrun.CompiledModel;
import dev.onnxrun.Session;
import dev.onnxrun.compiler.ir.Graph;
import dev.onnxrun.compiler.ir.GraphText;
import dev.onnxrun.compiler.ir.Model;
import dev.onnxrun.compiler.ir.OpsetImports;
import dev.onnxrun.compiler.ir.ValueInfo;
import dev.onnxrun.compiler.ops.OpDef;
import dev.onnxrun.compiler.ops.OpRegistry;
import dev.onnxrun.compiler.passes.GraphValidator;
import dev.onnxrun.runtime.OnnxrunException;
import dev.onnxrun.runtime.Tensor;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AutodiffTest {
    private static Graph parse(String text) { return GraphText.parse(text, 3); }

    @Test
    void outputsAreTheLossAndOneGradientPerParameter() {
        Graph g = parse("""
                graph g(x: float[2,3]) -> (loss: float[])
                  w: float[3,4] = random
                  unused: float[2] = [1.0, 2.0]
                  h = MatMul(x, w)
                  loss = ReduceSum(h) {keepdims: 0}
                """);
        Graph back = Autodiff.backward(g, OPSETS, "loss", List.of("w", "unused"));
        assertEquals(List.of("loss", "grad/w", "grad/unused"), back.outputs().stream().map(ValueInfo::name).toList());
        GraphValidator.validate(back);
        Tensor x = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
        Map<String, Tensor> out = GradientCheck.run(back, Map.of("x", x), true);
        // d sum(x·w) / d w[k, j] = Σ_i x[i, k]
        float[] expected = {5, 5, 5, 5, 7, 7, 7, 7, 9, 9, 9, 9};
        assertArrayEquals(expected, out.get("grad/w").toFloatArray());
        // a parameter the loss does not read gets zeros of its shape
        assertArrayEquals(new float[] {0, 0}, out.get("grad/unused").toFloatArray());
    }

    @Test
    void everyRequiredOpHasAGradientInItsRegistryEntry() {
        List<String> ops = List.of("Add", "Sub", "Mul", "Div", "Neg", "Relu", "LeakyRelu", "Elu", "Sigmoid", "Tanh", "Exp",
                "Log", "Sqrt", "Pow", "Identity", "Gemm", "MatMul", "Reshape", "Flatten", "Transpose", "Squeeze", "Unsqueeze",
                "Concat", "Split", "Slice", "Gather", "Softmax", "LogSoftmax", "ReduceSum", "ReduceMean", "Conv", "MaxPool",
                "AveragePool", "GlobalAveragePool", "BatchNormalization", "LayerNormalization", "Dropout",
                "ConvTranspose", "Gelu", "Erf", "RNN", "GRU", "LSTM",
                "SoftmaxCrossEntropyLoss", "NegativeLogLikelihoodLoss");
        for (String op : ops) {
            for (OpDef def : OpRegistry.get().all()) {
                if (def.domain().isEmpty() && def.name().equals(op)) assertNotNull(OpRegistry.get().gradientOf(def), op + " since " + def.sinceVersion());
            }
        }
        assertNotNull(OpRegistry.get().gradientOf(OpRegistry.get().find(OpsetImports.ONNXRUN_DOMAIN, "SumToShape", 1)));
    }

    @Test
    void aValueReadTwiceSumsItsContributions() {
        Graph g = parse("""
                graph g(a: float[3]) -> (loss: float[])
                  t = Mul(a, a)
                  loss = ReduceSum(t) {keepdims: 0}
                """);
        Graph back = Autodiff.backward(g, OPSETS, "loss", List.of("a"));
        assertEquals(1, back.nodes().stream().filter(n -> n.opType().equals("Sum")).count());
        Map<String, Tensor> out = GradientCheck.run(back, Map.of("a", Tensor.of(new float[] {1, -2, 3}, 3)), false);
        assertArrayEquals(new float[] {2, -4, 6}, out.get("grad/a").toFloatArray());
    }

    @Test
    void aNodeWithoutARuleOnThePathIsNamed() {
        Graph g = parse("""
                graph g(a: float[3]) -> (loss: float[])
                  f = Floor(a)
                  loss = ReduceSum(f) {keepdims: 0}
                """);
        OnnxrunException e = assertThrows(OnnxrunException.class, () -> Autodiff.backward(g, OPSETS, "loss", List.of("a")));
        assertTrue(e.getMessage().contains("node 'f' (Floor): no gradient rule for op Floor"), e.getMessage());
    }

    @Test
    void nodesOffThePathNeedNoRule() {
        // Floor reads the parameter but never reaches the loss; Shape's integer chain carries no gradient
        Graph g = parse("""
                graph g(a: float[2,3]) -> (loss: float[], side: float[2,3])
                  side = Floor(a)
                  s = Shape(a)
                  r = Reshape(a, s)
                  loss = ReduceSum(r) {keepdims: 0}
                """);
        Graph back = Autodiff.backward(g, OPSETS, "loss", List.of("a"));
        Map<String, Tensor> out = GradientCheck.run(back, Map.of("a", Tensor.allocate(dev.onnxrun.runtime.DType.FLOAT, 2, 3)), true);
        assertArrayEquals(new float[] {1, 1, 1, 1, 1, 1}, out.get("grad/a").toFloatArray());
    }

    @Test
    void broadcastGradientsWorkWithSymbolicDims() {
        Graph g = parse("""
                graph g(x: float[N,3]) -> (loss: float[])
                  b: float[3] = [0.0, 0.0, 0.0]
                  s: float[1] = [2.0]
                  y = Add(x, b)
                  z = Mul(y, s)
                  loss = ReduceMean(z) {keepdims: 0}
                """);
        Graph back = Autodiff.backward(g, OPSETS, "loss", List.of("b", "s"));
        Map<String, Tensor> out = GradientCheck.run(back, Map.of("x", Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3)), true);
        // loss = mean(2(x + b)) over 6 elements: d/db_j = 2·2/6, d/ds = mean(x + b) = 3.5
        assertArrayEquals(new float[] {2 / 3f, 2 / 3f, 2 / 3f}, out.get("grad/b").toFloatArray(), 1e-6f);
        assertArrayEquals(new float[] {3.5f}, out.get("grad/s").toFloatArray(), 1e-6f);
    }

    @Test
    void aNonScalarLossIsRejected() {
        Graph g = parse("graph g(a: float[3]) -> (y: float[3])\n  y = Relu(a)");
        assertThrows(OnnxrunException.class, () -> Autodiff.backward(g, OPSETS, "y", List.of("a")));
    }

    @Test
    void theGradientOpExpandsIntoBackwardNodes() {
        Graph g = parse("""
                graph g(a: float[2], b: float[2]) -> (d: float[2], da: float[2], db: float[2])
                  c = Add(a, b)
                  d = Mul(c, a)
                  da, db = ai.onnx.preview.training.Gradient(a, b) {xs: ["a", "b"], y: "d"}
                """);
        Model m = new Model(8, "test", "", new OpsetImports(Map.of("", 12, "ai.onnx.preview.training", 1)), g, Map.of(), Map.of());
        try (CompiledModel c = CompiledModel.compile(m, new CompiledModel.Options(1)); Session s = c.newSession()) {
            Map<String, Tensor> out = s.run(Map.of("a", Tensor.of(new float[] {1, 2}, 2), "b", Tensor.of(new float[] {3, -1}, 2)));
            // d = (a + b)·a: dd/da = 2a + b, dd/db = a
            assertArrayEquals(new float[] {5, 3}, out.get("da").toFloatArray());
            assertArrayEquals(new float[] {1, 2}, out.get("db").toFloatArray());
        }
    }

    /** A LeNet-like network, every parameter checked against finite differences. */
    @Test
    void lenetGradientsMatchFiniteDifferences() {
        GradientCheck.check("""
                graph lenet(x: double[2,1,6,6], w1: double[3,1,3,3], b1: double[3], s: double[3], beta: double[3], w2: double[5,12], c2: double[5]) -> (loss: double[])
                  m: double[3] = [0.0, 0.0, 0.0]
                  v: double[3] = [1.0, 1.0, 1.0]
                  t: int64[2] = [1, 4]
                  c = Conv(x, w1, b1) {pads: [1, 1, 1, 1]}
                  n, rm, rv = BatchNormalization(c, s, beta, m, v) {training_mode: 1}
                  r = Relu(n)
                  p = MaxPool(r) {kernel_shape: [3, 3], strides: [3, 3]}
                  f = Flatten(p)
                  z = Gemm(f, w2, c2) {transB: 1}
                  loss = SoftmaxCrossEntropyLoss(z, t)
                """, "x", "w1", "b1", "s", "beta", "w2", "c2");
    }
}
