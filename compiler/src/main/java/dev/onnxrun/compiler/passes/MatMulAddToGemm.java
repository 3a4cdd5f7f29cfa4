package dev.onnxrun.compiler.passes;

import dev.onnxrun.compiler.ir.Graph;
import dev.onnxrun.compiler.ir.Node;
import dev.onnxrun.compiler.ir.OpsetImports;
import dev.onnxrun.compiler.ir.ValueType;
import dev.onnxrun.runtime.Tensor;
import java.util.List;
import java.util.Map;

/**
 * Add(MatMul(A, B), c) ⇒ Gemm(A, B, c) for a matrix A, and ⇒ dev.onnxrun.FusedGemm(A, B, c) when
 * A has batch axes (a linear layer over a sequence): the bias becomes the product's starting value
 * instead of a second pass over it.
 *
 * <p>Guards: the product has one reader and is not a graph output; A has known rank >= 2 and B
 * rank 2, both floating point; c is a constant with one value per column ([N], [1, N]) or one in all.
 */
public final class MatMulAddToGemm implements Pass {
    @Override
    public String name() { return "matmul-add-to-gemm"; }

    @Override
    public Graph run(Graph g, OpsetImports opsets) {
        if (!GraphEdits.hasNode(g, "", "MatMul")) return g;
        Graph typed = InferTypes.run(g, opsets).graph(); // ranks of A and B decide the op
        Rewriter rw = new Rewriter(g);
        for (Node add : g.nodes()) {
            if (!add.domain().isEmpty() || !add.opType().equals("Add") || add.inputs().size() != 2) continue;
            for (int side = 0; side < 2; side++) {
                String product = add.inputs().get(side), bias = add.inputs().get(1 - side);
                Node mm = rw.producer(product, "MatMul");
                if (mm == null || !rw.singleUse(product) || !rw.live(add)) continue;
                if (!(typed.typeOf(mm.inputs().get(0)) instanceof ValueType.TensorType a) || !a.hasRank() || a.rank() < 2) continue;
                if (!(typed.typeOf(mm.inputs().get(1)) instanceof ValueType.TensorType b) || !b.hasRank() || b.rank() != 2) continue;
                if (!a.dtype().isFloatingPoint() || a.dtype() != b.dtype()) continue;
                Tensor c = rw.constant(bias);
                if (c == null || c.dtype() != a.dtype() || !perColumn(c, b.dims().get(1).sizeOrMinus1())) continue;
                List<String> ins = List.of(mm.inputs().get(0), mm.inputs().get(1), bias);
                Node gemm = a.rank() == 2
                        ? new Node(mm.name(), "", "Gemm", ins, add.outputs(), Map.of())
                        : new Node(mm.name(), FuseEpilogues.DOMAIN, "FusedGemm", ins, add.outputs(), Map.of());
                rw.replace(add, gemm, mm);
                break;
            }
        }
        return rw.result();
    }

    private static boolean perColumn(Tensor c, long columns) {
        if (c.size() == 1) return c.rank() <= 2;
        long[] s = c.shape();
        return columns > 0 && c.size() == columns && s[s.length - 1] == columns && s.length <= 2;
    }
}
