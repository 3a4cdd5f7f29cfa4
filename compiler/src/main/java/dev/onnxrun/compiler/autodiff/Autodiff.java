package dev.onnxrun.compiler.autodiff;

import dev.onnxrun.compiler.ir.Attribute;
import dev.onnxrun.compiler.ir.Graph;
import dev.onnxrun.compiler.ir.Node;
import dev.onnxrun.compiler.ir.OpsetImports;
import dev.onnxrun.compiler.ir.ValueInfo;
import dev.onnxrun.compiler.ir.ValueType;
import dev.onnxrun.compiler.ops.OpDef;
import dev.onnxrun.compiler.ops.OpRegistry;
import dev.onnxrun.compiler.passes.GraphValidator;
import dev.onnxrun.compiler.passes.InferTypes;
import dev.onnxrun.runtime.OnnxrunException;
import dev.onnxrun.runtime.Tensor;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reverse-mode automatic differentiation that writes the backward pass as more nodes of the
 * same IR, so it is optimized, planned and run like any other graph.
 *
 * <p><b>Which nodes.</b> The engine differentiates one value y (a scalar loss, or any tensor
 * whose gradient is seeded with ones) with respect to a set of values xs (parameters or
 * inputs). Only nodes between them matter: a forward sweep marks every floating-point value that
 * depends on an x ("requires a gradient"), a backward sweep from y marks every value y depends on; a node is
 * on the path when it reads a marked-forward value and writes a marked-backward one. Nothing
 * else gets backward nodes, so integer index chains, shape computations and branches that never
 * reach the loss cost nothing.
 *
 * <p><b>Order and accumulation.</b> The forward graph is topologically ordered (it has passed
 * {@link GraphValidator}); walking the path nodes in reverse visits each node after every
 * consumer of its outputs. A value read by several nodes receives one gradient contribution per
 * read; when the walk reaches the value's producer, the contributions are added by one
 * {@code Sum} node. The gradient of y itself is seeded with ones of y's shape
 * ({@code ConstantOfShape(Shape(y))}).
 *
 * <p><b>Rules.</b> Each op's gradient lives in its registry entry ({@link OpDef#gradient()}).
 * A rule sees the forward node, the static types of every forward value (from
 * {@link InferTypes}), its compile-time constants and the incoming gradients, and emits backward
 * nodes through a {@link GradientBuilder}; it returns one gradient name per input. A path node
 * whose op has no rule is an error naming the node, since a silently missing term would give a
 * wrong gradient.
 *
 * <p><b>Result.</b> {@link #backward} returns the forward graph plus the backward nodes, with the
 * loss and one {@code grad/<x>} output per x; an x that y does not depend on gets zeros.
 * {@link #emit} returns only the backward nodes, for passes that splice them into a graph
 * (the {@code Gradient} op of {@code ai.onnx.preview.training}).
 */
public final class Autodiff {
    private Autodiff() {}

    /** Backward nodes, and the value holding d y / d x for each x. */
    public record Backward(List<Node> nodes, Map<String, String> gradients) {}

    /**
     * The forward graph with its outputs replaced by {@code loss} and {@code grad/<p>} for each
     * parameter {@code p}, the backward nodes appended. The result passes {@link GraphValidator}.
     */
    public static Graph backward(Graph forward, OpsetImports opsets, String loss, Collection<String> params) {
        Graph g = GraphValidator.validate(forward);
        InferTypes.Result typed = InferTypes.run(g, opsets);
        g = typed.graph();
        ValueType lossType = g.typeOf(loss);
        if (lossType instanceof ValueType.TensorType t && t.isStatic() && dev.onnxrun.runtime.Shapes.size(t.shape()) != 1) {
            throw OnnxrunException.invalidModel("loss '" + loss + "' must be a scalar, has type " + t);
        }
        Backward b = emit(g, typed.constants(), opsets, loss, List.copyOf(params));
        List<Node> nodes = new ArrayList<>(g.nodes());
        nodes.addAll(b.nodes());
        List<ValueInfo> outputs = new ArrayList<>();
        outputs.add(new ValueInfo(loss, g.typeOf(loss)));
        Map<String, ValueType> types = new LinkedHashMap<>(g.valueTypes());
        for (String p : params) {
            String out = "grad/" + p;
            nodes.add(new Node(out, "", "Identity", List.of(b.gradients().get(p)), List.of(out), Map.of()));
            outputs.add(new ValueInfo(out, g.typeOf(p)));
            types.put(out, g.typeOf(p));
        }
        return GraphValidator.validate(new Graph(g.name() + "_backward", g.inputs(), outputs, g.initializers(), nodes, types));
    }

    /**
     * The backward nodes computing d y / d x for each of {@code xs} in {@code g} (typed, in
     * topological order, with {@code constants} its compile-time values), seeding d y with ones.
     */
    public static Backward emit(Graph g, Map<String, Tensor> constants, OpsetImports opsets, String y, List<String> xs) {
        Set<String> requiresGrad = dependents(g, xs);
        Set<String> reachesY = ancestors(g, y);
        Set<String> taken = allNames(g);
        GradientBuilder.Emitter emitter = new GradientBuilder.Emitter(taken);
        Map<String, ValueType> types = new HashMap<>(g.valueTypes());

        Map<String, List<String>> contributions = new HashMap<>();
        // emits what belongs to no forward node: the seed, the Sums of contributions, zeros for unreached xs
        GradientBuilder root = new GradientBuilder(new Node("seed of " + y, "", "Identity", List.of(y), List.of(y), Map.of()),
                opsets, types, constants, List.of(), requiresGrad, emitter);
        contributions.computeIfAbsent(y, k -> new ArrayList<>()).add(root.filledLike(1, y));

        Map<String, String> total = new HashMap<>();
        List<Node> nodes = g.nodes();
        for (int k = nodes.size() - 1; k >= 0; k--) {
            Node n = nodes.get(k);
            if (!onPath(n, requiresGrad, reachesY)) continue;
            List<String> dys = new ArrayList<>();
            boolean any = false;
            for (String out : n.outputs()) {
                String d = out.isEmpty() ? null : accumulate(out, contributions, total, root);
                dys.add(d);
                if (d != null) {
                    any = true;
                    types.put(d, g.typeOf(out));
                }
            }
            if (!any) continue;
            OpDef def = OpRegistry.get().find(n.domain(), n.opType(), opsets.version(n.domain()));
            OpDef.GradientRule rule = def == null ? null : OpRegistry.get().gradientOf(def);
            if (rule == null) {
                throw OnnxrunException.unsupported(n.describe() + ": no gradient rule for op "
                        + (n.domain().isEmpty() ? n.opType() : n.domain() + "." + n.opType())
                        + ", which lies between the differentiated values and '" + y + "'");
            }
            List<String> grads;
            try {
                grads = rule.backward(new GradientBuilder(n, opsets, types, constants, dys, requiresGrad, emitter));
            } catch (OnnxrunException e) {
                throw e.getMessage().contains(n.describe()) ? e : e.at(n.describe() + " gradient");
            }
            for (int i = 0; i < n.inputs().size() && i < grads.size(); i++) {
                String in = n.inputs().get(i);
                if (grads.get(i) != null && requiresGrad.contains(in)) {
                    contributions.computeIfAbsent(in, v -> new ArrayList<>()).add(grads.get(i));
                }
            }
        }
        Map<String, String> gradients = new LinkedHashMap<>();
        for (String x : xs) {
            String d = accumulate(x, contributions, total, root);
            gradients.put(x, d != null ? d : root.zerosLike(x));
        }
        return new Backward(List.copyOf(emitter.nodes), gradients);
    }

    /** The summed gradient of {@code value}, emitting a Sum for several contributions; null for none. */
    private static String accumulate(String value, Map<String, List<String>> contributions, Map<String, String> total,
                                     GradientBuilder b) {
        if (total.containsKey(value)) return total.get(value);
        List<String> parts = contributions.get(value);
        String sum = parts == null ? null : parts.size() == 1 ? parts.getFirst() : b.op("Sum", parts);
        total.put(value, sum);
        return sum;
    }

    private static boolean onPath(Node n, Set<String> requiresGrad, Set<String> reachesY) {
        boolean in = n.inputs().stream().anyMatch(requiresGrad::contains);
        boolean out = n.outputs().stream().anyMatch(reachesY::contains);
        return in && out;
    }

    /**
     * {@code xs} and every value computed from one of them, except integer and boolean values:
     * they carry no gradient, so what is computed from them alone (a one-hot of a shape, say)
     * is a constant of the differentiation.
     */
    private static Set<String> dependents(Graph g, List<String> xs) {
        Set<String> marked = new HashSet<>(xs);
        for (Node n : g.nodes()) {
            if (n.inputs().stream().anyMatch(marked::contains)) {
                n.outputs().stream().filter(o -> !o.isEmpty() && !(g.typeOf(o) instanceof ValueType.TensorType t
                        && !t.dtype().isFloatingPoint())).forEach(marked::add);
            }
        }
        return marked;
    }

    /** {@code y} and every value it is computed from. */
    private static Set<String> ancestors(Graph g, String y) {
        Set<String> marked = new HashSet<>(Set.of(y));
        List<Node> nodes = g.nodes();
        for (int k = nodes.size() - 1; k >= 0; k--) {
            Node n = nodes.get(k);
            if (n.outputs().stream().anyMatch(marked::contains)) {
                n.inputs().stream().filter(i -> !i.isEmpty()).forEach(marked::add);
            }
        }
        return marked;
    }

    static Set<String> allNames(Graph g) {
        Set<String> names = new HashSet<>(g.valueTypes().keySet());
        names.addAll(g.initializers().keySet());
        g.inputs().forEach(v -> names.add(v.name()));
        g.nodes().forEach(n -> names.addAll(n.outputs()));
        return names;
    }
}
