package dev.onnxrun.compiler.training;

import dev.onnxrun.compiler.autodiff.ExpandAutodiffOps;
import dev.onnxrun.compiler.ir.Attribute;
import dev.onnxrun.compiler.ir.Graph;
import dev.onnxrun.compiler.ir.Model;
import dev.onnxrun.compiler.ir.Node;
import dev.onnxrun.compiler.ir.ValueInfo;
import dev.onnxrun.compiler.ir.ValueType;
import dev.onnxrun.compiler.ir.ValueType.TensorType;
import dev.onnxrun.compiler.passes.GraphValidator;
import dev.onnxrun.runtime.DType;
import dev.onnxrun.runtime.OnnxrunException;
import dev.onnxrun.runtime.Tensor;
import dev.onnxrun.runtime.kernels.Optimizers;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One training step as one graph of standard ONNX ops, so that any ONNX runtime can train: the
 * {@link TrainingGraph}'s forward pass, {@link Losses} loss and gradients, optionally the
 * gradients' global-norm clipping, then each parameter's {@link UpdateRule} update written as
 * plain Mul/Add/Sqrt/Div (the arithmetic of {@link Optimizers}, in the parameters' float type),
 * and onnxrun's own gradient helpers expanded to standard ops ({@link ExpandAutodiffOps}).
 *
 * <p><b>Inputs</b>: the images, {@code labels}, every parameter {@code P} and running statistic
 * {@code S} under its name in the model, each parameter's optimizer state {@code P.<state>},
 * {@code step} (int64 scalar: the updates done before this one, 0 at the start) when the rule
 * reads it, and {@code lr} (float scalar: this step's learning rate) when the rate is not a
 * constant of the graph. <b>Outputs</b>: {@code loss}, then {@code X.new} for every input X
 * above except images, labels and lr (the same order), then the logits. Feeding each
 * {@code X.new} back as {@code X} trains; optimizer state and {@code step} start at zero.
 *
 * <p><b>State</b> per parameter, in the order of {@link UpdateRule#initialState}:
 * {@code P.momentum} (momentum and Nesterov SGD: the velocity), {@code P.adam_m} and
 * {@code P.adam_v} (Adam's and AdamW's first and second moments), {@code P.adagrad_sum}
 * (Adagrad's sum of squared gradients), {@code P.rmsprop_square}, then {@code P.rmsprop_mean}
 * when centered and {@code P.rmsprop_momentum} with momentum (RMSprop's running means of the
 * squared gradient and of the gradient, and its momentum buffer); plain SGD has none. Adam reads
 * {@code step} for its bias correction; momentum reads it only with a first-step gradient weight
 * other than 1, Adagrad only with a rate decay.
 */
public final class UpdateGraph {
    /** Name of the step-count input; its output is {@code step.new}. */
    public static final String STEP = "step";
    /** Name of the learning-rate input, when the rate is one. */
    public static final String RATE = "lr";
    /** Suffix of the output that replaces an input. */
    public static final String NEW = ".new";

    private UpdateGraph() {}

    /**
     * What one step computes.
     *
     * @param loss     the loss
     * @param rule     the optimizer
     * @param rate     the learning rate as a constant of the graph, or null for the {@code lr} input
     * @param clipNorm when positive, the gradients are scaled down together so that their global L2 norm is at most this
     */
    public record Options(Losses.Spec loss, UpdateRule rule, Double rate, double clipNorm) {
        public Options {
            if (rate != null && !(rate > 0)) throw OnnxrunException.invalidInput("the learning rate must be positive, got " + rate);
            if (clipNorm < 0) throw OnnxrunException.invalidInput("the clipping norm must be >= 0, got " + clipNorm);
        }

        /** Cross-entropy, the constant rate {@code rate}, no clipping. */
        public static Options of(UpdateRule rule, double rate) { return new Options(Losses.Spec.of("cross-entropy"), rule, rate, 0); }
    }

    /** The training step of {@code inference} (a classifier whose first output is the scores) for batches of {@code batch} samples. */
    public static Model of(Model inference, Options options, int batch) {
        TrainingGraph graphs = TrainingGraph.of(inference);
        Graph g = graphs.training(batch, options.loss()).graph();
        Emitter e = new Emitter(g, options);
        List<ValueInfo> inputs = new ArrayList<>(g.inputs());
        List<ValueInfo> outputs = new ArrayList<>(List.of(new ValueInfo(TrainingGraph.LOSS, g.typeOf(TrainingGraph.LOSS))));
        List<ValueInfo> stateInputs = new ArrayList<>();
        List<ValueInfo> stateOutputs = new ArrayList<>();
        List<String> suffixes = stateSuffixes(options.rule());
        Map<String, String> grads = new LinkedHashMap<>();
        for (String p : graphs.parameters()) grads.put(p, "grad/" + p);
        if (options.clipNorm() > 0) grads = e.clipGlobalNorm(grads, options.clipNorm());
        for (String p : graphs.parameters()) {
            ValueType type = g.typeOf(p);
            List<String> state = suffixes.stream().map(s -> p + "." + s).toList();
            List<String> next = e.update(p, grads.get(p), state);
            outputs.add(e.output(next.getFirst(), p + NEW, type));
            for (int i = 0; i < state.size(); i++) {
                stateInputs.add(e.input(state.get(i), type));
                stateOutputs.add(e.output(next.get(i + 1), state.get(i) + NEW, type));
            }
        }
        graphs.statistics().forEach((stat, updated) -> outputs.add(e.output(updated, stat + NEW, g.typeOf(stat))));
        inputs.addAll(stateInputs);
        outputs.addAll(stateOutputs);
        if (e.step != null) {
            inputs.add(e.input(STEP, TensorType.of(DType.INT64)));
            outputs.add(e.output(e.stepCount(), STEP + NEW, TensorType.of(DType.INT64)));
        }
        if (options.rate() == null) inputs.add(e.input(RATE, TensorType.of(DType.FLOAT)));
        outputs.add(new ValueInfo(graphs.logits(), g.typeOf(graphs.logits())));
        List<Node> nodes = new ArrayList<>(g.nodes());
        nodes.addAll(e.nodes);
        Map<String, Tensor> inits = new LinkedHashMap<>(g.initializers());
        inits.putAll(e.constants);
        Map<String, ValueType> types = new HashMap<>(g.valueTypes());
        for (ValueInfo v : inputs) types.put(v.name(), v.type());
        Graph step = new Graph(g.name(), inputs, outputs, inits, nodes, types);
        Graph expanded = new ExpandAutodiffOps().run(GraphValidator.validate(step), inference.opsets());
        return inference.withGraph(GraphValidator.validate(expanded));
    }

    /** The optimizer-state inputs of each parameter under {@code rule}, as suffixes of its name. */
    public static List<String> stateSuffixes(UpdateRule rule) {
        return switch (rule) {
            case UpdateRule.Momentum m -> m.params().alpha() == 0 ? List.of() : List.of("momentum");
            case UpdateRule.Adam a -> List.of("adam_m", "adam_v");
            case UpdateRule.Adagrad a -> List.of("adagrad_sum");
            case UpdateRule.RmsProp r -> {
                List<String> state = new ArrayList<>(List.of("rmsprop_square"));
                if (r.params().centered()) state.add("rmsprop_mean");
                if (r.params().momentum() > 0) state.add("rmsprop_momentum");
                yield state;
            }
        };
    }

    /** True when {@code rule}'s update depends on the step count, so the graph has a {@code step} input. */
    public static boolean readsStep(UpdateRule rule) {
        return switch (rule) {
            case UpdateRule.Momentum m -> m.params().beta() != 1;
            case UpdateRule.Adam a -> true;
            case UpdateRule.Adagrad a -> a.params().decayFactor() != 0;
            case UpdateRule.RmsProp r -> false;
        };
    }

    /**
     * What the first step reads besides images, labels and a rate input: the model's
     * parameters and running statistics, zero optimizer state, and step 0 when the rule reads it.
     */
    public static Map<String, Tensor> initialValues(Model inference, UpdateRule rule) {
        TrainingGraph graphs = TrainingGraph.of(inference);
        Map<String, Tensor> values = new LinkedHashMap<>(graphs.initialValues());
        for (String p : graphs.parameters()) {
            Tensor x = values.get(p);
            for (String suffix : stateSuffixes(rule)) values.put(p + "." + suffix, Tensor.allocate(x.dtype(), x.shape()));
        }
        if (readsStep(rule)) values.put(STEP, Tensor.scalar(0L));
        return values;
    }

    /** The values the next step reads: each of {@code values} replaced by its {@code .new} output in {@code outputs}. */
    public static Map<String, Tensor> next(Map<String, Tensor> values, Map<String, Tensor> outputs) {
        Map<String, Tensor> next = new LinkedHashMap<>();
        values.keySet().forEach(name -> next.put(name, outputs.get(name + NEW)));
        return next;
    }

    /** Builds the update nodes, their scalar constants (initializers) and fresh names. */
    private static final class Emitter {
        final UpdateRule rule;
        /** The constant learning rate, or null when it is the {@link #RATE} input. */
        final Double rate;
        final List<Node> nodes = new ArrayList<>();
        final Map<String, Tensor> constants = new LinkedHashMap<>();
        private final Set<String> taken = new HashSet<>();
        /** The step input when the rule reads it, else null. */
        final String step;
        private String stepCount;
        private int counter;

        Emitter(Graph g, Options options) {
            this.rule = options.rule();
            this.rate = options.rate();
            g.inputs().forEach(v -> taken.add(v.name()));
            taken.addAll(g.initializers().keySet());
            g.nodes().forEach(n -> taken.addAll(n.outputs()));
            this.step = readsStep(rule) ? STEP : null;
        }

        /** A new graph input named {@code name}; fails when the model already has a value of that name. */
        ValueInfo input(String name, ValueType type) {
            claim(name);
            return new ValueInfo(name, type);
        }

        /** A graph output {@code name} holding {@code value}. */
        ValueInfo output(String value, String name, ValueType type) {
            claim(name);
            nodes.add(new Node(name, "", "Identity", List.of(value), List.of(name), Map.of()));
            return new ValueInfo(name, type);
        }

        private void claim(String name) {
            if (!taken.add(name)) {
                throw OnnxrunException.invalidModel("the model already has a value named '" + name + "', which the training step names an input or output");
            }
        }

        /** step + 1: this update's 1-based count, and the step.new output. */
        String stepCount() {
            if (stepCount == null) stepCount = op("Add", step, constant(Tensor.scalar(1L)));
            return stepCount;
        }

        /** The learning rate as a float scalar, or as a double one for arithmetic that float would round away. */
        private String rate(DType type) {
            if (rate == null) return type == DType.FLOAT ? RATE : cast(RATE, type);
            return type == DType.FLOAT ? scalar(rate) : doubleScalar(rate);
        }

        /**
         * {@code grads} scaled by {@code min(1, maxNorm / (‖grads‖ + 1e-6))}, ‖·‖ the L2 norm over
         * all of them together, as the trainer clips ({@code clip_grad_norm_}).
         */
        Map<String, String> clipGlobalNorm(Map<String, String> grads, double maxNorm) {
            String squares = null;
            for (String g : grads.values()) {
                String sum = op("ReduceSumSquare", List.of(g), Attribute.of("keepdims", 0L));
                squares = squares == null ? sum : op("Add", squares, sum);
            }
            String scale = op("Div", scalar(maxNorm), op("Add", op("Sqrt", squares), scalar(1e-6)));
            String factor = op("Min", scale, scalar(1));
            Map<String, String> clipped = new LinkedHashMap<>();
            grads.forEach((p, g) -> clipped.put(p, op("Mul", g, factor)));
            return clipped;
        }

        /**
         * The new value of {@code x} and of each of its {@code state} inputs after one update
         * from gradient {@code grad}, as {@link Optimizers} computes it (with the step numbering
         * the trainer uses: Adam's count is 1-based, the others' 0-based).
         */
        List<String> update(String x, String grad, List<String> state) {
            return switch (rule) {
                case UpdateRule.Momentum m -> momentum(m.params(), x, withL2(x, grad, m.params().normCoefficient()), state);
                case UpdateRule.Adam a -> adam(a.params(), x, grad, state);
                case UpdateRule.Adagrad a -> adagrad(a.params(), x, withL2(x, grad, a.params().normCoefficient()), state);
                case UpdateRule.RmsProp r -> rmsprop(r.params(), x, withL2(x, grad, r.params().weightDecay()), state);
            };
        }

        /** The gradient with the L2 term {@code λ·x} added. */
        private String withL2(String x, String grad, double lambda) {
            return lambda == 0 ? grad : op("Add", grad, op("Mul", x, scalar(lambda)));
        }

        /** v' = α·v + b·g (b = β, or 1 on the first step); x' = x − rate·v', or x − rate·(g + α·v') for Nesterov. */
        private List<String> momentum(Optimizers.MomentumParams p, String x, String g, List<String> state) {
            String weighted = g;
            if (p.beta() != 1) {
                String first = op("Equal", step, constant(Tensor.scalar(0L)));
                weighted = op("Mul", g, op("Where", first, scalar(1), scalar(p.beta())));
            }
            String velocity = state.isEmpty() ? weighted : op("Add", op("Mul", state.getFirst(), scalar(p.alpha())), weighted);
            String direction = p.mode() == Optimizers.MomentumMode.NESTEROV && p.alpha() != 0
                    ? op("Add", g, op("Mul", velocity, scalar(p.alpha()))) : velocity;
            String next = op("Sub", x, op("Mul", direction, rate(DType.FLOAT)));
            return state.isEmpty() ? List.of(next) : List.of(next, velocity);
        }

        /**
         * Adam (g += λ·x) or AdamW (x ← (1 − rate·λ)·x) at update t = step + 1:
         * m' = β₁·m + (1 − β₁)·g, v' = β₂·v + (1 − β₂)·g²,
         * x' = x − rate / (1 − β₁ᵗ) · m' / (√v' / √(1 − β₂ᵗ) + ε).
         */
        private List<String> adam(Optimizers.AdamWParams p, String x, String grad, List<String> state) {
            String g = p.decoupled() ? grad : withL2(x, grad, p.weightDecay());
            // the scalars in double: 1 − β₂ᵗ for β₂ = 0.999 keeps only 4 of float's digits
            String t = cast(stepCount(), DType.DOUBLE), rate = rate(DType.DOUBLE);
            String one = doubleScalar(1);
            String stepSize = cast(op("Div", rate, op("Sub", one, op("Pow", doubleScalar(p.beta1()), t))), DType.FLOAT);
            String rootCorrection = cast(op("Sqrt", op("Sub", one, op("Pow", doubleScalar(p.beta2()), t))), DType.FLOAT);
            String m = op("Add", op("Mul", state.get(0), scalar(p.beta1())), op("Mul", g, scalar(1 - p.beta1())));
            String v = op("Add", op("Mul", state.get(1), scalar(p.beta2())), op("Mul", op("Mul", g, g), scalar(1 - p.beta2())));
            String kept = x;
            if (p.decoupled() && p.weightDecay() != 0) {
                String keep = op("Sub", one, op("Mul", rate, doubleScalar(p.weightDecay())));
                kept = op("Mul", x, cast(keep, DType.FLOAT));
            }
            String denominator = op("Add", op("Div", op("Sqrt", v), rootCorrection), scalar(p.epsilon()));
            return List.of(op("Sub", kept, op("Mul", stepSize, op("Div", m, denominator))), m, v);
        }

        /** h' = h + g², x' = x − r·g / (√h' + ε) with r = rate / (1 + step·decay). */
        private List<String> adagrad(Optimizers.AdagradParams p, String x, String g, List<String> state) {
            String sum = op("Add", state.getFirst(), op("Mul", g, g));
            String r = rate(DType.FLOAT);
            if (p.decayFactor() != 0) {
                String done = cast(step, DType.FLOAT);
                r = op("Div", r, op("Add", scalar(1), op("Mul", done, scalar(p.decayFactor()))));
            }
            String next = op("Sub", x, op("Mul", r, op("Div", g, op("Add", op("Sqrt", sum), scalar(p.epsilon())))));
            return List.of(next, sum);
        }

        /**
         * s' = α·s + (1 − α)·g²; centered: a' = α·a + (1 − α)·g and d = √(s' − a'²) + ε, else
         * d = √s' + ε; with momentum μ: b' = μ·b + g/d and x' = x − rate·b', else x' = x − rate·g/d.
         */
        private List<String> rmsprop(Optimizers.RmspropParams p, String x, String g, List<String> state) {
            List<String> next = new ArrayList<>(List.of(x));
            String square = op("Add", op("Mul", state.getFirst(), scalar(p.alpha())), op("Mul", op("Mul", g, g), scalar(1 - p.alpha())));
            next.add(square);
            String variance = square;
            if (p.centered()) {
                String mean = op("Add", op("Mul", state.get(1), scalar(p.alpha())), op("Mul", g, scalar(1 - p.alpha())));
                next.add(mean);
                variance = op("Sub", square, op("Mul", mean, mean));
            }
            String direction = op("Div", g, op("Add", op("Sqrt", variance), scalar(p.epsilon())));
            if (p.momentum() > 0) {
                direction = op("Add", op("Mul", state.getLast(), scalar(p.momentum())), direction);
                next.add(direction);
            }
            next.set(0, op("Sub", x, op("Mul", direction, rate(DType.FLOAT))));
            return next;
        }

        private String cast(String x, DType to) { return op("Cast", List.of(x), Attribute.of("to", (long) to.onnxCode())); }

        private String scalar(double value) { return constant(Tensor.scalar((float) value)); }

        private String doubleScalar(double value) { return constant(Tensor.of(new double[] {value})); }

        private String constant(Tensor value) {
            String name = fresh("const");
            constants.put(name, value);
            return name;
        }

        private String op(String type, String... inputs) { return op(type, List.of(inputs)); }

        private String op(String type, List<String> inputs, Attribute... attrs) {
            String out = fresh(type);
            Map<String, Attribute> a = new LinkedHashMap<>();
            for (Attribute attr : attrs) a.put(attr.name(), attr);
            nodes.add(new Node(out, "", type, inputs, List.of(out), a));
            return out;
        }

        private String fresh(String hint) {
            String name;
            do {
                name = "update/" + hint + "/" + counter++;
            } while (!taken.add(name));
            return name;
        }
    }
}
