package dev.onnxrun.compiler.passes;

import dev.onnxrun.compiler.ir.Attribute;
import dev.onnxrun.compiler.ir.Dim;
import dev.onnxrun.compiler.ir.Graph;
import dev.onnxrun.compiler.ir.Node;
import dev.onnxrun.compiler.ir.OpsetImports;
import dev.onnxrun.compiler.ir.ValueType;
import dev.onnxrun.runtime.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Div(d, Sqrt(Add(ReduceMean(Pow(d, 2)), ε))) with d = Sub(x, ReduceMean(x)), over the trailing
 * axes [a, rank) ⇒ dev.onnxrun.LayerNormalization(x, 1) {axis: a, epsilon: ε}, the form PyTorch
 * exports before opset 17 (Pow(d, 2) may be Mul(d, d)); then
 * LayerNormalization(x, 1)·γ ⇒ LayerNormalization(x, γ) and LayerNormalization(x, s) + β ⇒
 * LayerNormalization(x, s, β), absorbing the affine part.
 *
 * <p>Guards: d is read only by the variance and the Div, the other intermediates once, none is a
 * graph output; both means keep dims and reduce the same trailing axes of a known rank; ε, γ and β
 * are constants of x's type, γ and β varying along the normalized axes only.
 */
public final class RecognizeLayerNorm implements Pass {
    @Override
    public String name() { return "recognize-layer-norm"; }

    @Override
    public Graph run(Graph g, OpsetImports opsets) {
        if (!GraphEdits.hasNode(g, "", "ReduceMean") && !GraphEdits.hasNode(g, FuseEpilogues.DOMAIN, "LayerNormalization")) return g;
        Graph typed = InferTypes.run(g, opsets).graph(); // the reduced axes must be the trailing ones
        Rewriter rw = new Rewriter(g);
        for (Node n : g.nodes()) {
            if (!n.domain().isEmpty() || n.inputs().size() != 2 || !rw.live(n)) continue;
            switch (n.opType()) {
                case "Div" -> normalization(n, typed, opsets, rw);
                case "Mul", "Add" -> affine(n, typed, rw);
                default -> { }
            }
        }
        return rw.result();
    }

    private static void normalization(Node div, Graph typed, OpsetImports opsets, Rewriter rw) {
        String d = div.inputs().get(0);
        Node sqrt = single(div.inputs().get(1), "Sqrt", rw);
        Node addEps = sqrt == null ? null : single(sqrt.inputs().getFirst(), "Add", rw);
        if (addEps == null || addEps.inputs().size() != 2) return;
        Double eps = rw.scalar(addEps.inputs().get(1));
        Node var = single(addEps.inputs().get(0), "ReduceMean", rw);
        Node square = var == null ? null : single(var.inputs().getFirst(), "Pow", rw);
        boolean pow = square != null && rw.isScalar(square.inputs().get(1), 2) && square.inputs().get(0).equals(d);
        if (!pow) {
            square = var == null ? null : single(var.inputs().getFirst(), "Mul", rw);
            if (square == null || !square.inputs().get(0).equals(d) || !square.inputs().get(1).equals(d)) return;
        }
        Node sub = rw.producer(d, "Sub");
        if (eps == null || sub == null || rw.isOutput(d) || rw.uses(d) != (pow ? 2 : 3)) return;
        String x = sub.inputs().get(0);
        Node mean = single(sub.inputs().get(1), "ReduceMean", rw);
        if (mean == null || !mean.inputs().getFirst().equals(x)) return;
        if (!(typed.typeOf(x) instanceof ValueType.TensorType t) || !t.hasRank() || !t.dtype().isFloatingPoint()) return;
        long[] axes = ReduceAxes.of(mean, t.rank(), opsets, rw);
        if (axes == null || !Arrays.equals(axes, ReduceAxes.of(var, t.rank(), opsets, rw))) return;
        long[] sorted = axes.clone();
        Arrays.sort(sorted);
        for (int i = 0; i < sorted.length; i++) if (sorted[i] != t.rank() - sorted.length + i) return;
        Tensor one = Tensor.allocate(t.dtype(), 1);
        one.setDouble(0, 1);
        String scale = rw.addConstant(div.outputs().getFirst() + "/scale", one);
        Map<String, Attribute> attrs = Map.of("axis", Attribute.of("axis", sorted[0]), "epsilon", Attribute.of("epsilon", eps.floatValue()));
        rw.replace(div, new Node(div.name(), FuseEpilogues.DOMAIN, "LayerNormalization", List.of(x, scale), div.outputs(), attrs),
                sqrt, addEps, var, square, sub, mean);
    }

    /** Absorbs Mul(ln, γ) into a bare scale of 1, or Add(ln, β) into a missing bias. */
    private static void affine(Node n, Graph typed, Rewriter rw) {
        boolean mul = n.opType().equals("Mul");
        for (int side = 0; side < 2; side++) {
            String y = n.inputs().get(side), c = n.inputs().get(1 - side);
            Node ln = rw.producer(y);
            if (ln == null || !ln.domain().equals(FuseEpilogues.DOMAIN) || !ln.opType().equals("LayerNormalization") || !rw.singleUse(y)) continue;
            Tensor k = rw.constant(c);
            if (!(typed.typeOf(ln.inputs().getFirst()) instanceof ValueType.TensorType t) || !t.hasRank() || k == null || k.dtype() != t.dtype()) continue;
            int axis = (int) ln.attrs().getInt("axis", -1);
            if (!alongNormalizedAxes(k, t, axis)) continue;
            List<String> ins = new ArrayList<>(ln.inputs());
            if (mul) {
                Double s = rw.scalar(ins.get(1));
                if (ins.size() > 2 || s == null || s != 1) continue;
                ins.set(1, c);
            } else {
                if (ins.size() > 2) continue;
                ins.add(c);
            }
            rw.replace(n, new Node(ln.name(), ln.domain(), ln.opType(), ins, n.outputs(), ln.attributes()), ln);
            return;
        }
    }

    /** k broadcasts into the axes [axis, rank) of x without growing the result. */
    private static boolean alongNormalizedAxes(Tensor k, ValueType.TensorType x, int axis) {
        int normalized = x.rank() - axis;
        if (k.rank() > normalized) return false;
        for (int i = 0; i < k.rank(); i++) {
            Dim d = x.dims().get(x.rank() - k.rank() + i);
            long size = k.dim(i);
            if (size != 1 && !(d instanceof Dim.Known known && known.size() == size)) return false;
        }
        return true;
    }

    private static Node single(String value, String op, Rewriter rw) {
        return rw.singleUse(value) ? rw.producer(value, op) : null;
    }
}
