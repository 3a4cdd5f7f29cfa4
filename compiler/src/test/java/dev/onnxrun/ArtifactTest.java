package dev.onnxrun;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.onnxrun.compiler.Artifact;
import dev.onnxrun.compiler.Compilation;
import dev.onnxrun.compiler.exec.MemoryPlan;
import dev.onnxrun.compiler.ir.Graph;
import dev.onnxrun.compiler.ir.Model;
import dev.onnxrun.compiler.onnx.OnnxExporter;
import dev.onnxrun.compiler.onnx.OnnxImporter;
import dev.onnxrun.compiler.onnx.TensorProtos;
import dev.onnxrun.compiler.passes.Optimizer;
import dev.onnxrun.runtime.Tensor;
import dev.onnxrun.runtime.kernels.Gemm;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A compiled model file carries packed weights and the memory plan: loading it packs and plans
 * nothing and gives the source model's outputs bit for bit; stored parts made for another
 * layout, or damaged, are packed again from the plain weights.
 */
class ArtifactTest {
    private static final Path CASES = Path.of("../testmodels/cases");
    private static final CompiledModel.Options OPTIONS = new CompiledModel.Options(1).withWarmup(false);

    /** The case's model as {@code onnxrun compile -o} writes it. */
    private static Model artifact(String name) {
        Model source = OnnxImporter.load(CASES.resolve(name).resolve("model.onnx"));
        return Artifact.write(Compilation.prepare(source, Optimizer.DEFAULT_PASSES).markedOptimized());
    }

    /** Through the ONNX wire format and back, as a file would go. */
    private static Model reread(Model m) {
        return OnnxImporter.load(OnnxExporter.toProto(m).toByteArray());
    }

    /** The case's outputs from {@code model}, each as floats; twice, so the second run uses the memory plan made or seeded. */
    private static List<float[]> run(String name, Model model) {
        try (CompiledModel compiled = CompiledModel.compile(model, OPTIONS); Session session = compiled.newSession()) {
            Map<String, Tensor> inputs = new LinkedHashMap<>();
            for (int i = 0; i < compiled.inputs().size(); i++) {
                inputs.put(compiled.inputs().get(i).name(), TensorProtos.read(CASES.resolve(name).resolve("test_data_set_0/input_" + i + ".pb")));
            }
            session.run(inputs);
            return session.run(inputs).values().stream().map(Tensor::toFloatArray).toList();
        }
    }

    private static void assertSameOutputs(List<float[]> expected, List<float[]> actual) {
        assertEquals(expected.size(), actual.size());
        for (int i = 0; i < expected.size(); i++) assertArrayEquals(expected.get(i), actual.get(i), "output " + i);
    }

    /** The outputs of loading and running {@code model}, and how many matrices were packed and memory plans placed meanwhile. */
    private record Load(List<float[]> outputs, long packings, long placements) {}

    private static Load load(String name, Model model) {
        long packings = Gemm.packings(), placements = MemoryPlan.placements();
        List<float[]> outputs = run(name, model);
        return new Load(outputs, Gemm.packings() - packings, MemoryPlan.placements() - placements);
    }

    private static List<float[]> source(String name) {
        return run(name, OnnxImporter.load(CASES.resolve(name).resolve("model.onnx")));
    }

    @ParameterizedTest
    @ValueSource(strings = {"resnet_small", "lstm"})
    void loadingTheArtifactPacksAndPlansNothingAndGivesTheSameOutputsBitForBit(String name) {
        Load loaded = load(name, reread(artifact(name)));
        assertSameOutputs(source(name), loaded.outputs());
        assertEquals(0, loaded.packings(), "matrices packed while loading and running the artifact");
        assertEquals(0, loaded.placements(), "memory plans placed while loading and running the artifact");
    }

    @Test
    void theSourceModelPacksAndPlansAtLoad() {
        Load loaded = load("resnet_small", OnnxImporter.load(CASES.resolve("resnet_small/model.onnx")));
        assertTrue(loaded.packings() > 0 && loaded.placements() > 0, loaded.toString());
    }

    @Test
    void theArtifactHoldsPackedPartsWithLayoutKeysAndTheMemoryPlan() {
        Model file = reread(artifact("resnet_small"));
        Graph g = file.graph();
        List<String> packed = g.initializers().keySet().stream().filter(n -> n.startsWith("onnxrun.packed/")).toList();
        assertFalse(packed.isEmpty());
        for (String name : packed) assertTrue(file.metadata().get(name).contains(Gemm.PANEL_LAYOUT), name + ": " + file.metadata().get(name));
        assertTrue(g.initializers().containsKey("onnxrun.memory_plan"));
        assertTrue(g.nodes().stream().noneMatch(n -> n.inputs().stream().anyMatch(packed::contains)), "no node reads a packed part");
        Artifact.Contents contents = Artifact.read(file);
        assertTrue(contents.model().graph().initializers().keySet().stream().noneMatch(n -> n.startsWith("onnxrun.")));
        assertTrue(contents.model().metadata().keySet().stream().noneMatch(k -> k.startsWith("onnxrun.packed") || k.equals("onnxrun.memory_plan")));
    }

    /** The artifact with {@code edit} applied to each packed part's layout key and tensor. */
    private static Model editParts(Model m, UnaryOperator<String> layout, UnaryOperator<Tensor> tensor) {
        Graph g = m.graph();
        Map<String, Tensor> initializers = new LinkedHashMap<>();
        g.initializers().forEach((n, t) -> initializers.put(n, n.startsWith("onnxrun.packed/") ? tensor.apply(t) : t));
        Map<String, String> metadata = new LinkedHashMap<>();
        m.metadata().forEach((k, v) -> metadata.put(k, k.startsWith("onnxrun.packed/") ? layout.apply(v) : v));
        return new Model(m.irVersion(), m.producerName(), m.producerVersion(), m.opsets(),
                new Graph(g.name(), g.inputs(), g.outputs(), initializers, g.nodes(), g.valueTypes()), m.functions(), metadata);
    }

    @ParameterizedTest
    @ValueSource(strings = {"resnet_small", "lstm"})
    void partsPackedForOtherVectorsArePackedAgainWithTheSameOutputs(String name) {
        // as read on a machine whose vectors have other lanes than the one that wrote the file
        Model file = reread(editParts(artifact(name), key -> key.replaceFirst("vl=\\d+", "vl=3"), t -> t));
        Load loaded = load(name, file);
        assertSameOutputs(source(name), loaded.outputs());
        assertNotEquals(0, loaded.packings(), "the weights were packed again");
    }

    @ParameterizedTest
    @ValueSource(strings = {"resnet_small", "lstm"})
    void damagedPartsArePackedAgainWithTheSameOutputs(String name) {
        Model truncated = reread(editParts(artifact(name), key -> key,
                t -> Tensor.of(Arrays.copyOf(t.toFloatArray(), (int) t.size() - 1), t.size() - 1)));
        Model notFloats = reread(editParts(artifact(name), key -> key, t -> Tensor.of(new long[] {1, 2, 3}, 3)));
        List<float[]> expected = source(name);
        for (Model file : List.of(truncated, notFloats)) {
            Load loaded = load(name, file);
            assertSameOutputs(expected, loaded.outputs());
            assertNotEquals(0, loaded.packings(), "the weights were packed again");
        }
    }

    @Test
    void aMemoryPlanThatDoesNotFitIsPlannedAgainWithTheSameOutputs() {
        Model m = artifact("resnet_small");
        long[] stored = m.graph().initializers().get("onnxrun.memory_plan").toLongArray();
        List<float[]> expected = source("resnet_small");
        long[] overlapping = stored.clone();
        Arrays.fill(overlapping, 1, overlapping.length, 0); // every value at offset 0: values live together overlap
        long[] pastTheArena = stored.clone();
        pastTheArena[0] = 64;
        long[] unaligned = stored.clone();
        unaligned[1] += 4;
        long[] tooFew = Arrays.copyOf(stored, stored.length - 1);
        for (long[] plan : List.of(overlapping, pastTheArena, unaligned, tooFew)) {
            Map<String, Tensor> initializers = new LinkedHashMap<>(m.graph().initializers());
            initializers.put("onnxrun.memory_plan", Tensor.of(plan, plan.length));
            Graph g = m.graph();
            Model file = reread(m.withGraph(new Graph(g.name(), g.inputs(), g.outputs(), initializers, g.nodes(), g.valueTypes())));
            Load loaded = load("resnet_small", file);
            assertSameOutputs(expected, loaded.outputs());
            assertEquals(1, loaded.placements(), "planned once, on first run: " + Arrays.toString(plan));
        }
    }

    @Test
    void aModelWithASymbolicBatchStoresNoMemoryPlanAndIsPlannedPerShape() {
        Model file = reread(artifact("dynamic_batch"));
        assertFalse(file.graph().initializers().containsKey("onnxrun.memory_plan"));
        assertSameOutputs(source("dynamic_batch"), run("dynamic_batch", file));
    }
}
