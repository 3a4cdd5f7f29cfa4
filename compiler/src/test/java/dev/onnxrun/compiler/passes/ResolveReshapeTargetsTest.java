package dev.onnxrun.compiler.passes;

import static dev.onnxrun.compiler.passes.PassTester.OPSETS;
import static dev.onnxrun.compiler.passes.PassTester.assertRewrite;
import static dev.onnxrun.compiler.passes.PassTester.assertSameOutputs;
import static dev.onnxrun.compiler.passes.PassTester.assertUnchanged;
import static dev.onnxrun.compiler.passes.PassTester.parse;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.onnxrun.compiler.ir.Graph;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** Reshape targets computed from shapes (PyTorch's view(B, T, H, D)) become constants. */
class ResolveReshapeTargetsTest {
    /** view(B, T, 2, 4) of x: float[batch,6,8], the sizes read from x's shape as PyTorch exports them. */
    static final String SPLIT_HEADS = """
            graph g(x: float[batch,6,8]) -> (y: float[batch,6,2,4])
              zero: int64[] = [0]
              one: int64[] = [1]
              axes: int64[1] = [0]
              heads: int64[1] = [2]
              width: int64[1] = [4]
              s = Shape(x)
              b = Gather(s, zero)
              t = Gather(s, one)
              ub = Unsqueeze(b, axes)
              ut = Unsqueeze(t, axes)
            """;

    @Test
    void symbolicBatchIsCopiedAndKnownSizesBecomeConstants() {
        Graph after = assertRewrite(new ResolveReshapeTargets(), SPLIT_HEADS + """
                  target = Concat(ub, ut, heads, width) {axis: 0}
                  y = Reshape(x, target)
                """,
                "s = Shape(x)",
                "y = Reshape(x, target_2)",
                "b = Gather(s, zero)",
                "t = Gather(s, one)",
                "ub = Unsqueeze(b, axes)",
                "ut = Unsqueeze(t, axes)",
                "target = Concat(ub, ut, heads, width) {axis: 0}");
        assertEquals("[0, 6, 2, 4]", Arrays.toString(after.initializers().get("target_2").toLongArray()));
        assertEquals("float[batch,6,2,4]", InferTypes.run(after, OPSETS).graph().typeOf("y").toString());
    }

    @Test
    void residualAddFusesOnceTheMergedHeadsHaveExactDims() {
        Graph before = parse("""
                graph g(x: float[batch,6,8]) -> (y: float[batch,6,8])
                  zero: int64[] = [0]
                  one: int64[] = [1]
                  axes: int64[1] = [0]
                  width: int64[1] = [8]
                  w: float[8,8] = random
                  bias: float[8] = random
                  split: int64[4] = [0, 0, 2, 4]
                  heads = Reshape(x, split)
                  s = Shape(heads)
                  b = Gather(s, zero)
                  t = Gather(s, one)
                  ub = Unsqueeze(b, axes)
                  ut = Unsqueeze(t, axes)
                  target = Concat(ub, ut, width) {axis: 0}
                  merged = Reshape(heads, target)
                  h = MatMul(merged, w)
                  hb = Add(h, bias)
                  y = Add(x, hb)
                """);
        Graph after = Optimizer.optimize(before, OPSETS);
        assertEquals("""
                heads = Reshape(x, split)
                merged = Reshape(heads, target_2)
                y = dev.onnxrun.FusedGemm(merged, w, bias, x)""", PassTester.nodesText(after));
        assertSameOutputs(before, after);
    }

    @Test
    void allowZeroIsLeftAlone() {
        assertUnchanged(new ResolveReshapeTargets(), SPLIT_HEADS + """
                  target = Concat(ub, ut, heads, width) {axis: 0}
                  y = Reshape(x, target) {allowzero: 1}
                """);
    }

    @Test
    void aSymbolAtAnotherPositionIsLeftAlone() {
        assertUnchanged(new ResolveReshapeTargets(), SPLIT_HEADS.replace("float[batch,6,2,4]", "float[6,batch,2,4]") + """
                  target = Concat(ut, ub, heads, width) {axis: 0}
                  y = Reshape(x, target)
                """);
    }

    @Test
    void anEntryComputedByOtherOpsIsLeftAlone() {
        assertUnchanged(new ResolveReshapeTargets(), SPLIT_HEADS.replace("float[batch,6,2,4]", "float[batch,12,2,2]") + """
                  two: int64[1] = [2]
                  ut2 = Mul(ut, two)
                  half: int64[1] = [2]
                  target = Concat(ub, ut2, heads, half) {axis: 0}
                  y = Reshape(x, target)
                """);
    }

    @Test
    void aGatherByRuntimeIndicesIsLeftAlone() {
        assertUnchanged(new ResolveReshapeTargets(), """
                graph g(x: float[batch,6,8], i: int64[]) -> (y: float[batch,6,2,4])
                  axes: int64[1] = [0]
                  rest: int64[3] = [6, 2, 4]
                  s = Shape(x)
                  b = Gather(s, i)
                  ub = Unsqueeze(b, axes)
                  target = Concat(ub, rest) {axis: 0}
                  y = Reshape(x, target)
                """);
    }

    @Test
    void aShapeOfSomeAxesIsLeftAlone() {
        assertUnchanged(new ResolveReshapeTargets(), """
                graph g(x: float[batch,6,8]) -> (y: float[batch,6,8])
                  rest: int64[1] = [8]
                  s = Shape(x) {end: 2}
                  target = Concat(s, rest) {axis: 0}
                  y = Reshape(x, target)
                """);
    }

    @Test
    void aConstantTargetIsLeftAlone() {
        assertUnchanged(new ResolveReshapeTargets(), """
                graph g(x: float[batch,6,8]) -> (y: float[batch,6,2,4])
                  target: int64[4] = [0, 6, 2, 4]
                  s = Shape(x)
                  y = Reshape(x, target)
                """);
    }
}
