package dev.onnxrun.compiler.training;

import dev.onnxrun.compiler.autodiff.GradientBuilder;
import dev.onnxrun.compiler.ir.Attribute;
import dev.onnxrun.compiler.ir.Node;
import dev.onnxrun.runtime.DType;
import dev.onnxrun.runtime.OnnxrunException;
import dev.onnxrun.runtime.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The training losses, each written as standard ONNX nodes so that autodiff differentiates it.
 * All compare the model's scores {@code s} [N, C] with a target:
 *
 * <ul>
 *   <li>{@code cross-entropy}: {@code SoftmaxCrossEntropyLoss(s, labels)}, s being logits;
 *   <li>{@code nll}: {@code NegativeLogLikelihoodLoss(s, labels)}, s being log-probabilities
 *       (a model ending in LogSoftmax);
 *   <li>{@code mse}: {@code (s - t)²}; {@code l1}: {@code |s - t|};
 *   <li>{@code huber}: {@code ½(s - t)²} where {@code |s - t| < δ}, else {@code δ(|s - t| - ½δ)};
 *   <li>{@code bce}: binary cross-entropy of {@code sigmoid(s)} against t, computed stably from the
 *       logits as {@code max(s, 0) - s·t + log(1 + exp(-|s|))};
 *   <li>{@code hinge}: multi-class hinge, PyTorch's {@code MultiMarginLoss} (margin 1, p 1): per
 *       sample {@code Σ_{j≠y} max(0, 1 - s_y + s_j) / C}, y the class t marks;
 *   <li>{@code kl}: {@code KL(t ‖ softmax(s)) = Σ_j t_j (log t_j - logsoftmax(s)_j)} per sample,
 *       with {@code 0 · log 0 = 0}.
 * </ul>
 *
 * Targets: the first two read int64 class labels [N] and take class weights and an ignored
 * label as ONNX defines them. The others read a target t [N, C] of the scores' type; given
 * labels, t is their one-hot encoding (so {@code kl} against one-hot targets equals
 * cross-entropy). Reduction {@code mean} averages the per-element terms of mse, l1, huber and
 * bce (PyTorch's default) and the per-sample terms of hinge and kl (KL's {@code batchmean});
 * {@code sum} adds them; {@code none} leaves [N, C] or [N] (not a training loss).
 */
public final class Losses {
    private Losses() {}

    public enum Reduction {
        NONE, MEAN, SUM;

        public static Reduction parse(String name) {
            try {
                return valueOf(name.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw OnnxrunException.invalidInput("unknown reduction '" + name + "' (expected none, mean or sum)");
            }
        }

        String attribute() { return name().toLowerCase(Locale.ROOT); }
    }

    /** One loss's formula, written through an {@link Emitter}; returns the unreduced loss. */
    private interface Formula {
        String emit(Emitter e, Spec spec, String scores, String target);
    }

    /** A loss of the registry: its formula, and whether it reads class labels (else a dense target). */
    private record Kind(boolean labels, Formula formula) {}

    private static final Map<String, Kind> REGISTRY = registry();

    /** The loss names, in the order the documentation lists them. */
    public static List<String> names() { return List.copyOf(REGISTRY.keySet()); }

    /**
     * A loss and its settings.
     *
     * @param name         a name of {@link #names}
     * @param reduction    how the terms combine
     * @param huberDelta   huber's threshold δ
     * @param classWeights per-class weights (cross-entropy, nll), or null for none
     * @param ignoreIndex  a label whose samples do not count (cross-entropy, nll), or null
     */
    public record Spec(String name, Reduction reduction, double huberDelta, float[] classWeights, Long ignoreIndex) {
        public Spec {
            Kind kind = REGISTRY.get(name);
            if (kind == null) throw OnnxrunException.invalidInput("unknown loss '" + name + "' (expected " + String.join(", ", names()) + ")");
            if (!kind.labels() && (classWeights != null || ignoreIndex != null)) {
                throw OnnxrunException.invalidInput("class weights and an ignored label apply to cross-entropy and nll, not " + name);
            }
            if (!(huberDelta > 0)) throw OnnxrunException.invalidInput("huber's delta must be positive, got " + huberDelta);
        }

        /** The loss {@code name} with mean reduction and no further settings. */
        public static Spec of(String name) { return new Spec(name, Reduction.MEAN, 1, null, null); }

        /** Whether the loss reads class labels itself; the others read a dense target. */
        public boolean readsLabels() { return REGISTRY.get(name).labels(); }
    }

    /**
     * Appends the nodes (and initializers) computing {@code output}, the loss {@code spec} of
     * {@code scores} [N, C] against {@code target}: int64 labels [N] when {@code targetIsLabels}
     * (one-hot encoded for the losses reading a dense target), else a dense target [N, C] of
     * type {@code dtype}. {@code opset} is the default-domain opset the nodes are read at.
     */
    public static void append(Spec spec, String scores, String target, boolean targetIsLabels, DType dtype, int opset,
                              List<Node> nodes, Map<String, Tensor> initializers, String output) {
        Kind kind = REGISTRY.get(spec.name());
        if (kind.labels() && !targetIsLabels) throw OnnxrunException.invalidInput(spec.name() + " needs class labels as its target");
        Emitter e = new Emitter(nodes, initializers, dtype, opset);
        String t = !kind.labels() && targetIsLabels ? e.oneHot(target, scores) : target;
        String terms = kind.formula().emit(e, spec, scores, t);
        String loss = switch (kind.labels() ? Reduction.NONE : spec.reduction()) {
            case NONE -> terms;
            case MEAN -> e.op("ReduceMean", List.of(Attribute.of("keepdims", 0L)), terms);
            case SUM -> e.op("ReduceSum", List.of(Attribute.of("keepdims", 0L)), terms);
        };
        nodes.add(new Node("loss/output", "", "Identity", List.of(loss), List.of(output), Map.of()));
    }

    private static Map<String, Kind> registry() {
        Map<String, Kind> r = new LinkedHashMap<>();
        r.put("cross-entropy", new Kind(true, (e, spec, s, labels) -> e.labelLoss("SoftmaxCrossEntropyLoss", spec, s, labels)));
        r.put("nll", new Kind(true, (e, spec, s, labels) -> e.labelLoss("NegativeLogLikelihoodLoss", spec, s, labels)));
        r.put("mse", new Kind(false, (e, spec, s, t) -> {
            String d = e.op("Sub", s, t);
            return e.op("Mul", d, d);
        }));
        r.put("l1", new Kind(false, (e, spec, s, t) -> e.op("Abs", e.op("Sub", s, t))));
        r.put("huber", new Kind(false, (e, spec, s, t) -> {
            double delta = spec.huberDelta();
            String d = e.op("Sub", s, t), a = e.op("Abs", d);
            String quadratic = e.op("Mul", e.op("Mul", d, d), e.scalar(0.5));
            String linear = e.op("Mul", e.op("Sub", a, e.scalar(delta / 2)), e.scalar(delta));
            return e.op("Where", e.op("Less", a, e.scalar(delta)), quadratic, linear);
        }));
        // max(s, 0) − s·t + log(1 + e^−|s|): exp never overflows; the gradient is sigmoid(s) − t
        r.put("bce", new Kind(false, (e, spec, s, t) -> e.op("Add",
                e.op("Sub", e.op("Relu", s), e.op("Mul", s, t)), e.op("Softplus", e.op("Neg", e.op("Abs", s))))));
        r.put("hinge", new Kind(false, (e, spec, s, t) -> {
            String target = e.reduce("ReduceSum", e.op("Mul", s, t), true);
            String margins = e.op("Relu", e.op("Add", e.op("Sub", e.scalar(1), target), s));
            // the target class's own term (always 1) is masked out; the mean over C divides by C
            return e.reduce("ReduceMean", e.op("Mul", margins, e.op("Sub", e.scalar(1), t)), false);
        }));
        r.put("kl", new Kind(false, (e, spec, s, t) -> {
            String logProbabilities = e.op("LogSoftmax", List.of(Attribute.of("axis", 1L)), s);
            // t·log t with 0·log 0 = 0: the log reads 1 where t is 0
            String safe = e.op("Where", e.op("Greater", t, e.scalar(0)), t, e.scalar(1));
            String pointwise = e.op("Mul", t, e.op("Sub", e.op("Log", safe), logProbabilities));
            return e.reduce("ReduceSum", pointwise, false);
        }));
        return r;
    }

    /** Emits the loss's nodes at one opset, with constants of the scores' element type. */
    private static final class Emitter {
        private final List<Node> nodes;
        private final Map<String, Tensor> initializers;
        private final DType dtype;
        private final int opset;
        private int counter;

        Emitter(List<Node> nodes, Map<String, Tensor> initializers, DType dtype, int opset) {
            this.nodes = nodes;
            this.initializers = initializers;
            this.dtype = dtype;
            this.opset = opset;
        }

        private String fresh() { return "loss/" + counter++; }

        String op(String type, String... inputs) { return op(type, List.of(), inputs); }

        String op(String type, List<Attribute> attrs, String... inputs) {
            String out = fresh();
            Map<String, Attribute> a = new LinkedHashMap<>();
            attrs.forEach(attr -> a.put(attr.name(), attr));
            nodes.add(new Node(out, "", type, Arrays.asList(inputs), List.of(out), a));
            return out;
        }

        String constant(Tensor value) {
            String name = fresh();
            initializers.put(name, value);
            return name;
        }

        String scalar(double value) {
            Tensor t = Tensor.allocate(dtype);
            t.setDouble(0, value);
            return constant(t);
        }

        /** {@code op} over the class axis 1, the axes as an attribute or an input as the opset has it. */
        String reduce(String op, String x, boolean keepDims) {
            int axesAsInputSince = op.equals("ReduceSum") ? 13 : 18;
            Attribute keep = Attribute.of("keepdims", keepDims ? 1L : 0L);
            if (opset >= axesAsInputSince) return op(op, List.of(keep), x, constant(Tensor.of(new long[] {1}, 1)));
            return op(op, List.of(keep, Attribute.ints("axes", GradientBuilder.boxed(1))), x);
        }

        /** One-hot rows [N, C] of {@code labels}, C being the scores' class count. */
        String oneHot(String labels, String scores) {
            String classes = op("Gather", op("Shape", scores), constant(Tensor.scalar(1L)));
            Tensor offOn = Tensor.allocate(dtype, 2);
            offOn.setDouble(1, 1);
            return op("OneHot", List.of(Attribute.of("axis", -1L)), labels, classes, constant(offOn));
        }

        /** SoftmaxCrossEntropyLoss or NegativeLogLikelihoodLoss with the spec's reduction, weights and ignored label. */
        String labelLoss(String op, Spec spec, String scores, String labels) {
            List<Attribute> attrs = new ArrayList<>(List.of(Attribute.of("reduction", spec.reduction().attribute())));
            if (spec.ignoreIndex() != null) attrs.add(Attribute.of("ignore_index", (long) spec.ignoreIndex()));
            if (spec.classWeights() == null) return op(op, attrs, scores, labels);
            Tensor weights = Tensor.allocate(dtype, spec.classWeights().length);
            for (int i = 0; i < spec.classWeights().length; i++) weights.setDouble(i, spec.classWeights()[i]);
            return op(op, attrs, scores, labels, constant(weights));
        }
    }
}
