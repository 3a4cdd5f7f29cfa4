package dev.onnxrun.compiler.passes;

import dev.onnxrun.compiler.ir.Attribute;
import dev.onnxrun.compiler.ir.Graph;
import dev.onnxrun.compiler.ir.Node;
import dev.onnxrun.compiler.ir.ValueInfo;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Small queries and edits on immutable graphs, shared by the passes. */
final class GraphEdits {
    private GraphEdits() {}

    /** How many node inputs (in this graph and its subgraphs) and graph outputs read each value. */
    /** True when a top-level node of {@code g} is {@code domain}'s {@code op}: passes check this before inferring types for a pattern that cannot match. */
    static boolean hasNode(Graph g, String domain, String op) {
        for (Node n : g.nodes()) if (n.opType().equals(op) && n.domain().equals(domain)) return true;
        return false;
    }

    static Map<String, Integer> useCounts(Graph g) {
        Map<String, Integer> uses = new HashMap<>();
        countUses(g, uses);
        for (ValueInfo out : g.outputs()) uses.merge(out.name(), 1, Integer::sum);
        return uses;
    }

    private static void countUses(Graph g, Map<String, Integer> uses) {
        for (Node n : g.nodes()) {
            for (String in : n.inputs()) if (!in.isEmpty()) uses.merge(in, 1, Integer::sum);
            for (Graph body : subgraphs(n)) {
                countUses(body, uses);
                for (ValueInfo out : body.outputs()) uses.merge(out.name(), 1, Integer::sum);
            }
        }
    }

    static List<Graph> subgraphs(Node n) {
        return n.attributes().values().stream().flatMap(a -> switch (a.kind()) {
            case GRAPH -> java.util.stream.Stream.of((Graph) a.value());
            case GRAPHS -> ((List<?>) a.value()).stream().map(Graph.class::cast);
            default -> java.util.stream.Stream.empty();
        }).toList();
    }

    /** Values the caller may replace at run time: graph inputs (even those with an initializer as default). */
    static Set<String> inputNames(Graph g) {
        Set<String> s = new HashSet<>();
        g.inputs().forEach(v -> s.add(v.name()));
        return s;
    }

    /** The graph outputs' names. */
    static Set<String> outputNames(Graph g) {
        Set<String> s = new HashSet<>();
        g.outputs().forEach(v -> s.add(v.name()));
        return s;
    }

    /** Rewrites every read of a renamed value, in nodes and subgraph bodies; graph outputs keep their names. */
    static List<Node> renameUses(List<Node> nodes, Map<String, String> rename) {
        if (rename.isEmpty()) return nodes;
        return nodes.stream().map(n -> renameUses(n, rename)).toList();
    }

    private static Node renameUses(Node n, Map<String, String> rename) {
        List<String> ins = n.inputs().stream().map(i -> resolve(i, rename)).toList();
        Map<String, Attribute> attrs = n.attributes();
        if (!subgraphs(n).isEmpty()) {
            attrs = new LinkedHashMap<>(attrs);
            for (Attribute a : n.attributes().values()) {
                if (a.kind() == Attribute.Kind.GRAPH) {
                    Graph body = (Graph) a.value();
                    attrs.put(a.name(), new Attribute(a.name(), a.kind(), renameInBody(body, rename), null));
                } else if (a.kind() == Attribute.Kind.GRAPHS) {
                    attrs.put(a.name(), new Attribute(a.name(), a.kind(),
                            ((List<?>) a.value()).stream().map(b -> renameInBody((Graph) b, rename)).toList(), null));
                }
            }
        }
        return ins.equals(n.inputs()) && attrs == n.attributes() ? n
                : new Node(n.name(), n.domain(), n.opType(), ins, n.outputs(), attrs);
    }

    private static Graph renameInBody(Graph body, Map<String, String> rename) {
        List<ValueInfo> outs = body.outputs().stream().map(v -> new ValueInfo(resolve(v.name(), rename), v.type())).toList();
        return new Graph(body.name(), body.inputs(), outs, body.initializers(), renameUses(body.nodes(), rename), body.valueTypes());
    }

    /** Follows renames transitively (a → b → c). */
    static String resolve(String name, Map<String, String> rename) {
        String r = name;
        for (int guard = 0; rename.containsKey(r) && guard < 1000; guard++) r = rename.get(r);
        return r;
    }

    /** {@code base}, or {@code base_2}, {@code base_3}…: a value name not yet used in {@code g} or {@code extra}. */
    static String freshName(Graph g, Map<String, ?> extra, String base) {
        Set<String> taken = new HashSet<>(g.valueTypes().keySet());
        taken.addAll(g.initializers().keySet());
        g.nodes().forEach(n -> taken.addAll(n.outputs()));
        String name = base;
        for (int i = 2; taken.contains(name) || extra.containsKey(name); i++) name = base + "_" + i;
        return name;
    }
}
