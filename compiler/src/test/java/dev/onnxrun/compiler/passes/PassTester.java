package dev.onnxrun.compiler.passes;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.onnxrun.CompiledModel;
import dev.onnxrun.Session;
import dev.onnxrun.compiler.ir.Dim;
import dev.onnxrun.compiler.ir.Graph;
import dev.onnxrun.compiler.ir.GraphText;
import dev.onnxrun.compiler.ir.Model;
import dev.onnxrun.compiler.ir.Node;
import dev.onnxrun.compiler.ir.OpsetImports;
import dev.onnxrun.compiler.ir.ValueInfo;
import dev.onnxrun.compiler.ir.ValueType;
import dev.onnxrun.runtime.Tensor;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Collectors;

/**
 * Before/after tests for passes: parse a graph from its text form, run one pass, compare the
 * resulting nodes' text with the expected lines, and check that both graphs compute the same
 * outputs on random inputs (run without optimization, so each graph runs as written).
 */
public final class PassTester {
    static final OpsetImports OPSETS = new OpsetImports(Map.of("", 17));

    private PassTester() {}

    public static Graph parse(String text) {
        return GraphValidator.validate(GraphText.parse(text, 42));
    }

    /** Runs {@code pass} and returns the result, after checking nodes and numbers. */
    static Graph assertRewrite(Pass pass, String before, String... expectedNodes) {
        Graph g = parse(before);
        Graph after = GraphValidator.validate(pass.run(g, OPSETS));
        assertEquals(String.join("\n", expectedNodes), nodesText(after), "nodes after " + pass.name());
        assertSameOutputs(g, after);
        return after;
    }

    /** Checks the pass leaves the graph alone (returns the same instance). */
    static void assertUnchanged(Pass pass, String before) {
        Graph g = parse(before);
        Graph after = pass.run(g, OPSETS);
        assertEquals(nodesText(g), nodesText(after));
        assertEquals(g, after, pass.name() + " should return its input unchanged");
    }

    public static String nodesText(Graph g) {
        return g.nodes().stream().map(GraphText::print).collect(Collectors.joining("\n"));
    }

    static void assertSameOutputs(Graph a, Graph b) {
        assertSameOutputs(a, b, OPSETS);
    }

    public static void assertSameOutputs(Graph a, Graph b, OpsetImports opsets) {
        Map<String, Tensor> inputs = randomInputs(a);
        Map<String, Tensor> ra = run(a, inputs, opsets), rb = run(b, inputs, opsets);
        assertEquals(ra.keySet(), rb.keySet());
        for (String k : ra.keySet()) {
            assertArrayEquals(ra.get(k).shape(), rb.get(k).shape(), k);
            double[] x = ra.get(k).toDoubleArray(), y = rb.get(k).toDoubleArray();
            for (int i = 0; i < x.length; i++) assertEquals(x[i], y[i], 1e-5 + 1e-4 * Math.abs(x[i]), k + " element " + i);
        }
    }

    public static Map<String, Tensor> run(Graph g, Map<String, Tensor> inputs, OpsetImports opsets) {
        Model m = new Model(8, "test", "", opsets, g, Map.of(), Map.of());
        try (CompiledModel c = CompiledModel.compile(m, new CompiledModel.Options(1, List.of())); Session s = c.newSession()) {
            return s.run(inputs);
        }
    }

    public static Map<String, Tensor> randomInputs(Graph g) {
        SplittableRandom r = new SplittableRandom(7);
        Map<String, Tensor> out = new HashMap<>();
        for (ValueInfo in : g.runtimeInputs()) {
            ValueType.TensorType t = (ValueType.TensorType) in.type();
            long[] shape = t.dims().stream().mapToLong(d -> d instanceof Dim.Known k ? k.size() : 2).toArray();
            Tensor x = Tensor.allocate(t.dtype(), shape);
            for (long i = 0; i < x.size(); i++) x.setDouble(i, r.nextDouble(-2, 2));
            out.put(in.name(), x);
        }
        return out;
    }

    static Node node(Graph g, String output) {
        return g.nodes().stream().filter(n -> n.outputs().contains(output)).findFirst().orElseThrow();
    }
}
