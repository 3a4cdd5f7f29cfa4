package dev.onnxrun.compiler.passes;

import static dev.onnxrun.compiler.passes.PassTester.assertRewrite;
import static dev.onnxrun.compiler.passes.PassTester.assertUnchanged;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.onnxrun.compiler.ir.Graph;
import dev.onnxrun.compiler.ir.Node;
import dev.onnxrun.compiler.ir.ValueInfo;
import java.util.function.UnaryOperator;

import org.junit.jupiter.api.Test;

/**
 * Channel blocking: which layers go blocked, where the layout ends (Unblock), and that the
 * outputs stay the same. Run everywhere (the pass itself runs only on AVX-512); channel counts
 * are multiples of 16, so whole blocks at 8 or 16 lanes.
 */
class BlockChannelsTest {
    private static final BlockChannels PASS = new BlockChannels(true);

    /** SqueezeNet's pattern: conv, pool, a fire module (squeeze, two expands, concat), a classifier conv and a global pool. */
    @Test
    void convolutionsPoolsAndConcatsBetweenThemGoBlocked() {
        assertRewrite(PASS, """
                graph g(x: float[1,3,19,19]) -> (y: float[1,10,1,1])
                  w0: float[32,3,3,3] = random
                  b0: float[32] = random
                  ws: float[16,32,1,1] = random
                  we1: float[16,16,1,1] = random
                  we3: float[16,16,3,3] = random
                  wc: float[10,32,1,1] = random
                  c0 = dev.onnxrun.FusedConv(x, w0, b0) {activation: "Relu", strides: [2, 2]}
                  p0 = MaxPool(c0) {kernel_shape: [3, 3], strides: [2, 2], ceil_mode: 1}
                  s = dev.onnxrun.FusedConv(p0, ws) {activation: "Relu"}
                  e1 = dev.onnxrun.FusedConv(s, we1) {activation: "Relu"}
                  e3 = dev.onnxrun.FusedConv(s, we3) {activation: "Relu", pads: [1, 1, 1, 1]}
                  f = Concat(e1, e3) {axis: 1}
                  c = dev.onnxrun.FusedConv(f, wc) {activation: "Relu"}
                  y = GlobalAveragePool(c)
                """,
                "c0#blocked = dev.onnxrun.BlockedConv(x, w0, b0) {activation: \"Relu\", strides: [2, 2]}",
                "p0#blocked = dev.onnxrun.BlockedPool(c0#blocked) {ceil_mode: 1, kernel_shape: [3, 3], pool: \"MaxPool\", strides: [2, 2]}",
                "s#blocked = dev.onnxrun.BlockedConv(p0#blocked, ws) {activation: \"Relu\"}",
                "e1#blocked = dev.onnxrun.BlockedConv(s#blocked, we1) {activation: \"Relu\"}",
                "e3#blocked = dev.onnxrun.BlockedConv(s#blocked, we3) {activation: \"Relu\", pads: [1, 1, 1, 1]}",
                "f#blocked = Concat(e1#blocked, e3#blocked) {axis: 1}",
                "c#blocked = dev.onnxrun.BlockedConv(f#blocked, wc) {activation: \"Relu\"}",
                "y#blocked = dev.onnxrun.BlockedPool(c#blocked) {pool: \"GlobalAveragePool\"}",
                "y = dev.onnxrun.Unblock(y#blocked) {channels: 10}");
    }

    /** A residual read blocked, and values read both ways (blocked by the next layer, plain as graph outputs); z has no reader, so no Unblock. */
    @Test
    void residualsAreReadBlockedAndPlainReadersGetAnUnblock() {
        assertRewrite(PASS, """
                graph g(x: float[2,16,7,7]) -> (y: float[2,16,7,7], h: float[2,16,7,7])
                  w1: float[16,16,1,1] = random
                  w2: float[16,16,1,1] = random
                  h = dev.onnxrun.FusedConv(x, w1) {activation: "Relu"}
                  y = dev.onnxrun.FusedConv(h, w2, _, h) {activation: "Relu"}
                  z = MaxPool(y) {kernel_shape: [2, 2]}
                """,
                "h#blocked = dev.onnxrun.BlockedConv(x, w1) {activation: \"Relu\"}",
                "h = dev.onnxrun.Unblock(h#blocked) {channels: 16}",
                "y#blocked = dev.onnxrun.BlockedConv(h#blocked, w2, _, h#blocked) {activation: \"Relu\"}",
                "y = dev.onnxrun.Unblock(y#blocked) {channels: 16}",
                "z#blocked = dev.onnxrun.BlockedPool(y#blocked) {kernel_shape: [2, 2], pool: \"MaxPool\"}");
    }

    /** MobileNet's inverted residual: expand, depthwise (blocked X), project with the block's input as residual. */
    @Test
    void depthwiseConvolutionsGoBlockedBetweenBlockedLayers() {
        assertRewrite(PASS, """
                graph g(x: float[1,16,9,9]) -> (y: float[1,16,9,9])
                  w0: float[16,16,1,1] = random
                  we: float[32,16,1,1] = random
                  wd: float[32,1,3,3] = random
                  wp: float[16,32,1,1] = random
                  a = dev.onnxrun.FusedConv(x, w0) {activation: "Relu"}
                  e = dev.onnxrun.FusedConv(a, we) {activation: "Clip", activation_beta: 6.0}
                  d = dev.onnxrun.FusedConv(e, wd) {activation: "Clip", activation_beta: 6.0, group: 32, pads: [1, 1, 1, 1]}
                  y = dev.onnxrun.FusedConv(d, wp, _, a)
                """,
                "a#blocked = dev.onnxrun.BlockedConv(x, w0) {activation: \"Relu\"}",
                "e#blocked = dev.onnxrun.BlockedConv(a#blocked, we) {activation: \"Clip\", activation_beta: 6.0}",
                "d#blocked = dev.onnxrun.BlockedConv(e#blocked, wd) {activation: \"Clip\", activation_beta: 6.0, group: 32, pads: [1, 1, 1, 1]}",
                "y#blocked = dev.onnxrun.BlockedConv(d#blocked, wp, _, a#blocked)",
                "y = dev.onnxrun.Unblock(y#blocked) {channels: 16}");
    }

    /**
     * A convolution that no blocked layer reads writes its plain output itself; so do those whose
     * residual is plain, and depthwise ones whose X is plain or that no blocked layer reads.
     */
    @Test
    void convolutionsWithoutBlockedReadersStayPlain() {
        assertUnchanged(PASS, """
                graph g(x: float[1,16,8,8], skip: float[1,16,8,8]) -> (y: float[1,16,8,8], d: float[1,16,8,8])
                  w: float[16,16,1,1] = random
                  wd: float[16,1,3,3] = random
                  c = dev.onnxrun.FusedConv(x, w, _, skip) {activation: "Relu"}
                  d = Conv(c, wd) {group: 16, pads: [1, 1, 1, 1]}
                  y = Sigmoid(c)
                """);
    }

    /** A depthwise layer read only by a plain layer stays plain, and then so does the convolution before it. */
    @Test
    void depthwiseConvolutionsWithoutBlockedReadersStayPlain() {
        assertUnchanged(PASS, """
                graph g(x: float[1,16,8,8]) -> (y: float[1,16,8,8])
                  we: float[32,16,1,1] = random
                  wd: float[32,1,3,3] = random
                  wp: float[16,32,1,1] = random
                  e = dev.onnxrun.FusedConv(x, we) {activation: "Relu"}
                  d = dev.onnxrun.FusedConv(e, wd) {activation: "Relu", group: 32, pads: [1, 1, 1, 1]}
                  y = dev.onnxrun.FusedConv(d, wp, _, x)
                """);
    }

    /** A blocked value's name never takes one the model already uses. */
    @Test
    void blockedNamesAvoidTheModelsOwn() {
        // the text form takes no '#' in names: the Relu's output is renamed to what the pass would pick
        Graph parsed = PassTester.parse("""
                graph g(x: float[1,16,6,6]) -> (y: float[1,16,3,3], taken: float[1,16,6,6])
                  w: float[16,16,1,1] = random
                  h = Conv(x, w)
                  taken = Relu(x)
                  y = MaxPool(h) {kernel_shape: [2, 2], strides: [2, 2]}
                """);
        UnaryOperator<String> rename = v -> v.equals("taken") ? "h#blocked" : v;
        Graph g = new Graph(parsed.name(), parsed.inputs(),
                parsed.outputs().stream().map(o -> new ValueInfo(rename.apply(o.name()), o.type())).toList(), parsed.initializers(),
                parsed.nodes().stream().map(n -> new Node(n.name(), n.domain(), n.opType(), n.inputs(), n.outputs().stream().map(rename).toList(),
                        n.attributes())).toList(), parsed.valueTypes());
        Graph after = GraphValidator.validate(PASS.run(g, PassTester.OPSETS));
        assertEquals(String.join("\n",
                "h#blocked# = dev.onnxrun.BlockedConv(x, w)",
                "h#blocked = Relu(x)",
                "y#blocked = dev.onnxrun.BlockedPool(h#blocked#) {kernel_shape: [2, 2], pool: \"MaxPool\", strides: [2, 2]}",
                "y = dev.onnxrun.Unblock(y#blocked) {channels: 16}"), PassTester.nodesText(after));
        PassTester.assertSameOutputs(g, after);
    }

    /** A concat of blocked values that are not whole blocks would leave gaps: it and its inputs stay plain. */
    @Test
    void concatsOfPartialBlocksStayPlain() {
        assertUnchanged(PASS, """
                graph g(x: float[1,4,6,6]) -> (y: float[1,10,6,6])
                  w1: float[5,4,1,1] = random
                  w2: float[5,4,1,1] = random
                  a = Conv(x, w1)
                  b = Conv(x, w2)
                  y = Concat(a, b) {axis: 1}
                """);
    }
}
