package dev.onnxrun.compiler.autodiff;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.onnxrun.CompiledModel;
import dev.onnxrun.Session;
import dev.onnxrun.compiler.ir.Attribute;
import dev.onnxrun.compiler.ir.Graph;
import dev.onnxrun.compiler.ir.GraphText;
import dev.onnxrun.compiler.ir.Model;
import dev.onnxrun.compiler.ir.Node;
import dev.onnxrun.compiler.ir.OpsetImports;
import dev.onnxrun.compiler.ir.ValueInfo;
import dev.onnxrun.compiler.ir.ValueType;
import dev.onnxrun.compiler.ir.ValueType.TensorType;
import dev.onnxrun.compiler.passes.GraphValidator;
import dev.onnxrun.compiler.passes.InferTypes;
import dev.onnxrun.compiler.passes.Optimizer;
import dev.onnxrun.runtime.DType;
import dev.onnxrun.runtime.Tensor;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Checks autodiff gradients against central finite differences in double precision. The graph
 * under test (text form, double inputs) is closed by a loss {@code Σₖ sum(yₖ · rₖ)} over its float
 * outputs with fixed random {@code rₖ}; each input listed is perturbed element by element by ±h.
 */
final class GradientCheck {
    static final OpsetImports OPSETS = new OpsetImports(Map.of("", 17));
    private static final double H = 1e-6;

    private final Graph lossGraph;
    private final Map<String, Tensor> inputs;
    private final OpsetImports opsets;
    private boolean freshModels;

    private GradientCheck(Graph lossGraph, Map<String, Tensor> inputs, OpsetImports opsets) {
        this.lossGraph = lossGraph;
        this.inputs = inputs;
        this.opsets = opsets;
    }

    /** Central differences of the summed loss against autodiff, for the inputs {@code wrt} of {@code text}. */
    static void check(String text, String... wrt) {
        of(text, -1, 1).verify(wrt);
    }

    /** As {@link #check}, at default-domain opset {@code version} (for the attribute forms of older opsets). */
    static void checkAtOpset(int version, String text, String... wrt) {
        of(text, -1, 1, new OpsetImports(Map.of("", version))).verify(wrt);
    }

    /** As {@link #check}, drawing inputs from [low, high) (positive ranges for Log, Sqrt, Pow). */
    static GradientCheck of(String text, double low, double high) {
        return of(text, low, high, OPSETS);
    }

    /** The graph, forward and backward nodes, read at {@code opsets}. */
    static GradientCheck of(String text, double low, double high, OpsetImports opsets) {
        return of(GraphText.parse(text, 42), low, high, opsets);
    }

    /** As {@link #of(String, double, double, OpsetImports)}, for a graph built in code. */
    static GradientCheck of(Graph graph, double low, double high, OpsetImports opsets) {
        Graph g = GraphValidator.validate(graph);
        Graph typed = InferTypes.run(g, opsets).graph();
        SplittableRandom random = new SplittableRandom(11);
        Map<String, Tensor> inputs = new LinkedHashMap<>();
        for (ValueInfo in : g.runtimeInputs()) {
            TensorType t = (TensorType) in.type();
            Tensor x = Tensor.allocate(t.dtype(), t.shape());
            for (long i = 0; i < x.size(); i++) {
                x.setDouble(i, t.dtype().isFloatingPoint() ? random.nextDouble(low, high) : random.nextInt(0, 3));
            }
            inputs.put(in.name(), x);
        }
        List<Node> nodes = new ArrayList<>(g.nodes());
        Map<String, Tensor> inits = new LinkedHashMap<>(g.initializers());
        List<String> terms = new ArrayList<>();
        for (ValueInfo out : g.outputs()) {
            TensorType t = (TensorType) typed.typeOf(out.name());
            if (!t.dtype().isFloatingPoint()) continue;
            Tensor r = Tensor.allocate(t.dtype(), t.shape());
            for (long i = 0; i < r.size(); i++) r.setDouble(i, random.nextDouble(-1, 1));
            String rName = "__r_" + out.name(), term = "__term_" + out.name();
            inits.put(rName, r);
            nodes.add(new Node(term + "_p", "", "Mul", List.of(out.name(), rName), List.of(term + "_p"), Map.of()));
            nodes.add(new Node(term, "", "ReduceSum", List.of(term + "_p"), List.of(term), Map.of("keepdims", Attribute.of("keepdims", 0L))));
            terms.add(term);
        }
        nodes.add(new Node("__loss", "", "Sum", terms, List.of("__loss"), Map.of()));
        Map<String, ValueType> types = new HashMap<>(g.valueTypes());
        types.put("__loss", TensorType.of(DType.DOUBLE));
        Graph loss = new Graph(g.name(), g.inputs(), List.of(new ValueInfo("__loss", TensorType.of(DType.DOUBLE))), inits, nodes, types);
        return new GradientCheck(GraphValidator.validate(loss), inputs, opsets);
    }

    /** Sets the range input values are drawn from and redraws them. */
    GradientCheck range(double lo, double hi) {
        SplittableRandom random = new SplittableRandom(13);
        for (Tensor x : inputs.values()) {
            if (!x.dtype().isFloatingPoint()) continue;
            for (long i = 0; i < x.size(); i++) x.setDouble(i, random.nextDouble(lo, hi));
        }
        return this;
    }

    /**
     * Compiles the graph anew for every evaluation, for ops whose kernels draw a new random
     * sequence per compiled node (seeded Dropout): each evaluation then sees the first draw.
     */
    GradientCheck freshModels() {
        freshModels = true;
        return this;
    }

    GradientCheck set(String input, double... values) {
        Tensor x = inputs.get(input);
        for (int i = 0; i < values.length; i++) x.setDouble(i, values[i]);
        return this;
    }

    /** The autodiff gradients of the loss with respect to {@code wrt}. */
    Map<String, Tensor> gradients(String... wrt) {
        Graph backward = Autodiff.backward(lossGraph, opsets, "__loss", List.of(wrt));
        return run(backward, opsets, inputs, true);
    }

    void verify(String... wrt) {
        Map<String, Tensor> grads = gradients(wrt);
        Model m = new Model(8, "test", "", opsets, lossGraph, Map.of(), Map.of());
        try (CompiledModel c = CompiledModel.compile(m, new CompiledModel.Options(1, List.of())); Session s = c.newSession()) {
            for (String x : wrt) {
                Tensor grad = grads.get("grad/" + x);
                Tensor value = inputs.get(x);
                assertArrayEquals(value.shape(), grad.shape(), "shape of grad/" + x);
                for (long i = 0; i < value.size(); i++) {
                    double v = value.getDouble(i);
                    value.setDouble(i, v + H);
                    double plus = loss(s, m);
                    value.setDouble(i, v - H);
                    double minus = loss(s, m);
                    value.setDouble(i, v);
                    double numeric = (plus - minus) / (2 * H);
                    assertEquals(numeric, grad.getDouble(i), 1e-5 + 1e-5 * Math.abs(numeric), "d loss / d " + x + "[" + i + "]");
                }
            }
        }
    }

    private double loss(Session s, Model m) {
        if (!freshModels) return s.run(inputs).get("__loss").getDouble(0);
        try (CompiledModel c = CompiledModel.compile(m, new CompiledModel.Options(1, List.of())); Session fresh = c.newSession()) {
            return fresh.run(inputs).get("__loss").getDouble(0);
        }
    }

    /** Runs {@code g}, optimized with the default passes when {@code optimize}. */
    static Map<String, Tensor> run(Graph g, Map<String, Tensor> inputs, boolean optimize) {
        return run(g, OPSETS, inputs, optimize);
    }

    static Map<String, Tensor> run(Graph g, OpsetImports opsets, Map<String, Tensor> inputs, boolean optimize) {
        Model m = new Model(8, "test", "", opsets, g, Map.of(), Map.of());
        var options = new CompiledModel.Options(1, optimize ? Optimizer.DEFAULT_PASSES : List.of());
        try (CompiledModel c = CompiledModel.compile(m, options); Session s = c.newSession()) {
            return s.run(inputs);
        }
    }
}
