package dev.onnxrun.compiler.passes;

import dev.onnxrun.compiler.ir.Attribute;
import dev.onnxrun.compiler.ir.Graph;
import dev.onnxrun.compiler.ir.Node;
import dev.onnxrun.compiler.ir.OpsetImports;
import dev.onnxrun.compiler.ir.ValueType;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Div(e, ReduceSum(e, [a])) with e = Exp(Sub(x, ReduceMax(x, [a]))) or e = Exp(x)
 * ⇒ dev.onnxrun.Softmax(x) {axis: a}: one kernel and one pass over memory instead of five.
 *
 * <p>Guards: e is read only by the Div and the ReduceSum, the other intermediates only once, none
 * is a graph output; both reductions keep dims and reduce the same single axis of a known rank.
 */
public final class RecognizeSoftmax implements Pass {
    @Override
    public String name() { return "recognize-softmax"; }

    @Override
    public Graph run(Graph g, OpsetImports opsets) {
        if (!GraphEdits.hasNode(g, "", "Exp")) return g;
        Graph typed = InferTypes.run(g, opsets).graph(); // negative axes need the rank
        Rewriter rw = new Rewriter(g);
        for (Node div : g.nodes()) {
            if (!div.domain().isEmpty() || !div.opType().equals("Div") || div.inputs().size() != 2 || !rw.live(div)) continue;
            String e = div.inputs().get(0), sumOut = div.inputs().get(1);
            Node exp = rw.producer(e, "Exp"), sum = rw.producer(sumOut, "ReduceSum");
            if (exp == null || sum == null || !rw.singleUse(sumOut) || !sum.inputs().getFirst().equals(e)) continue;
            if (rw.uses(e) != 2 || rw.isOutput(e)) continue;
            if (!(typed.typeOf(e) instanceof ValueType.TensorType t) || !t.hasRank() || t.rank() == 0) continue;
            long[] axes = ReduceAxes.of(sum, t.rank(), opsets, rw);
            if (axes == null || axes.length != 1) continue;
            List<Node> absorbed = new ArrayList<>(List.of(exp, sum));
            String x = exp.inputs().getFirst();
            Node sub = rw.singleUse(x) ? rw.producer(x, "Sub") : null;
            Node max = sub == null || !rw.singleUse(sub.inputs().get(1)) ? null : rw.producer(sub.inputs().get(1), "ReduceMax");
            if (max != null && max.inputs().getFirst().equals(sub.inputs().get(0)) && Arrays.equals(ReduceAxes.of(max, t.rank(), opsets, rw), axes)) {
                x = sub.inputs().get(0);
                absorbed.addAll(List.of(sub, max));
            }
            rw.replace(div, new Node(div.name(), FuseEpilogues.DOMAIN, "Softmax", List.of(x), div.outputs(),
                    Map.of("axis", Attribute.of("axis", axes[0]))), absorbed.toArray(Node[]::new));
        }
        return rw.result();
    }
}
