package dev.onnxrun.compiler.passes;

import dev.onnxrun.compiler.ir.Attribute;
import dev.onnxrun.compiler.ir.Graph;
import dev.onnxrun.compiler.ir.Node;
import dev.onnxrun.compiler.ir.OpsetImports;
import dev.onnxrun.compiler.ir.ValueType;
import java.util.List;
import java.util.Map;

/**
 * Transpose(Transpose(x, p), q) ⇒ Transpose(x, r) with r[i] = p[q[i]], or Identity(x) when r is
 * the identity (which {@link RemoveIdentities} then removes); a lone identity Transpose becomes
 * Identity too. The inner Transpose stays while others read it.
 *
 * <p>Guards: each permutation is given, or the rank is known for the default (reversed) one.
 */
public final class MergeTransposes implements Pass {
    @Override
    public String name() { return "merge-transposes"; }

    @Override
    public Graph run(Graph g, OpsetImports opsets) {
        if (!GraphEdits.hasNode(g, "", "Transpose")) return g;
        Graph typed = InferTypes.run(g, opsets).graph(); // the default permutation needs the rank
        Rewriter rw = new Rewriter(g);
        for (Node n : g.nodes()) {
            if (!isTranspose(n)) continue;
            long[] q = perm(n, typed);
            if (q == null) continue;
            Node inner = rw.producer(n.inputs().getFirst(), "Transpose");
            long[] p = inner == null ? null : perm(inner, typed);
            String source = n.inputs().getFirst();
            long[] r = q;
            if (p != null && p.length == q.length) {
                source = inner.inputs().getFirst();
                r = new long[q.length];
                for (int i = 0; i < q.length; i++) r[i] = p[(int) q[i]];
            } else if (!isIdentity(q)) {
                continue;
            }
            Node merged = isIdentity(r)
                    ? new Node(n.name(), "", "Identity", List.of(source), n.outputs(), Map.of())
                    : new Node(n.name(), "", "Transpose", List.of(source), n.outputs(), Map.of("perm", Attribute.ints("perm", java.util.Arrays.stream(r).boxed().toList())));
            rw.replace(n, merged);
        }
        return rw.result();
    }

    private static boolean isTranspose(Node n) {
        return n.domain().isEmpty() && n.opType().equals("Transpose") && n.inputs().size() == 1 && n.outputs().size() == 1;
    }

    /** The node's permutation, its default (reversed axes) when the rank is known, or null. */
    private static long[] perm(Node n, Graph typed) {
        long[] perm = n.attrs().getInts("perm");
        if (perm != null) return perm;
        if (!(typed.typeOf(n.inputs().getFirst()) instanceof ValueType.TensorType t) || !t.hasRank()) return null;
        long[] reversed = new long[t.rank()];
        for (int i = 0; i < reversed.length; i++) reversed[i] = reversed.length - 1 - i;
        return reversed;
    }

    private static boolean isIdentity(long[] perm) {
        for (int i = 0; i < perm.length; i++) if (perm[i] != i) return false;
        return true;
    }
}
