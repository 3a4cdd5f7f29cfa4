package dev.onnxrun.compiler;

import dev.onnxrun.compiler.exec.MemoryPlan;
import dev.onnxrun.compiler.exec.Plan;
import dev.onnxrun.compiler.ir.Graph;
import dev.onnxrun.compiler.ir.Model;
import dev.onnxrun.compiler.ir.Node;
import dev.onnxrun.compiler.ops.NodeContext;
import dev.onnxrun.runtime.DType;
import dev.onnxrun.runtime.Tensor;
import dev.onnxrun.runtime.kernels.FloatArrays;
import dev.onnxrun.runtime.kernels.PackedForm;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * onnxrun's compiled model, as {@code onnxrun compile -o} writes it: ONNX holding the optimized
 * graph with onnxrun's own ops, marked optimized ({@link Compilation#OPTIMIZED_KEY}) so that
 * loading skips the passes, plus what loading would otherwise compute again, in places other
 * ONNX tools read past:
 * <ul>
 *   <li><b>Packed weights.</b> Each part of each node's packed weights ({@link PackedForm}) is a
 *       float32 initializer that no node reads, named {@code onnxrun.packed/<node>/<part>} (a node
 *       is named by its first output), with a metadata entry of the same name holding the part's
 *       layout key. A kernel uses a part whose key is this machine's and whose length its weights
 *       need; otherwise it packs the plain weights, which the file keeps for that, for
 *       {@code --emit-onnx} and for other tools.</li>
 *   <li><b>The memory plan</b> for the declared input shapes, when every one is static: an int64
 *       initializer {@code onnxrun.memory_plan} holding the arena size and then each planned
 *       value's offset ({@link MemoryPlan#offsets}), and a metadata entry of that name holding
 *       the shapes. Loading checks it ({@link MemoryPlan#withOffsets}) and seeds the plan's
 *       cache; other shapes, and models with symbolic shapes, are planned on first sight as for
 *       any model.</li>
 * </ul>
 */
public final class Artifact {
    static final String PACKED = "onnxrun.packed/";
    static final String MEMORY_PLAN = "onnxrun.memory_plan";

    private Artifact() {}

    /** A packed part as the file holds it: its initializer's name, its layout key (null when missing) and its tensor. */
    public record StoredPart(String name, String layout, Tensor tensor) {}

    /**
     * A model file split into the model proper and what a compiled model adds to it (nothing, for
     * other models).
     *
     * @param packed      per node, per part name, the stored part
     * @param memoryShape the declared shapes the stored memory plan is for, or null when there is none
     * @param memoryPlan  the stored memory plan: the arena size, then the offsets; null when there is none
     */
    public record Contents(Model model, Map<String, Map<String, StoredPart>> packed, String memoryShape, long[] memoryPlan) {
        /** Lowerings find their node's stored parts here. */
        public NodeContext.Packing packing() {
            return new NodeContext.Packing() {
                @Override
                public PackedForm.Stored stored(Node node) {
                    Map<String, StoredPart> parts = packed.get(nodeKey(node));
                    if (parts == null) return PackedForm.Stored.NONE;
                    // a part is offered once: the form keeps what it takes, and nothing else holds on to the rest
                    Map<String, StoredPart> unused = new HashMap<>(parts);
                    return (part, layout, length) -> {
                        synchronized (unused) {
                            StoredPart p = unused.remove(part);
                            return p == null ? null : take(p, layout, length);
                        }
                    };
                }

                @Override
                public void made(Node node, PackedForm form) {}
            };
        }

        /** Seeds {@code plan} with the stored memory plan when it is for the plan's declared shapes and passes its checks. */
        public void seedMemory(Plan plan) {
            if (memoryPlan == null) return;
            boolean seeded = memoryShape.equals(shapesText(plan.declaredShapes())) && memoryPlan.length > 0
                    && plan.seedMemory(memoryPlan[0], Arrays.copyOfRange(memoryPlan, 1, memoryPlan.length));
            if (!seeded) log().log(System.Logger.Level.DEBUG, "the stored memory plan does not fit the graph: planning on first run");
        }
    }

    /** The floats of a stored part when it fits {@code layout} and {@code length}, else null with the reason logged. */
    private static float[] take(StoredPart p, String layout, long length) {
        if (!layout.equals(p.layout())) {
            log().log(System.Logger.Level.DEBUG, "{0} was packed for layout ''{1}'', this machine''s is ''{2}'': packing again",
                    p.name(), p.layout(), layout);
            return null;
        }
        if (p.tensor().dtype() != DType.FLOAT || p.tensor().size() != length) {
            log().log(System.Logger.Level.WARNING, "{0} is {1} where its layout needs float[{2}]: damaged file? packing the weights again",
                    p.name(), p.tensor().describe(), Long.toString(length));
            return null;
        }
        return FloatArrays.read(p.tensor());
    }

    /** Splits {@code imported} into the model and a compiled model's additions. */
    public static Contents read(Model imported) {
        Graph g = imported.graph();
        Map<String, String> metadata = new LinkedHashMap<>(imported.metadata());
        Map<String, Tensor> initializers = new LinkedHashMap<>();
        Map<String, Map<String, StoredPart>> packed = new HashMap<>();
        long[] memoryPlan = null;
        for (var e : g.initializers().entrySet()) {
            String name = e.getKey();
            int slash = name.lastIndexOf('/');
            if (name.startsWith(PACKED) && slash > PACKED.length()) {
                packed.computeIfAbsent(name.substring(PACKED.length(), slash), k -> new HashMap<>())
                        .put(name.substring(slash + 1), new StoredPart(name, metadata.remove(name), e.getValue()));
            } else if (name.equals(MEMORY_PLAN) && e.getValue().dtype() == DType.INT64) {
                memoryPlan = e.getValue().toLongArray();
            } else {
                initializers.put(name, e.getValue());
            }
        }
        String memoryShape = metadata.remove(MEMORY_PLAN);
        if (memoryShape == null) memoryPlan = null;
        Graph stripped = new Graph(g.name(), g.inputs(), g.outputs(), initializers, g.nodes(), g.valueTypes());
        Model model = new Model(imported.irVersion(), imported.producerName(), imported.producerVersion(), imported.opsets(), stripped,
                imported.functions(), metadata);
        return new Contents(model, packed, memoryShape, memoryPlan);
    }

    /** {@code optimized} with its packed weights and, where its input shapes are static, its memory plan added. */
    public static Model write(Model optimized) {
        Map<Node, PackedForm> forms = new LinkedHashMap<>();
        Plan plan = Plan.compile(optimized.graph(), optimized.opsets(), Map.of(), new NodeContext.Packing() {
            @Override public PackedForm.Stored stored(Node node) { return PackedForm.Stored.NONE; }

            @Override public void made(Node node, PackedForm form) { forms.put(node, form); }
        });
        Graph g = optimized.graph();
        Map<String, Tensor> initializers = new LinkedHashMap<>(g.initializers());
        Map<String, String> metadata = new LinkedHashMap<>(optimized.metadata());
        forms.forEach((node, form) -> form.parts().forEach((part, p) -> {
            String name = PACKED + nodeKey(node) + "/" + part;
            initializers.put(name, Tensor.of(p.data(), p.data().length));
            metadata.put(name, p.layout());
        }));
        MemoryPlan memory = plan.declaredMemoryPlan();
        if (memory != null) {
            long[] stored = new long[memory.slots().size() + 1];
            stored[0] = memory.arenaBytes();
            System.arraycopy(memory.offsets(), 0, stored, 1, stored.length - 1);
            initializers.put(MEMORY_PLAN, Tensor.of(stored, stored.length));
            metadata.put(MEMORY_PLAN, shapesText(plan.declaredShapes()));
        }
        Graph withAdditions = new Graph(g.name(), g.inputs(), g.outputs(), initializers, g.nodes(), g.valueTypes());
        return new Model(optimized.irVersion(), optimized.producerName(), optimized.producerVersion(), optimized.opsets(), withAdditions,
                optimized.functions(), metadata);
    }

    /** Where the notes go; looked up only when there is one, as starting the logging costs a cold JVM more than a load. */
    private static System.Logger log() {
        return System.getLogger(Artifact.class.getName());
    }

    /** A node's name in the file: its first output, unique in a graph. */
    private static String nodeKey(Node n) {
        return n.outputs().stream().filter(o -> !o.isEmpty()).findFirst().orElse(n.name());
    }

    /** The declared shapes as text, e.g. "[1, 3, 224, 224]"; "none" when they are not all static. */
    private static String shapesText(long[][] shapes) {
        return shapes == null ? "none" : Arrays.stream(shapes).map(Arrays::toString).collect(Collectors.joining(" "));
    }
}
