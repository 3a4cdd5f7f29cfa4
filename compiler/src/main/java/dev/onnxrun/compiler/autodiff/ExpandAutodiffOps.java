package dev.onnxrun.compiler.autodiff;

import dev.onnxrun.compiler.ir.Graph;
import dev.onnxrun.compiler.ir.Node;
import dev.onnxrun.compiler.ir.OpsetImports;
import dev.onnxrun.compiler.ops.AutodiffExpansions;
import dev.onnxrun.compiler.passes.InferTypes;
import dev.onnxrun.compiler.passes.Pass;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * dev.onnxrun.SumToShape, ConvWeightGrad, AveragePoolGrad, MaxPoolGrad, ReluGrad and
 * BatchNormalizationGrad (the own ops backward graphs use)
 * ⇒ the standard ONNX ops of {@link AutodiffExpansions}, so a backward or training graph can be
 * exported for runtimes that know only standard ONNX. Not part of the optimization pipeline: the
 * exporter runs it, as it runs {@link dev.onnxrun.compiler.passes.ExpandFusedOps}.
 */
public final class ExpandAutodiffOps implements Pass {
    @Override
    public String name() { return "expand-autodiff-ops"; }

    private static boolean expandable(Node n) {
        return n.domain().equals(OpsetImports.ONNXRUN_DOMAIN) && AutodiffExpansions.byOp().containsKey(n.opType());
    }

    @Override
    public Graph run(Graph g, OpsetImports opsets) {
        if (g.nodes().stream().noneMatch(ExpandAutodiffOps::expandable)) return g;
        InferTypes.Result typed = InferTypes.run(g, opsets);
        GradientBuilder.Emitter emitter = new GradientBuilder.Emitter(Autodiff.allNames(g));
        List<Node> nodes = new ArrayList<>();
        for (Node n : g.nodes()) {
            if (!expandable(n)) {
                nodes.add(n);
                continue;
            }
            GradientBuilder b = new GradientBuilder(n, opsets, typed.graph().valueTypes(), typed.constants(), List.of(), Set.of(), emitter);
            List<String> values = AutodiffExpansions.byOp().get(n.opType()).expand(b);
            nodes.addAll(emitter.nodes);
            emitter.nodes.clear();
            for (int i = 0; i < n.outputs().size(); i++) {
                String out = n.outputs().get(i);
                if (!out.isEmpty()) nodes.add(new Node(out, "", "Identity", List.of(values.get(i)), List.of(out), Map.of()));
            }
        }
        return g.withNodes(nodes);
    }
}
