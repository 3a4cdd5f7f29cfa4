package dev.onnxrun.compiler.passes;

import dev.onnxrun.compiler.ir.Graph;
import dev.onnxrun.compiler.ir.OpsetImports;
import dev.onnxrun.runtime.OnnxrunException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The optimization pipeline: the passes below, in order, repeated until none changes the
 * graph (at most {@link #MAX_ROUNDS} rounds). The graph is validated after every pass, and a
 * pass that breaks it is named in the error.
 */
public final class Optimizer {
    private static final int MAX_ROUNDS = 8;

    /** The default pipeline; each line says why it sits where it does. */
    public static final List<Pass> DEFAULT_PASSES = List.of(
            new RemoveIdentities(),              // first: exposes producer → consumer pairs to the rules below
            new FoldConstants(),                 // before BatchNorm folding: statistics made by Constant nodes become initializers
            new ResolveReshapeTargets(),         // after folding (the parts known at compile time are constants): exact dims for the fusions below
            new MergeTransposes(),               // after folding (constant transposes are gone); its Identity goes next round
            new RecognizeLayerNorm(),            // before the rules below take the decomposition's Add and Mul apart
            new RecognizeSoftmax(),
            new RecognizeActivations(),          // Silu and Gelu as single ops, so the layer before can absorb them
            new BatchNormToScaleShift(),         // turns BatchNormalization into Mul + Add ...
            new MatMulAddToGemm(),               // ... (a MatMul's bias first becomes Gemm's C, so a scale after it folds too)
            new FoldScaleShiftIntoConv(),        // ... which the layer before absorbs
            new FuseEpilogues(),                 // after scale/shift folding: the layer's last consumer is its residual or activation
            new FuseElementwise(),               // once the rest is done: what no layer absorbed runs as one loop
            new BlockChannels(),                 // once the layers are fused: convolutions and pools between them go channel-blocked
            new EliminateCommonSubexpressions(),
            new EliminateDeadCode());            // last: removes what the rewrites orphaned

    /** Node counts around one pass application, for {@code compile --report}. */
    public record Step(String pass, int round, int nodesBefore, int nodesAfter) {}

    private Optimizer() {}

    /** The passes named in a comma-separated list, in pipeline order. */
    public static List<Pass> select(String names) {
        List<String> wanted = Arrays.stream(names.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
        Map<String, Pass> byName = new LinkedHashMap<>();
        DEFAULT_PASSES.forEach(p -> byName.put(p.name(), p));
        for (String w : wanted) {
            if (!byName.containsKey(w)) {
                throw OnnxrunException.invalidInput("unknown pass '" + w + "' (passes: " + String.join(", ", byName.keySet()) + ")");
            }
        }
        return DEFAULT_PASSES.stream().filter(p -> wanted.contains(p.name())).toList();
    }

    /** Runs {@code passes} to a fixpoint; {@code steps} (if not null) receives each application's node counts. */
    public static Graph optimize(Graph g, OpsetImports opsets, List<Pass> passes, List<Step> steps) {
        Graph current = g;
        for (int round = 1; round <= MAX_ROUNDS; round++) {
            boolean changed = false;
            for (Pass p : passes) {
                if (changed && p.waitsForTheOthers()) continue;
                int before = current.nodes().size();
                Graph next = p.run(current, opsets);
                if (next == current) continue;
                try {
                    next = GraphValidator.validate(next);
                } catch (OnnxrunException e) {
                    throw new OnnxrunException(OnnxrunException.Kind.INTERNAL, "pass " + p.name() + " produced an invalid graph: " + e.getMessage(), e);
                }
                if (steps != null) steps.add(new Step(p.name(), round, before, next.nodes().size()));
                current = next;
                changed = true;
            }
            if (!changed) break;
        }
        return current;
    }

    public static Graph optimize(Graph g, OpsetImports opsets) {
        return optimize(g, opsets, DEFAULT_PASSES, new ArrayList<>());
    }
}
