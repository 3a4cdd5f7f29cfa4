package dev.onnxrun.compiler.exec;

import dev.onnxrun.compiler.ir.Graph;
import dev.onnxrun.compiler.ir.Node;
import dev.onnxrun.compiler.ir.OpsetImports;
import dev.onnxrun.compiler.ir.ValueInfo;
import dev.onnxrun.compiler.ir.ValueType;
import dev.onnxrun.compiler.ops.NodeContext;
import dev.onnxrun.compiler.ops.OpDef;
import dev.onnxrun.compiler.ops.OpRegistry;
import dev.onnxrun.compiler.passes.InferTypes;
import dev.onnxrun.runtime.ExecContext;
import dev.onnxrun.runtime.Kernel;
import dev.onnxrun.runtime.OnnxrunException;
import dev.onnxrun.runtime.Subgraph;
import dev.onnxrun.runtime.Tensor;
import dev.onnxrun.runtime.Value;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * An executable form of a graph: one kernel per node, in topological order, with the point
 * after which each value is no longer needed so it can be released early. Immutable and
 * thread-safe: each {@link #execute} keeps its values in its own frame.
 *
 * <p>Run with a {@link Workspace}, float32 intermediates live in the workspace's arena at the
 * offsets of a {@link MemoryPlan} made for the run's input shapes (made once per distinct set
 * of shapes and cached; a compiled model brings the one for its declared shapes,
 * {@link #seedMemory}). Graphs with subgraphs or sequence values run on the heap: a body may
 * read any outer value, and a sequence may hold a tensor past its last use by name.
 */
public final class Plan {
    /** One node, lowered. {@code releaseAfter} lists values whose last reader is this step. */
    record Step(Node node, Kernel kernel, String[] inputs, String[] outputs, String[] releaseAfter) {}

    /** How many input-shape sets keep their memory plan; the least recently used goes first. */
    static final int CACHED_SHAPES = 16;

    private final Graph graph;
    private final OpsetImports opsets;
    private final Map<String, ValueType> outerTypes;
    private final Map<String, Tensor> constants;
    private final List<Step> steps;
    private final List<String> outputNames;
    private final boolean plannable;
    private final Map<ShapeKey, Optional<PlannedMemory>> memoryByShapes = new LinkedHashMap<>(CACHED_SHAPES, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<ShapeKey, Optional<PlannedMemory>> eldest) { return size() > CACHED_SHAPES; }
    };

    private Plan(Graph graph, OpsetImports opsets, Map<String, ValueType> outerTypes, List<Step> steps, boolean hasBodies) {
        this.graph = graph;
        this.opsets = opsets;
        this.outerTypes = outerTypes;
        this.constants = graph.initializers();
        this.steps = steps;
        this.outputNames = graph.outputs().stream().map(ValueInfo::name).toList();
        this.plannable = !hasBodies && graph.valueTypes().values().stream()
                .noneMatch(t -> t instanceof ValueType.SequenceType || t instanceof ValueType.OptionalType);
    }

    /** The input shapes a memory plan is made for. */
    private record ShapeKey(long[][] shapes) {
        @Override public boolean equals(Object o) { return o instanceof ShapeKey k && Arrays.deepEquals(shapes, k.shapes); }

        @Override public int hashCode() { return Arrays.deepHashCode(shapes); }
    }

    /** Lowers a validated graph. {@code outerTypes} are the types of values visible from enclosing graphs. */
    public static Plan compile(Graph g, OpsetImports opsets, Map<String, ValueType> outerTypes) {
        return compile(g, opsets, outerTypes, NodeContext.Packing.NONE);
    }

    /**
     * {@link #compile(Graph, OpsetImports, Map)}, the lowerings of this graph's nodes taking and
     * leaving their packed weights through {@code packing} (subgraph bodies pack their own).
     */
    public static Plan compile(Graph g, OpsetImports opsets, Map<String, ValueType> outerTypes, NodeContext.Packing packing) {
        InferTypes.Result inferred = InferTypes.run(g, opsets, outerTypes);
        Graph typed = inferred.graph();
        Map<String, ValueType> visible = new HashMap<>(outerTypes);
        visible.putAll(typed.valueTypes());
        List<Step> steps = new ArrayList<>();
        for (Node n : typed.nodes()) {
            int opset = opsets.version(n.domain());
            OpDef def = OpRegistry.get().find(n.domain(), n.opType(), opset);
            if (def == null) throw unsupported(n, opset);
            NodeContext ctx = NodeContext.of(n, opset, visible, inferred.constants(), body -> subgraph(body, opsets, visible), packing);
            Kernel k;
            try {
                k = def.cpu().lower(ctx);
            } catch (OnnxrunException e) {
                throw e.getMessage().startsWith(n.describe()) ? e : e.at(n.describe());
            } catch (RuntimeException e) {
                throw OnnxrunException.internal(n.describe(), e);
            }
            steps.add(new Step(n, k, n.inputs().toArray(String[]::new), n.outputs().toArray(String[]::new), null));
        }
        return new Plan(typed, opsets, Map.copyOf(outerTypes), withReleasePoints(steps, typed), hasBodies(steps));
    }

    static OnnxrunException unsupported(Node n, int opset) {
        if (OpRegistry.get().knows(n.domain(), n.opType())) {
            return OnnxrunException.unsupported(n.describe() + ": opset version " + opset + " of this op is not supported");
        }
        return OnnxrunException.unsupported(n.describe() + ": op '" + n.opType() + "'"
                + (n.domain().isEmpty() ? "" : " of domain '" + n.domain() + "'") + " is not supported");
    }

    private static Subgraph subgraph(Graph body, OpsetImports opsets, Map<String, ValueType> outerTypes) {
        Plan plan = compile(body, opsets, outerTypes);
        return (inputs, ctx) -> {
            Map<String, Value> bound = new HashMap<>();
            List<ValueInfo> formals = body.inputs();
            for (int i = 0; i < formals.size() && i < inputs.length; i++) {
                if (inputs[i] != null) bound.put(formals.get(i).name(), inputs[i]);
            }
            return plan.execute(bound, ctx);
        };
    }

    /** Annotates each step with the values it is the last reader of (graph outputs are never released). */
    private static List<Step> withReleasePoints(List<Step> steps, Graph g) {
        Map<String, Integer> lastUse = new HashMap<>();
        for (int i = 0; i < steps.size(); i++) {
            for (String in : steps.get(i).inputs()) if (!in.isEmpty()) lastUse.put(in, i);
        }
        // Subgraph bodies may read any value of this graph by name: with bodies present, keep everything.
        boolean hasBodies = hasBodies(steps);
        for (ValueInfo out : g.outputs()) lastUse.put(out.name(), Integer.MAX_VALUE);
        List<List<String>> release = new ArrayList<>();
        for (int i = 0; i < steps.size(); i++) release.add(new ArrayList<>());
        if (!hasBodies) {
            lastUse.forEach((name, step) -> {
                if (step != Integer.MAX_VALUE) release.get(step).add(name);
            });
        }
        List<Step> out = new ArrayList<>(steps.size());
        for (int i = 0; i < steps.size(); i++) {
            Step s = steps.get(i);
            out.add(new Step(s.node(), s.kernel(), s.inputs(), s.outputs(), release.get(i).toArray(String[]::new)));
        }
        return out;
    }

    private static boolean hasBodies(List<Step> steps) {
        return steps.stream().anyMatch(s -> s.node().attributes().values().stream()
                .anyMatch(a -> a.value() instanceof Graph || a.value() instanceof List<?> l && !l.isEmpty() && l.get(0) instanceof Graph));
    }

    public Graph graph() { return graph; }

    public List<String> outputNames() { return outputNames; }

    private static void record(Profile profile, int step, Step s, Value[] results, long nanos) {
        Node node = s.node();
        String op = node.domain().isEmpty() ? node.opType() : node.domain() + "." + node.opType();
        String shape = profile.by() == Profile.By.NODE && results.length > 0 && results[0] instanceof Tensor t ? Arrays.toString(t.shape()) : "";
        profile.record(op, node.name().isEmpty() ? "#" + step : node.name(), shape, nanos);
    }

    /** Runs the plan with {@code inputs} bound by name on the heap; returns the graph outputs in order. */
    public Value[] execute(Map<String, Value> inputs, ExecContext outer) {
        return execute(inputs, outer, null, null);
    }

    /**
     * As {@link #execute(Map, ExecContext)}, with planned intermediates in {@code workspace} when
     * not null, and each step's time recorded into {@code profile} when not null.
     */
    public Value[] execute(Map<String, Value> inputs, ExecContext outer, Workspace workspace, Profile profile) {
        Map<String, Value> frame = new HashMap<>(inputs);
        ExecContext.Scope parent = outer.scope();
        ExecContext.Scope scope = name -> {
            Value v = frame.get(name);
            if (v == null) v = constants.get(name);
            return v != null ? v : parent.lookup(name);
        };
        ExecContext ctx = outer.withScope(scope);
        PlannedMemory planned = workspace == null ? null : memoryFor(inputs);
        float[] arena = planned == null ? null : workspace.floats(planned.arenaBytes());
        PlannedMemory.Run memory = arena == null ? null : planned.bind(arena);
        if (memory != null) ctx = ctx.withMemory(memory);
        for (int step = 0; step < steps.size(); step++) {
            Step s = steps.get(step);
            if (memory != null) memory.step(step);
            Value[] args = new Value[s.inputs().length];
            for (int i = 0; i < args.length; i++) {
                String name = s.inputs()[i];
                if (name.isEmpty()) continue;
                Value v = scope.lookup(name);
                if (v == null) throw OnnxrunException.invalidInput(s.node().describe() + ": input '" + name + "' has no value");
                args[i] = v;
            }
            long start = profile == null ? 0 : System.nanoTime();
            Value[] results = runStep(s, args, ctx);
            if (profile != null) record(profile, step, s, results, System.nanoTime() - start);
            for (int i = 0; i < s.outputs().length; i++) {
                if (s.outputs()[i].isEmpty()) continue;
                if (i >= results.length || results[i] == null) {
                    throw new OnnxrunException(OnnxrunException.Kind.INVALID_MODEL, s.node().describe() + ": produced no value for output '" + s.outputs()[i] + "'");
                }
                frame.put(s.outputs()[i], memory == null ? results[i] : memory.settle(i, results[i]));
            }
            for (String dead : s.releaseAfter()) frame.remove(dead);
        }
        Value[] out = new Value[outputNames.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = scope.lookup(outputNames.get(i));
            if (memory != null) out[i] = memory.escape(out[i]);
        }
        return out;
    }

    /**
     * The shapes of the graph's inputs, in order, when every input a caller feeds is declared
     * with a static shape (null for inputs that are initializers), else null.
     */
    public long[][] declaredShapes() {
        List<ValueInfo> formals = graph.inputs();
        long[][] shapes = new long[formals.size()][];
        for (int i = 0; i < shapes.length; i++) {
            String name = formals.get(i).name();
            if (constants.containsKey(name)) continue;
            if (!(graph.typeOf(name) instanceof ValueType.TensorType t) || !t.isStatic()) return null;
            shapes[i] = t.shape();
        }
        return shapes;
    }

    /** The memory plan for the {@link #declaredShapes}, or null when there are none or the graph runs on the heap. */
    public MemoryPlan declaredMemoryPlan() {
        return plannable && declaredShapes() != null ? MemoryPlan.of(graph) : null;
    }

    /**
     * Makes the memory plan for the {@link #declaredShapes} from offsets made earlier (see
     * {@link MemoryPlan#withOffsets}) rather than on first sight of those shapes; false, leaving
     * it to be made then, when they do not fit this graph.
     */
    public boolean seedMemory(long arenaBytes, long[] offsets) {
        long[][] declared = declaredShapes();
        MemoryPlan plan = plannable && declared != null ? MemoryPlan.withOffsets(graph, arenaBytes, offsets) : null;
        if (plan == null) return false;
        synchronized (memoryByShapes) {
            memoryByShapes.put(new ShapeKey(declared), Optional.of(PlannedMemory.of(plan, steps)));
        }
        return true;
    }

    /** The memory plan for these inputs' shapes, made on first sight; null to run on the heap. */
    private PlannedMemory memoryFor(Map<String, Value> inputs) {
        if (!plannable) return null;
        List<ValueInfo> formals = graph.inputs();
        long[][] shapes = new long[formals.size()][];
        for (int i = 0; i < shapes.length; i++) {
            Value v = inputs.get(formals.get(i).name());
            if (v instanceof Tensor t) shapes[i] = t.shape();
            else if (v != null) return null;
        }
        ShapeKey key = new ShapeKey(shapes);
        synchronized (memoryByShapes) {
            Optional<PlannedMemory> known = memoryByShapes.get(key);
            if (known != null) return known.orElse(null);
        }
        // planned outside the lock, so runs with shapes already planned go on meanwhile; two
        // sessions planning the same new shapes at once both plan, and the first plan is kept
        Optional<PlannedMemory> made = Optional.ofNullable(planMemory(inputs));
        synchronized (memoryByShapes) {
            return memoryByShapes.computeIfAbsent(key, k -> made).orElse(null);
        }
    }

    /** Infers every value's shape from the inputs' and plans the float32 intermediates; null when inference fails (the kernels will say why). */
    private PlannedMemory planMemory(Map<String, Value> inputs) {
        Map<String, ValueType> types = new LinkedHashMap<>(graph.valueTypes());
        for (ValueInfo in : graph.inputs()) {
            if (inputs.get(in.name()) instanceof Tensor t) types.put(in.name(), ValueType.TensorType.of(t.dtype(), t.shape()));
        }
        try {
            Graph concrete = InferTypes.run(graph.withValueTypes(types), opsets, outerTypes).graph();
            return PlannedMemory.of(MemoryPlan.of(concrete), steps);
        } catch (OnnxrunException e) {
            return null;
        }
    }

    private static Value[] runStep(Step s, Value[] args, ExecContext ctx) {
        try {
            return s.kernel().run(args, ctx);
        } catch (OnnxrunException e) {
            throw e.getMessage().startsWith(s.node().describe()) ? e : e.at(s.node().describe());
        } catch (OutOfMemoryError e) {
            throw new OnnxrunException(OnnxrunException.Kind.LIMIT, s.node().describe() + ": out of memory");
        } catch (StackOverflowError e) {
            throw new OnnxrunException(OnnxrunException.Kind.LIMIT, s.node().describe() + ": nesting too deep");
        } catch (RuntimeException e) {
            throw OnnxrunException.internal(s.node().describe(), e);
        }
    }
}
