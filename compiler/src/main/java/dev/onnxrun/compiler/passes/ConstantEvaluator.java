package dev.onnxrun.compiler.passes;

import dev.onnxrun.compiler.ir.Node;
import dev.onnxrun.compiler.ops.NodeContext;
import dev.onnxrun.compiler.ops.OpDef;
import dev.onnxrun.runtime.ExecContext;
import dev.onnxrun.runtime.OnnxrunException;
import dev.onnxrun.runtime.Tensor;
import dev.onnxrun.runtime.Value;
import java.util.Set;

/**
 * Runs one node at compile time on known input values, through the same CPU kernel it would
 * run with. Used by type inference (to learn shapes) and by constant folding.
 */
final class ConstantEvaluator {
    /** Ops that draw random numbers (Dropout in training mode): never evaluated ahead of time, never merged with a twin. */
    static final Set<String> RANDOM_OPS = Set.of("RandomNormal", "RandomUniform", "RandomNormalLike",
            "RandomUniformLike", "Bernoulli", "Multinomial", "Dropout");

    private ConstantEvaluator() {}

    /** True when the node's outputs depend only on its inputs and attributes. */
    static boolean isFoldable(Node n) {
        return !RANDOM_OPS.contains(n.opType()) && GraphEdits.subgraphs(n).isEmpty();
    }

    /**
     * The node's outputs for the given inputs (null entries for omitted optional inputs), or null
     * when the kernel rejects them: the same error then surfaces, with context, at run time.
     */
    static Value[] evaluate(OpDef def, NodeContext ctx, Value[] inputs) {
        try {
            return def.cpu().lower(ctx).run(inputs, ExecContext.singleThreaded());
        } catch (OnnxrunException e) {
            return null;
        }
    }

    /** Tensors only, each at most {@code maxElements}; null otherwise. */
    static Tensor[] tensors(Value[] values, int count, long maxElements) {
        if (values == null || values.length < count) return null;
        Tensor[] out = new Tensor[count];
        for (int i = 0; i < count; i++) {
            if (!(values[i] instanceof Tensor t) || t.size() > maxElements) return null;
            out[i] = t;
        }
        return out;
    }
}
