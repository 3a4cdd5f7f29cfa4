package dev.onnxrun.compiler.passes;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.onnxrun.compiler.ir.Graph;
import dev.onnxrun.compiler.ir.OpsetImports;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Fused and recognized ops written back as standard ONNX compute what they stood for, at old and new opsets. */
class ExpandFusedOpsTest {
    static final String FUSED = """
            graph g(x: float[1,3,5,5], r: float[1,4,5,5], a: float[2,3,4]) -> (y: float[1,4,5,5], z: float[2,3,6], s: float[2,3,4], t: float[2,3,4], u: float[2,3,4], v: float[2,3,4])
              w: float[4,3,3,3] = random
              b: float[4] = random
              m: float[6,4] = random
              c: float[6] = random
              g: float[4] = random
              beta: float[4] = random
              y = dev.onnxrun.FusedConv(x, w, b, r) {activation: "Clip", activation_alpha: 0.0, activation_beta: 0.6, kernel_shape: [3, 3], pads: [1, 1, 1, 1]}
              z = dev.onnxrun.FusedGemm(a, m, c) {activation: "Gelu", alpha: 0.5, transB: 1}
              s = dev.onnxrun.Silu(a)
              t = dev.onnxrun.LayerNormalization(a, g, beta) {axis: -1, epsilon: 0.001}
              u = dev.onnxrun.Softmax(a) {axis: 1}
              v = dev.onnxrun.Gelu(a)
            """;

    @ParameterizedTest
    @ValueSource(ints = {11, 13, 17, 20})
    void expandedGraphComputesTheSame(int opset) {
        OpsetImports opsets = new OpsetImports(Map.of("", opset));
        Graph fused = PassTester.parse(FUSED);
        Graph expanded = GraphValidator.validate(new ExpandFusedOps().run(fused, opsets));
        assertTrue(expanded.nodes().stream().noneMatch(n -> n.domain().equals(OpsetImports.ONNXRUN_DOMAIN)), PassTester.nodesText(expanded));
        PassTester.assertSameOutputs(fused, expanded, opsets);
    }

    /** Blocked layers expand to their plain forms: Conv, the pool, Identity for Unblock; the concat stays. */
    @ParameterizedTest
    @ValueSource(ints = {11, 17})
    void blockedLayersExpandToPlainOnes(int opset) {
        OpsetImports opsets = new OpsetImports(Map.of("", opset));
        Graph plain = PassTester.parse("""
                graph g(x: float[1,3,11,11]) -> (y: float[1,32,1,1], p: float[1,32,5,5])
                  w0: float[16,3,3,3] = random
                  w1: float[16,16,1,1] = random
                  wd: float[16,1,3,3] = random
                  c0 = dev.onnxrun.FusedConv(x, w0) {activation: "Relu", pads: [1, 1, 1, 1]}
                  c1 = dev.onnxrun.FusedConv(c0, w1) {activation: "Relu"}
                  d = Conv(c0, wd) {group: 16, pads: [1, 1, 1, 1]}
                  f = Concat(c1, d) {axis: 1}
                  p = AveragePool(f) {kernel_shape: [3, 3], strides: [2, 2]}
                  y = GlobalMaxPool(p)
                """);
        Graph blocked = GraphValidator.validate(new BlockChannels(true).run(plain, opsets));
        assertTrue(blocked.nodes().stream().anyMatch(n -> n.opType().equals("BlockedPool")), PassTester.nodesText(blocked));
        Graph expanded = GraphValidator.validate(new ExpandFusedOps().run(blocked, opsets));
        assertTrue(expanded.nodes().stream().noneMatch(n -> n.domain().equals(OpsetImports.ONNXRUN_DOMAIN)), PassTester.nodesText(expanded));
        PassTester.assertSameOutputs(plain, expanded, opsets);
    }
}
