package dev.onnxrun.compiler.autodiff;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.onnxrun.compiler.ir.Graph;
import dev.onnxrun.compiler.ir.OpsetImports;
import dev.onnxrun.compiler.passes.GraphValidator;
import dev.onnxrun.compiler.passes.PassTester;
import dev.onnxrun.runtime.OnnxrunException;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The standard ONNX forms of the own gradient helpers compute what the helpers' kernels
 * compute: each graph runs once with the own ops and once expanded, on the same random inputs.
 */
class ExpandAutodiffOpsTest {
    /** Broadcast patterns with constant target shapes: leading axes, stretched axes, both, none. */
    static final String SUM_TO_SHAPE = """
            graph g(d: float[2,3,4], e: float[N,3,4], a: float[3,1], b: float[4], c: float[1,1,1], f: float[2,3,4]) -> (ya: float[3,1], yb: float[4], yc: float[1,1,1], yf: float[2,3,4], ye: float[3,1])
              sa = Shape(a)
              sb = Shape(b)
              sc = Shape(c)
              sf = Shape(f)
              ya = dev.onnxrun.SumToShape(d, sa)
              yb = dev.onnxrun.SumToShape(d, sb)
              yc = dev.onnxrun.SumToShape(d, sc)
              yf = dev.onnxrun.SumToShape(d, sf)
              ye = dev.onnxrun.SumToShape(e, sa)
            """;

    /** A target shape known only at run time. */
    static final String SUM_TO_RUNTIME_SHAPE = """
            graph g(d: float[N,3,M], a: float[1,M]) -> (y: float[A,B])
              s = Shape(a)
              y = dev.onnxrun.SumToShape(d, s)
            """;

    /** Padding, a stride that skips the input's end (the swapped convolution's output is cut), groups with dilations, 1-D, auto_pad. */
    static final String CONV_WEIGHT_GRAD = """
            graph g(x1: float[2,3,7,7], w1: float[4,3,3,3], d1: float[2,4,7,7], x2: float[2,3,8,8], d2: float[2,4,3,3], x3: float[2,4,9,8], w3: float[6,2,3,2], d3: float[2,6,3,8], x4: float[3,2,10], w4: float[4,2,3], d4: float[3,4,3], x5: float[1,2,6,6], w5: float[2,2,3,3], d5: float[1,2,3,3]) -> (y1: float[4,3,3,3], y2: float[4,3,3,3], y3: float[6,2,3,2], y4: float[4,2,3], y5: float[2,2,3,3])
              y1 = dev.onnxrun.ConvWeightGrad(x1, d1, w1) {kernel_shape: [3, 3], pads: [1, 1, 1, 1]}
              y2 = dev.onnxrun.ConvWeightGrad(x2, d2, w1) {strides: [2, 2]}
              y3 = dev.onnxrun.ConvWeightGrad(x3, d3, w3) {group: 2, strides: [2, 1], pads: [1, 0, 0, 1], dilations: [2, 1]}
              y4 = dev.onnxrun.ConvWeightGrad(x4, d4, w4) {strides: [3]}
              y5 = dev.onnxrun.ConvWeightGrad(x5, d5, w5) {auto_pad: "SAME_UPPER", strides: [2, 2]}
            """;

    /** Overlapping windows with and without counted padding, ceil mode, 1-D, dilations, and windows that stop short of the input's end. */
    static final String AVERAGE_POOL_GRAD = """
            graph g(x1: float[2,3,5,5], d1: float[2,3,3,3], x3: float[2,2,5,5], d3: float[2,2,3,3], x4: float[2,2,7], d4: float[2,2,5], x5: float[1,1,6,6], d5: float[1,1,4,4], x6: float[1,1,9,9], d6: float[1,1,3,3]) -> (y1: float[2,3,5,5], y2: float[2,3,5,5], y3: float[2,2,5,5], y4: float[2,2,7], y5: float[1,1,6,6], y6: float[1,1,9,9])
              y1 = dev.onnxrun.AveragePoolGrad(d1, x1) {kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1]}
              y2 = dev.onnxrun.AveragePoolGrad(d1, x1) {kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], count_include_pad: 1}
              y3 = dev.onnxrun.AveragePoolGrad(d3, x3) {kernel_shape: [2, 2], strides: [2, 2], pads: [1, 1, 0, 0], count_include_pad: 1, ceil_mode: 1}
              y4 = dev.onnxrun.AveragePoolGrad(d4, x4) {kernel_shape: [3]}
              y5 = dev.onnxrun.AveragePoolGrad(d5, x5) {kernel_shape: [2, 2], dilations: [2, 2]}
              y6 = dev.onnxrun.AveragePoolGrad(d6, x6) {kernel_shape: [2, 2], strides: [3, 3]}
            """;

    /** Overlapping windows with padding (scatter-add), non-overlapping ones (plain scatter), 1-D with dilations. */
    static final String MAX_POOL_GRAD = """
            graph g(x1: float[2,3,5,5], d1: float[2,3,3,3], x2: float[2,2,6,6], d2: float[2,2,3,3], x3: float[2,2,9], d3: float[2,2,5]) -> (y1: float[2,3,5,5], y2: float[2,2,6,6], y3: float[2,2,9])
              y1 = dev.onnxrun.MaxPoolGrad(d1, x1) {kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1]}
              y2 = dev.onnxrun.MaxPoolGrad(d2, x2) {kernel_shape: [2, 2], strides: [2, 2]}
              y3 = dev.onnxrun.MaxPoolGrad(d3, x3) {kernel_shape: [3], dilations: [2]}
            """;

    /** ReLU's gradient, and BatchNormalization's in training mode over a 4-D and a 2-D input. */
    static final String RELU_AND_BATCH_NORM_GRAD = """
            graph g(x: float[2,3,4,5], d: float[2,3,4,5], s: float[3], x2: float[6,4], d2: float[6,4], s2: float[4]) -> (r: float[2,3,4,5], dx: float[2,3,4,5], ds: float[3], db: float[3], dx2: float[6,4], ds2: float[4], db2: float[4])
              r = dev.onnxrun.ReluGrad(d, x)
              dx, ds, db = dev.onnxrun.BatchNormalizationGrad(d, x, s) {epsilon: 0.01}
              dx2, ds2, db2 = dev.onnxrun.BatchNormalizationGrad(d2, x2, s2)
            """;

    @ParameterizedTest
    @ValueSource(ints = {11, 17})
    void maxPoolGradScattersAtMaxPoolIndices(int opset) {
        Graph expanded = assertSameAfterExpansion(MAX_POOL_GRAD, opset);
        assertEquals(3, count(expanded, "ScatterElements"), PassTester.nodesText(expanded));
    }

    @ParameterizedTest
    @ValueSource(ints = {13, 17})
    void reluAndBatchNormGradientsAreStandardOps(int opset) {
        Graph expanded = assertSameAfterExpansion(RELU_AND_BATCH_NORM_GRAD, opset);
        assertEquals(1, count(expanded, "Where"), PassTester.nodesText(expanded));
    }

    @ParameterizedTest
    @ValueSource(ints = {11, 13, 17})
    void sumToShapeIsReduceSumAndReshape(int opset) {
        Graph expanded = assertSameAfterExpansion(SUM_TO_SHAPE, opset);
        // equal shapes need nothing; every other target is one ReduceSum and one Reshape
        assertEquals(4, count(expanded, "ReduceSum"), PassTester.nodesText(expanded));
        assertEquals(4, count(expanded, "Reshape"), PassTester.nodesText(expanded));
    }

    @ParameterizedTest
    @ValueSource(ints = {13, 17})
    void sumToARuntimeShapeFindsTheAxesAtRunTime(int opset) {
        assertSameAfterExpansion(SUM_TO_RUNTIME_SHAPE, opset);
    }

    @org.junit.jupiter.api.Test
    void sumToARuntimeShapeNeedsOpset13() {
        OpsetImports opsets = new OpsetImports(Map.of("", 11));
        OnnxrunException e = assertThrows(OnnxrunException.class,
                () -> new ExpandAutodiffOps().run(PassTester.parse(SUM_TO_RUNTIME_SHAPE), opsets));
        assertTrue(e.getMessage().contains("SumToShape"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(ints = {9, 13, 17})
    void convWeightGradIsAConvOverTransposedTensors(int opset) {
        Graph expanded = assertSameAfterExpansion(CONV_WEIGHT_GRAD, opset);
        assertEquals(5, count(expanded, "Conv"), PassTester.nodesText(expanded));
        assertEquals(2, count(expanded, "Slice"), "the strided cases are cut to the kernel: " + PassTester.nodesText(expanded));
    }

    @ParameterizedTest
    @ValueSource(ints = {11, 17})
    void averagePoolGradIsADepthwiseConvTranspose(int opset) {
        Graph expanded = assertSameAfterExpansion(AVERAGE_POOL_GRAD, opset);
        assertEquals(6, count(expanded, "ConvTranspose"), PassTester.nodesText(expanded));
    }

    private static Graph assertSameAfterExpansion(String text, int opset) {
        OpsetImports opsets = new OpsetImports(Map.of("", opset));
        Graph own = PassTester.parse(text);
        Graph expanded = GraphValidator.validate(new ExpandAutodiffOps().run(own, opsets));
        assertTrue(expanded.nodes().stream().noneMatch(n -> n.domain().equals(OpsetImports.ONNXRUN_DOMAIN)), PassTester.nodesText(expanded));
        PassTester.assertSameOutputs(own, expanded, opsets);
        return expanded;
    }

    private static long count(Graph g, String op) {
        return g.nodes().stream().filter(n -> n.opType().equals(op)).count();
    }
}
