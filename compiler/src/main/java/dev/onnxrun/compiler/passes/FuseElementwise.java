package dev.onnxrun.compiler.passes;

import dev.onnxrun.compiler.ir.Attribute;
import dev.onnxrun.compiler.ir.Dim;
import dev.onnxrun.compiler.ir.Graph;
import dev.onnxrun.compiler.ir.Node;
import dev.onnxrun.compiler.ir.OpsetImports;
import dev.onnxrun.compiler.ir.ValueType.TensorType;
import dev.onnxrun.compiler.ops.ElementwiseOps;
import dev.onnxrun.runtime.DType;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A chain of float32 elementwise ops, each the only reader of the one before, ⇒ one
 * dev.onnxrun.FusedElementwise node, whose kernel runs the whole chain over one cache-sized block
 * of elements at a time instead of passing over memory once per op. The chain's value keeps its
 * shape from op to op; each binary op's other operand has that shape too, or one element. It
 * waits until the other passes are done: a layer's residual Add and activation belong inside the
 * layer ({@link FuseEpilogues}), and the Mul and Add of a BatchNormalization in its weights.
 *
 * <p>The fused node's inputs are the chain's start and then the other operands in order.
 * Attributes: {@code ops} the op types in order; {@code operands} for each op the fused input
 * that is its other operand (-1 for unary ops); {@code operand_first} 1 where that operand is the
 * op's first input (as in Sub(c, x)); {@code opset} the default-domain opset the ops follow; and
 * each op's own attributes renamed {@code <i>.<name>}.
 */
public final class FuseElementwise implements Pass {

    @Override
    public String name() { return "fuse-elementwise"; }

    @Override
    public boolean waitsForTheOthers() { return true; }

    @Override
    public Graph run(Graph g, OpsetImports opsets) {
        int opset = opsets.version("");
        if (opset < 7) return g; // before opset 7, broadcasting binary ops need attributes this pass does not carry
        Graph typed = InferTypes.run(g, opsets).graph();
        Rewriter rw = new Rewriter(typed);
        Map<String, List<Node>> readers = new LinkedHashMap<>();
        for (Node n : typed.nodes()) for (String in : n.inputs()) readers.computeIfAbsent(in, k -> new ArrayList<>()).add(n);
        Set<Node> taken = new HashSet<>();
        for (Node start : typed.nodes()) {
            if (taken.contains(start)) continue;
            String running = runningInput(start, typed, null);
            if (running == null) continue;
            List<Node> chain = new ArrayList<>(List.of(start));
            Node last = start;
            while (rw.singleUse(last.outputs().getFirst())) {
                Node next = readers.get(last.outputs().getFirst()).getFirst();
                if (taken.contains(next) || !last.outputs().getFirst().equals(runningInput(next, typed, last.outputs().getFirst()))) break;
                chain.add(next);
                last = next;
            }
            if (chain.size() < 2) continue;
            taken.addAll(chain);
            List<String> inputs = new ArrayList<>(List.of(running));
            Node fused = fuse(chain, inputs, opset);
            rw.replace(last, fused, chain.subList(0, chain.size() - 1).toArray(Node[]::new));
        }
        Graph out = rw.result();
        return out == typed ? g : out.withValueTypes(g.valueTypes());
    }

    /**
     * The input that carries the chain's value through {@code n} ({@code preferred} when it can),
     * when {@code n} is a fusible float32 op whose output has that input's shape and whose other
     * operand (if any) has that shape or one element; else null.
     */
    private static String runningInput(Node n, Graph g, String preferred) {
        if (!n.domain().isEmpty() || n.outputs().size() != 1 || !(g.typeOf(n.outputs().getFirst()) instanceof TensorType out)
                || out.dtype() != DType.FLOAT || !out.hasRank()) return null;
        if (ElementwiseOps.SAME_INDEX_UNARY.contains(n.opType()) && n.inputs().size() == 1) return sameDims(g, n.inputs().getFirst(), out) ? n.inputs().getFirst() : null;
        if (!ElementwiseOps.SAME_INDEX_BINARY.contains(n.opType()) || n.inputs().size() != 2) return null;
        String a = n.inputs().get(0), b = n.inputs().get(1);
        if (a.equals(b)) return null;
        boolean aFull = sameDims(g, a, out), bFull = sameDims(g, b, out);
        if (aFull && bFull) return b.equals(preferred) ? b : a;
        if (aFull && isSingleFloat(g, b)) return a;
        if (bFull && isSingleFloat(g, a)) return b;
        return null;
    }

    private static boolean sameDims(Graph g, String value, TensorType out) {
        return g.typeOf(value) instanceof TensorType t && t.dtype() == DType.FLOAT && t.hasRank() && t.dims().equals(out.dims())
                && out.dims().stream().allMatch(d -> !(d instanceof Dim.Unknown));
    }

    private static boolean isSingleFloat(Graph g, String value) {
        return g.typeOf(value) instanceof TensorType t && t.dtype() == DType.FLOAT && t.isStatic()
                && java.util.Arrays.stream(t.shape()).allMatch(d -> d == 1);
    }

    private static Node fuse(List<Node> chain, List<String> inputs, int opset) {
        List<String> ops = new ArrayList<>();
        List<Long> operandIndex = new ArrayList<>(), operandFirst = new ArrayList<>();
        Map<String, Attribute> attrs = new LinkedHashMap<>();
        String running = inputs.getFirst();
        for (int i = 0; i < chain.size(); i++) {
            Node n = chain.get(i);
            ops.add(n.opType());
            int side = n.inputs().size() == 2 ? (n.inputs().get(0).equals(running) ? 1 : 0) : -1;
            if (side < 0) {
                operandIndex.add(-1L);
                operandFirst.add(0L);
            } else {
                String operand = n.inputs().get(side);
                // the chain's start gets an entry of its own as an operand: its first entry may be overwritten in place
                int at = inputs.subList(1, inputs.size()).indexOf(operand) + 1;
                if (at == 0) {
                    at = inputs.size();
                    inputs.add(operand);
                }
                operandIndex.add((long) at);
                operandFirst.add(side == 0 ? 1L : 0L);
            }
            for (Attribute a : n.attributes().values()) attrs.put(i + "." + a.name(), a.renamed(i + "." + a.name()));
            running = n.outputs().getFirst();
        }
        attrs.put("ops", new Attribute("ops", Attribute.Kind.STRINGS, List.copyOf(ops), null));
        attrs.put("operands", Attribute.ints("operands", operandIndex));
        attrs.put("operand_first", Attribute.ints("operand_first", operandFirst));
        attrs.put("opset", Attribute.of("opset", (long) opset));
        Node last = chain.getLast();
        return new Node(last.name(), FuseEpilogues.DOMAIN, "FusedElementwise", inputs, last.outputs(), attrs);
    }
}
