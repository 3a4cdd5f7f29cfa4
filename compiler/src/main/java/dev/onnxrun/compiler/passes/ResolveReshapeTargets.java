package dev.onnxrun.compiler.passes;

import dev.onnxrun.compiler.ir.Dim;
import dev.onnxrun.compiler.ir.Graph;
import dev.onnxrun.compiler.ir.Node;
import dev.onnxrun.compiler.ir.OpsetImports;
import dev.onnxrun.compiler.ir.ValueType;
import dev.onnxrun.runtime.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * Reshape(x, s) with s computed from shapes ⇒ Reshape(x, s'), s' a constant: an entry of s that
 * is a size known at compile time becomes that size, one that is the symbolic dim x has at the
 * same position becomes 0 (copy x's dim). PyTorch exports {@code view(B, T, H, D)} as Shape →
 * Gather → Unsqueeze → Concat; with the target constant, inference gives the output
 * {@code [batch, 128, 4, 64]} instead of {@code [?, ?, ?, ?]}, so rules that need exact shapes
 * (a residual add fused into the layer before) apply, and the shape computations go dead.
 *
 * <p>Guards: allowzero is 0 (0 then copies, whatever size the symbol has at run time); s is not
 * already a constant; every entry of s resolves.
 */
public final class ResolveReshapeTargets implements Pass {
    @Override
    public String name() { return "resolve-reshape-targets"; }

    @Override
    public Graph run(Graph g, OpsetImports opsets) {
        if (!GraphEdits.hasNode(g, "", "Reshape") || !GraphEdits.hasNode(g, "", "Shape")) return g;
        // A resolved target gives exact dims to what follows, and so to the next layer's Shape: repeat until none resolves.
        Graph current = g;
        for (Graph next = resolveOnce(current, opsets); next != current; next = resolveOnce(current, opsets)) current = next;
        return current;
    }

    private static Graph resolveOnce(Graph g, OpsetImports opsets) {
        Graph typed = InferTypes.run(g, opsets).graph(); // the dims that Shape reads
        Rewriter rw = new Rewriter(g);
        for (Node reshape : g.nodes()) {
            if (!reshape.domain().isEmpty() || !reshape.opType().equals("Reshape") || reshape.inputs().size() != 2) continue;
            if (reshape.attrs().getInt("allowzero", 0) != 0 || rw.constant(reshape.inputs().get(1)) != null) continue;
            if (!(typed.typeOf(reshape.inputs().getFirst()) instanceof ValueType.TensorType x) || !x.hasRank()) continue;
            List<Dim> entries = entries(reshape.inputs().get(1), rw, typed);
            long[] target = entries == null ? null : target(entries, x.dims());
            if (target == null) continue;
            String s = rw.addConstant(reshape.inputs().get(1), Tensor.of(target, target.length));
            rw.replace(reshape, new Node(reshape.name(), "", "Reshape", List.of(reshape.inputs().getFirst(), s),
                    reshape.outputs(), reshape.attributes()));
        }
        return rw.result();
    }

    /** The constant target: known sizes as they are, a symbol that is x's dim at its position as 0; null if any other. */
    private static long[] target(List<Dim> entries, List<Dim> x) {
        long[] out = new long[entries.size()];
        for (int i = 0; i < out.length; i++) {
            Dim e = entries.get(i);
            if (e instanceof Dim.Known k) out[i] = k.size();
            else if (e instanceof Dim.Symbolic && i < x.size() && x.get(i).equals(e)) out[i] = 0;
            else return null;
        }
        return out;
    }

    /**
     * The entries of a shape-like value (a scalar or vector of sizes) as dims, or null when some
     * op on the way is not one this follows: constants, Shape, Gather by constant indices,
     * Unsqueeze and Squeeze (which keep the entries in order) and Concat.
     */
    private static List<Dim> entries(String value, Rewriter rw, Graph typed) {
        Tensor c = rw.constant(value);
        if (c != null) {
            if (!c.dtype().isInteger() || c.rank() > 1) return null;
            List<Dim> out = new ArrayList<>();
            for (long v : c.toLongArray()) out.add(Dim.of(v));
            return out;
        }
        Node p = rw.producer(value);
        int rank = rank(typed, value);
        if (p == null || !p.domain().isEmpty() || rank < 0 || rank > 1) return null;
        return switch (p.opType()) {
            case "Shape" -> p.attributes().isEmpty() && typed.typeOf(p.inputs().getFirst()) instanceof ValueType.TensorType t
                    && t.hasRank() ? t.dims() : null;
            case "Gather" -> gathered(p, rw, typed);
            case "Unsqueeze", "Squeeze" -> entries(p.inputs().getFirst(), rw, typed);
            case "Concat" -> {
                List<Dim> out = new ArrayList<>();
                for (String in : p.inputs()) {
                    List<Dim> part = entries(in, rw, typed);
                    if (part == null) yield null;
                    out.addAll(part);
                }
                yield out;
            }
            default -> null;
        };
    }

    /** Gather(data, indices) of a vector by constant indices (negative ones count from the end). */
    private static List<Dim> gathered(Node gather, Rewriter rw, Graph typed) {
        Tensor indices = rw.constant(gather.inputs().get(1));
        if (indices == null || indices.rank() > 1 || rank(typed, gather.inputs().getFirst()) != 1) return null;
        List<Dim> data = entries(gather.inputs().getFirst(), rw, typed);
        if (data == null) return null;
        List<Dim> out = new ArrayList<>();
        for (long i : indices.toLongArray()) {
            long at = i < 0 ? i + data.size() : i;
            if (at < 0 || at >= data.size()) return null;
            out.add(data.get((int) at));
        }
        return out;
    }

    /** The value's rank, or -1 when not known. */
    private static int rank(Graph typed, String value) {
        return typed.typeOf(value) instanceof ValueType.TensorType t && t.hasRank() ? t.rank() : -1;
    }
}
