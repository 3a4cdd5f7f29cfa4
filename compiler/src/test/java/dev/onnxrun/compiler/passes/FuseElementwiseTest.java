package dev.onnxrun.compiler.passes;

import static dev.onnxrun.compiler.passes.PassTester.assertRewrite;
import static dev.onnxrun.compiler.passes.PassTester.assertUnchanged;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.onnxrun.compiler.ir.Graph;
import org.junit.jupiter.api.Test;

/** Chains of elementwise ops become one FusedElementwise node that computes what the chain did, and expands back. */
class FuseElementwiseTest {
    /** 2×20000 elements: several blocks, split across threads. */
    static final String CHAIN = """
            graph g(x: float[2,20000], r: float[2,20000]) -> (y: float[2,20000])
              s: float[] = [1.5]
              one: float[1] = [1.0]
              a = Mul(x, s)
              b = Add(a, r)
              c = LeakyRelu(b) {alpha: 0.2}
              y = Sub(one, c)
            """;

    @Test
    void chainBecomesOneNodeWithItsOperandsAndAttributes() {
        Graph fused = assertRewrite(new FuseElementwise(), CHAIN,
                "y = dev.onnxrun.FusedElementwise(x, s, r, one) {2.alpha: 0.2, operand_first: [0, 0, 0, 1], "
                        + "operands: [1, 2, -1, 3], ops: [\"Mul\", \"Add\", \"LeakyRelu\", \"Sub\"], opset: 17}");
        Graph expanded = GraphValidator.validate(new ExpandFusedOps().run(fused, PassTester.OPSETS));
        assertEquals(4, expanded.nodes().size(), PassTester.nodesText(expanded));
        PassTester.assertSameOutputs(fused, expanded);
    }

    /** HardSwish's decomposition reads x twice: x gets a second entry as an operand, so the first may be overwritten in place. */
    @Test
    void theChainsStartCanAlsoBeAnOperand() {
        assertRewrite(new FuseElementwise(), """
                graph g(x: float[3,7]) -> (y: float[3,7])
                  h = HardSigmoid(x) {alpha: 0.16666667}
                  y = Mul(h, x)
                """, "y = dev.onnxrun.FusedElementwise(x, x) {0.alpha: 0.16666667, operand_first: [0, 0], "
                        + "operands: [-1, 1], ops: [\"HardSigmoid\", \"Mul\"], opset: 17}");
    }

    @Test
    void aValueReadTwiceEndsTheChain() {
        assertRewrite(new FuseElementwise(), """
                graph g(x: float[8]) -> (y: float[8], z: float[8])
                  a = Exp(x)
                  b = Neg(a)
                  y = Abs(b)
                  z = Tanh(b)
                """, "b = dev.onnxrun.FusedElementwise(x) {operand_first: [0, 0], operands: [-1, -1], ops: [\"Exp\", \"Neg\"], opset: 17}",
                "y = Abs(b)",
                "z = Tanh(b)");
    }

    /** A per-channel bias broadcasts in a pattern a block cannot slice: no chain starts there. */
    @Test
    void broadcastOperandsAreLeftAlone() {
        assertUnchanged(new FuseElementwise(), """
                graph g(x: float[1,4,3,3]) -> (y: float[1,4,3,3])
                  bias: float[4,1,1] = random
                  a = Add(x, bias)
                  y = Relu(a)
                """);
    }
}
