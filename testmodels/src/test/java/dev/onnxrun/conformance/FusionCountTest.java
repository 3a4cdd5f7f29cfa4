package dev.onnxrun.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.onnxrun.compiler.ir.Graph;
import dev.onnxrun.compiler.ir.Model;
import dev.onnxrun.compiler.ir.Node;
import dev.onnxrun.compiler.onnx.OnnxImporter;
import dev.onnxrun.compiler.passes.BlockChannels;
import dev.onnxrun.compiler.passes.GraphValidator;
import dev.onnxrun.compiler.passes.InlineFunctions;
import dev.onnxrun.compiler.passes.Optimizer;
import dev.onnxrun.compiler.passes.Pass;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What the optimizer makes of real models, counted: no BatchNormalization survives, no Conv or
 * Gemm is left feeding an activation it could run as its epilogue, and the committed models come
 * out with the node counts below (numbers are checked separately, by the conformance run).
 */
class FusionCountTest {
    static final Set<String> ACTIVATIONS = Set.of("Relu", "Clip", "LeakyRelu", "Sigmoid", "Tanh", "HardSigmoid", "HardSwish");

    /** The default pipeline but channel blocking, a layout choice that depends on the CPU (BlockChannelsTest covers it). */
    static final List<Pass> FUSING = Optimizer.DEFAULT_PASSES.stream().filter(p -> !(p instanceof BlockChannels)).toList();

    static Graph optimized(Path model) {
        Model m = InlineFunctions.run(OnnxImporter.load(model));
        return Optimizer.optimize(GraphValidator.validate(m.graph()), m.opsets(), FUSING, null);
    }

    static Map<String, Integer> histogram(Graph g) {
        Map<String, Integer> ops = new TreeMap<>();
        for (Node n : g.nodes()) ops.merge(n.domain().isEmpty() ? n.opType() : n.domain() + "." + n.opType(), 1, Integer::sum);
        return ops;
    }

    /** Layers whose only reader is an activation (or a same-shape Add feeding one): what fusion should have taken. */
    static List<String> unfusedLayers(Graph g) {
        Map<String, Integer> readers = new HashMap<>();
        Map<String, Node> reader = new HashMap<>();
        for (Node n : g.nodes()) {
            for (String in : n.inputs()) {
                readers.merge(in, 1, Integer::sum);
                reader.put(in, n);
            }
        }
        g.outputs().forEach(o -> readers.merge(o.name(), 1, Integer::sum));
        return g.nodes().stream()
                .filter(n -> n.domain().isEmpty() && (n.opType().equals("Conv") || n.opType().equals("Gemm")))
                .filter(n -> readers.getOrDefault(n.outputs().getFirst(), 0) == 1)
                .filter(n -> reader.get(n.outputs().getFirst()) instanceof Node r && r.domain().isEmpty() && ACTIVATIONS.contains(r.opType()))
                .map(Node::name).toList();
    }

    @ParameterizedTest
    @CsvSource({
            // model, nodes after, fused convs, fused gemms
            "resnet_small, 9, 5, 0",
            "mobilenet_block, 3, 3, 0",
            "lenet_bn, 8, 2, 2",
            "transformer_tiny, 40, 0, 12"})
    void committedModelsFuse(String name, int nodes, int fusedConvs, int fusedGemms) {
        Graph g = optimized(Path.of("testmodels", "cases", name, "model.onnx"));
        Map<String, Integer> ops = histogram(g);
        assertEquals(null, ops.get("BatchNormalization"), name + ": " + ops);
        assertEquals(List.of(), unfusedLayers(g), name + ": layers followed by an activation");
        assertEquals(nodes, g.nodes().size(), name + ": " + ops);
        assertEquals(fusedConvs, ops.getOrDefault("dev.onnxrun.FusedConv", 0), name + ": " + ops);
        assertEquals(fusedGemms, ops.getOrDefault("dev.onnxrun.FusedGemm", 0), name + ": " + ops);
    }

    @org.junit.jupiter.api.Test
    void transformerGeluRunsInsideItsLayer() {
        Graph g = optimized(Path.of("testmodels", "cases", "transformer_tiny", "model.onnx"));
        assertEquals(null, histogram(g).get("Erf"));
        long gelus = g.nodes().stream().filter(n -> n.opType().equals("FusedGemm") && n.attributes().containsKey("activation")
                && "Gelu".equals(n.attribute("activation").value())).count();
        assertEquals(2, gelus);
    }

    /** The torchvision exports of {@code testmodels/generate.py --torchvision DIR}, when -Dtorchvision.dir names DIR. */
    @ParameterizedTest
    @ValueSource(strings = {"resnet18", "mobilenet_v2", "squeezenet1_1", "densenet121"})
    void torchvisionModelsFuse(String name) {
        String dir = System.getProperty("torchvision.dir");
        Assumptions.assumeTrue(dir != null && Files.exists(Path.of(dir, name, "model.onnx")), "no -Dtorchvision.dir");
        Graph g = optimized(Path.of(dir, name, "model.onnx"));
        Map<String, Integer> ops = histogram(g);
        assertEquals(null, ops.get("BatchNormalization"), name + ": " + ops);
        assertEquals(List.of(), unfusedLayers(g), name + ": layers followed by an activation");
        assertTrue(ops.getOrDefault("dev.onnxrun.FusedConv", 0) > 0, name + ": " + ops);
    }
}
