package dev.onnxrun.compiler.passes;

import dev.onnxrun.compiler.ir.Attribute;
import dev.onnxrun.compiler.ir.Attributes;
import dev.onnxrun.compiler.ir.Graph;
import dev.onnxrun.compiler.ir.Node;
import dev.onnxrun.compiler.ir.OpsetImports;
import dev.onnxrun.compiler.ir.ValueType;
import dev.onnxrun.compiler.ops.FusedElementwiseOp;
import dev.onnxrun.runtime.DType;
import dev.onnxrun.runtime.OnnxrunException;
import dev.onnxrun.runtime.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * dev.onnxrun.Op(…) ⇒ the standard ONNX nodes it stands for, at the model's opset, so an
 * optimized graph can be exported for other runtimes: FusedConv ⇒ Conv [+ Add residual]
 * [+ activation]; FusedGemm ⇒ Gemm, or MatMul with scale and bias for batched A [+ Add]
 * [+ activation]; Silu ⇒ x·Sigmoid(x); Gelu ⇒ Gelu (opset 20+) or x·½(1 + Erf(x/√2));
 * LayerNormalization ⇒ the standard op (opset 17+) or its decomposition; Softmax ⇒ the standard
 * op (opset 13+) or Exp(x − ReduceMax)/ReduceSum; FusedElementwise ⇒ its chain of ops;
 * BlockedConv, BlockedPool and Unblock ⇒ Conv (as FusedConv), the pool, Identity: their values
 * in plain form. Not part of the optimization pipeline: the exporter runs it.
 */
public final class ExpandFusedOps implements Pass {
    @Override
    public String name() { return "expand-fused-ops"; }

    @Override
    public Graph run(Graph g, OpsetImports opsets) {
        if (g.nodes().stream().noneMatch(n -> n.domain().equals(OpsetImports.ONNXRUN_DOMAIN))) return g;
        Graph typed = InferTypes.run(g, opsets).graph();
        Emitter e = new Emitter(typed, opsets.version(""), new LinkedHashMap<>(g.initializers()));
        for (Node n : g.nodes()) {
            if (n.domain().equals(OpsetImports.ONNXRUN_DOMAIN)) e.expand(n);
            else e.out.add(n);
        }
        return new Graph(g.name(), g.inputs(), g.outputs(), e.inits, e.out, g.valueTypes());
    }

    /** Builds the replacement nodes, naming new values after the node they replace. */
    private static final class Emitter {
        final Graph g;
        final int opset;
        final Map<String, Tensor> inits;
        final List<Node> out = new ArrayList<>();
        private String base;
        private int counter;

        Emitter(Graph g, int opset, Map<String, Tensor> inits) {
            this.g = g;
            this.opset = opset;
            this.inits = inits;
        }

        void expand(Node n) {
            base = n.name().isEmpty() ? n.outputs().getFirst() : n.name();
            counter = 0;
            Attributes a = n.attrs();
            String y = n.outputs().getFirst();
            switch (n.opType()) {
                case "FusedConv", "BlockedConv" -> { // a blocked value's expanded form is its plain one
                    Map<String, Attribute> conv = new LinkedHashMap<>(n.attributes());
                    conv.keySet().removeAll(Set.of("activation", "activation_alpha", "activation_beta"));
                    String c = node("Conv", n.inputs().subList(0, Math.min(3, n.inputs().size())), conv);
                    finish(n, c, y);
                }
                case "FusedGemm" -> finish(n, gemm(n, a), y);
                case "FusedElementwise" -> elementwiseChain(n, y);
                case "BlockedPool" -> {
                    Map<String, Attribute> pool = new LinkedHashMap<>(n.attributes());
                    pool.remove("pool");
                    emit(a.getString("pool", ""), n.inputs(), y, pool);
                }
                case "Unblock" -> emit("Identity", n.inputs(), y, Map.of());
                case "Silu" -> emit("Mul", List.of(n.inputs().getFirst(), node("Sigmoid", List.of(n.inputs().getFirst()), Map.of())), y, Map.of());
                case "Gelu" -> gelu(n.inputs().getFirst(), y);
                case "LayerNormalization" -> layerNorm(n, a, y);
                case "Softmax" -> softmax(n.inputs().getFirst(), a.getInt("axis", -1), y);
                default -> throw OnnxrunException.unsupported(n.describe() + ": no standard ONNX form known");
            }
        }

        /** Adds the residual (input 3) and applies the activation, ending in {@code y}. */
        private void finish(Node n, String value, String y) {
            String v = n.inputs().size() > 3 && !n.inputs().get(3).isEmpty() ? node("Add", List.of(value, n.inputs().get(3)), Map.of()) : value;
            Attributes a = n.attrs();
            float alpha = a.getFloat("activation_alpha", 0f), beta = a.getFloat("activation_beta", 0f);
            switch (a.getString("activation", "None")) {
                case "None" -> emit("Identity", List.of(v), y, Map.of());
                case "Relu", "Sigmoid", "Tanh" -> emit(a.getString("activation", ""), List.of(v), y, Map.of());
                case "LeakyRelu" -> emit("LeakyRelu", List.of(v), y, Map.of("alpha", Attribute.of("alpha", alpha)));
                case "HardSigmoid" -> emit("HardSigmoid", List.of(v), y, Map.of("alpha", Attribute.of("alpha", alpha), "beta", Attribute.of("beta", beta)));
                case "HardSwish" -> {
                    if (opset >= 14) emit("HardSwish", List.of(v), y, Map.of());
                    else emit("Mul", List.of(v, node("HardSigmoid", List.of(v), Map.of("alpha", Attribute.of("alpha", 1f / 6), "beta", Attribute.of("beta", 0.5f)))), y, Map.of());
                }
                case "Clip" -> {
                    if (opset >= 11) emit("Clip", List.of(v, scalar(alpha, v), scalar(beta, v)), y, Map.of());
                    else emit("Clip", List.of(v), y, Map.of("min", Attribute.of("min", alpha), "max", Attribute.of("max", beta)));
                }
                case "Silu" -> emit("Mul", List.of(v, node("Sigmoid", List.of(v), Map.of())), y, Map.of());
                case "Gelu" -> gelu(v, y);
                default -> throw OnnxrunException.unsupported(n.describe() + ": no standard ONNX form of activation '" + a.getString("activation", "") + "'");
            }
        }

        private String gemm(Node n, Attributes a) {
            boolean transA = a.getInt("transA", 0) != 0, transB = a.getInt("transB", 0) != 0;
            float alpha = a.getFloat("alpha", 1f), beta = a.getFloat("beta", 1f);
            String x = n.inputs().get(0), w = n.inputs().get(1);
            String c = n.inputs().size() > 2 && !n.inputs().get(2).isEmpty() ? n.inputs().get(2) : null;
            boolean matrix = g.typeOf(x) instanceof ValueType.TensorType t && t.hasRank() && t.rank() == 2;
            if (matrix) {
                Map<String, Attribute> attrs = new LinkedHashMap<>();
                attrs.put("transA", Attribute.of("transA", transA ? 1L : 0L));
                attrs.put("transB", Attribute.of("transB", transB ? 1L : 0L));
                attrs.put("alpha", Attribute.of("alpha", alpha));
                attrs.put("beta", Attribute.of("beta", beta));
                return node("Gemm", c == null ? List.of(x, w) : List.of(x, w, c), attrs);
            }
            String rhs = transB ? node("Transpose", List.of(w), Map.of("perm", Attribute.ints("perm", List.of(1L, 0L)))) : w;
            String v = node("MatMul", List.of(x, rhs), Map.of());
            if (alpha != 1) v = node("Mul", List.of(v, scalar(alpha, x)), Map.of());
            if (c != null) v = node("Add", List.of(v, beta == 1 ? c : node("Mul", List.of(c, scalar(beta, x)), Map.of())), Map.of());
            return v;
        }

        private void gelu(String x, String y) {
            if (opset >= 20) {
                emit("Gelu", List.of(x), y, Map.of());
                return;
            }
            String erf = node("Erf", List.of(node("Div", List.of(x, scalar((float) Math.sqrt(2), x)), Map.of())), Map.of());
            String onePlus = node("Add", List.of(erf, scalar(1f, x)), Map.of());
            emit("Mul", List.of(node("Mul", List.of(x, scalar(0.5f, x)), Map.of()), onePlus), y, Map.of());
        }

        private void layerNorm(Node n, Attributes a, String y) {
            if (opset >= 17) {
                emit("LayerNormalization", n.inputs(), y, n.attributes());
                return;
            }
            String x = n.inputs().getFirst();
            long axis = a.getInt("axis", -1);
            int rank = g.typeOf(x) instanceof ValueType.TensorType t && t.hasRank() ? t.rank() : -1;
            if (rank < 0) throw OnnxrunException.unsupported(n.describe() + ": its input's rank is needed to write it in opset " + opset);
            List<Long> axes = new ArrayList<>();
            for (long d = axis < 0 ? axis + rank : axis; d < rank; d++) axes.add(d);
            String mean = reduce("ReduceMean", x, axes);
            String centered = node("Sub", List.of(x, mean), Map.of());
            String variance = reduce("ReduceMean", node("Mul", List.of(centered, centered), Map.of()), axes);
            String std = node("Sqrt", List.of(node("Add", List.of(variance, scalar(a.getFloat("epsilon", 1e-5f), x)), Map.of())), Map.of());
            String normalized = node("Div", List.of(centered, std), Map.of());
            boolean bias = n.inputs().size() > 2 && !n.inputs().get(2).isEmpty();
            String scaled = bias ? node("Mul", List.of(normalized, n.inputs().get(1)), Map.of()) : null;
            if (bias) emit("Add", List.of(scaled, n.inputs().get(2)), y, Map.of());
            else emit("Mul", List.of(normalized, n.inputs().get(1)), y, Map.of());
        }

        private void softmax(String x, long axis, String y) {
            if (opset >= 13) {
                emit("Softmax", List.of(x), y, Map.of("axis", Attribute.of("axis", axis)));
                return;
            }
            String max = reduce("ReduceMax", x, List.of(axis));
            String e = node("Exp", List.of(node("Sub", List.of(x, max), Map.of())), Map.of());
            emit("Div", List.of(e, reduce("ReduceSum", e, List.of(axis))), y, Map.of());
        }

        /** A keepdims reduction over {@code axes}, as an attribute or (ReduceSum 13+, the others 18+) an input. */
        private String reduce(String op, String x, List<Long> axes) {
            boolean axesInput = op.equals("ReduceSum") ? opset >= 13 : opset >= 18;
            Map<String, Attribute> attrs = new LinkedHashMap<>();
            attrs.put("keepdims", Attribute.of("keepdims", 1L));
            if (axesInput) {
                String name = fresh("axes");
                inits.put(name, Tensor.of(axes.stream().mapToLong(Long::longValue).toArray(), axes.size()));
                return node(op, List.of(x, name), attrs);
            }
            attrs.put("axes", Attribute.ints("axes", axes));
            return node(op, List.of(x), attrs);
        }

        /** A scalar constant of {@code like}'s element type. */
        private String scalar(float v, String like) {
            DType t = g.typeOf(like) instanceof ValueType.TensorType tt ? tt.dtype() : DType.FLOAT;
            Tensor c = Tensor.allocate(t);
            c.setDouble(0, v);
            String name = fresh("const");
            inits.put(name, c);
            return name;
        }

        private String fresh(String what) {
            return GraphEdits.freshName(g, inits, base + "/" + what + "_" + counter++);
        }

        /** The chain's ops one after the other, each with its own attributes back under their names. */
        private void elementwiseChain(Node n, String y) {
            List<FusedElementwiseOp.Step> steps = FusedElementwiseOp.steps(n);
            String running = n.inputs().getFirst();
            for (int i = 0; i < steps.size(); i++) {
                FusedElementwiseOp.Step step = steps.get(i);
                List<String> inputs = step.inputs(running, step.operand() > 0 ? n.inputs().get(step.operand()) : null);
                if (i == steps.size() - 1) emit(step.op(), inputs, y, step.attributes());
                else running = node(step.op(), inputs, step.attributes());
            }
        }

        private String node(String op, List<String> inputs, Map<String, Attribute> attrs) {
            String y = fresh(op.toLowerCase(java.util.Locale.ROOT));
            emit(op, inputs, y, attrs);
            return y;
        }

        private void emit(String op, List<String> inputs, String y, Map<String, Attribute> attrs) {
            out.add(new Node(y, "", op, inputs, List.of(y), attrs));
        }
    }
}
