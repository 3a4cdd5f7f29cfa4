package dev.onnxrun.compiler.training;

import dev.onnxrun.compiler.autodiff.Autodiff;
import dev.onnxrun.compiler.ir.Attribute;
import dev.onnxrun.compiler.ir.Dim;
import dev.onnxrun.compiler.ir.Graph;
import dev.onnxrun.compiler.ir.Model;
import dev.onnxrun.compiler.ir.Node;
import dev.onnxrun.compiler.ir.ValueInfo;
import dev.onnxrun.compiler.ir.ValueType;
import dev.onnxrun.compiler.ir.ValueType.TensorType;
import dev.onnxrun.runtime.DType;
import dev.onnxrun.runtime.OnnxrunException;
import dev.onnxrun.runtime.Tensor;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The graphs a classifier is trained and evaluated with, built from its inference model.
 *
 * <p><b>Training graph.</b> The forward graph with every BatchNormalization switched to training
 * mode (batch statistics normalize; the updated running statistics become extra outputs), every
 * Dropout (opset 12 on) too (a random mask per step, which its gradient reads), a loss of
 * {@link Losses} (by default {@code SoftmaxCrossEntropyLoss}, reduction mean) of the first
 * output against int64 labels, and the backward pass from {@link Autodiff}. Parameters and running statistics are graph
 * inputs rather than initializers, so the graph is compiled once and the trainer feeds the
 * current values every step. Outputs: the loss, {@code grad/<p>} per parameter, the logits, and
 * each updated running statistic.
 *
 * <p><b>Evaluation graph.</b> The inference model unchanged (BatchNormalization reads the
 * running statistics) except that parameters and statistics are inputs too.
 *
 * <p><b>Parameters</b> are the float initializers of rank at least 1 that are not running
 * statistics: rank-0 initializers are constants of the network's formulas (a Gelu's √2, a
 * dropout ratio), not weights.
 */
public final class TrainingGraph {
    /** Name of the labels input of the training graph. */
    public static final String LABELS = "labels";
    /** Name of the loss output of the training graph. */
    public static final String LOSS = "loss";
    /** The true constant that switches Dropout to training mode. */
    private static final String TRAINING_MODE = "dropout/training_mode";

    private final Model inference;
    private final String images;
    private final String logits;
    private final List<String> parameters;
    /** Running statistic (a BatchNormalization's mean or var input) → its updated value in the training graph. */
    private final Map<String, String> statistics;
    private final Graph fedInference;
    private final Model evaluation;

    private TrainingGraph(Model model) {
        this.inference = model.withGraph(separateAliases(model.graph()));
        Graph g = inference.graph();
        if (g.runtimeInputs().size() != 1 || g.outputs().isEmpty()) {
            throw OnnxrunException.unsupported("training needs a model with one input (the images) and the logits as first output, "
                    + "this one has inputs " + g.runtimeInputs().stream().map(ValueInfo::name).toList());
        }
        this.images = g.runtimeInputs().getFirst().name();
        this.logits = g.outputs().getFirst().name();
        Set<String> stats = new LinkedHashSet<>();
        for (Node n : g.nodes()) {
            if (n.opType().equals("BatchNormalization") && n.domain().isEmpty()) {
                if (inference.opsets().version("") < 14) {
                    throw OnnxrunException.unsupported(n.describe() + ": training BatchNormalization needs opset 14 or later, the model has "
                            + inference.opsets().version(""));
                }
                stats.add(n.inputs().get(3));
                stats.add(n.inputs().get(4));
            }
        }
        List<String> params = new ArrayList<>();
        g.initializers().forEach((name, t) -> {
            if (t.dtype() == DType.FLOAT && t.rank() > 0 && !stats.contains(name)) params.add(name);
        });
        if (params.isEmpty()) throw OnnxrunException.unsupported("the model has no float initializers to train");
        for (String s : stats) {
            if (!g.initializers().containsKey(s)) {
                throw OnnxrunException.unsupported("BatchNormalization running statistic '" + s + "' is computed, not an initializer");
            }
        }
        this.parameters = List.copyOf(params);
        this.statistics = new LinkedHashMap<>();
        stats.forEach(s -> statistics.put(s, "updated/" + s));
        Set<String> fed = new LinkedHashSet<>(parameters);
        fed.addAll(stats);
        this.fedInference = withInputs(g, fed);
        this.evaluation = inference.withGraph(fedInference);
    }

    /** The training and evaluation graphs of {@code inference}, a classifier whose first output is the logits. */
    public static TrainingGraph of(Model inference) {
        return new TrainingGraph(inference);
    }

    /**
     * {@code g} with each {@code Identity} of an initializer replaced by an initializer of its
     * own. PyTorch's exporter stores equal tensors once (a fresh BatchNorm's running variance
     * and its scale are both ones) and aliases the second through an Identity; trained, the two
     * must move apart.
     */
    private static Graph separateAliases(Graph g) {
        Map<String, Tensor> inits = new LinkedHashMap<>(g.initializers());
        Set<String> outputs = new java.util.HashSet<>();
        g.outputs().forEach(v -> outputs.add(v.name()));
        List<Node> nodes = new ArrayList<>();
        for (Node n : g.nodes()) {
            boolean alias = n.opType().equals("Identity") && n.domain().isEmpty() && g.initializers().containsKey(n.inputs().getFirst())
                    && !outputs.contains(n.outputs().getFirst());
            if (alias) inits.put(n.outputs().getFirst(), g.initializers().get(n.inputs().getFirst()));
            else nodes.add(n);
        }
        return new Graph(g.name(), g.inputs(), g.outputs(), inits, nodes, g.valueTypes());
    }

    /** {@code g} with the initializers named in {@code fed} turned into graph inputs of the same type. */
    private static Graph withInputs(Graph g, Set<String> fed) {
        Map<String, Tensor> inits = new LinkedHashMap<>(g.initializers());
        List<ValueInfo> inputs = new ArrayList<>(g.inputs().stream().filter(v -> !fed.contains(v.name())).toList());
        Map<String, ValueType> types = new HashMap<>(g.valueTypes());
        for (String name : fed) {
            Tensor t = inits.remove(name);
            TensorType type = TensorType.of(t.dtype(), t.shape());
            inputs.add(new ValueInfo(name, type));
            types.put(name, type);
        }
        return new Graph(g.name(), inputs, g.outputs(), inits, g.nodes(), types);
    }

    /**
     * The training graph for batches of {@code batch} images and the loss {@code loss}: inputs
     * images, labels, parameters and statistics; see the class comment for outputs. The batch
     * size is static because some gradient rules (Conv's) need static shapes.
     */
    public Model training(int batch, Losses.Spec loss) {
        Graph g = fedInference;
        List<Node> nodes = new ArrayList<>();
        Map<String, Tensor> initializers = new LinkedHashMap<>(g.initializers());
        for (Node n : g.nodes()) {
            boolean dropout = n.opType().equals("Dropout") && n.domain().isEmpty() && inference.opsets().version("") >= 12;
            if (dropout) initializers.put(TRAINING_MODE, Tensor.of(new boolean[] {true}, new long[0]));
            nodes.add(n.opType().equals("BatchNormalization") && n.domain().isEmpty() ? trainingMode(n) : dropout ? dropoutTraining(n) : n);
        }
        Map<String, ValueType> types = new HashMap<>(g.valueTypes());
        if (!(g.typeOf(images) instanceof TensorType imageType) || !imageType.hasRank()) {
            throw OnnxrunException.unsupported("input '" + images + "' needs a declared rank to train");
        }
        List<Dim> imageDims = new ArrayList<>(imageType.dims());
        imageDims.set(0, Dim.of(batch));
        List<ValueInfo> inputs = new ArrayList<>();
        for (ValueInfo v : g.inputs()) inputs.add(v.name().equals(images) ? new ValueInfo(images, new TensorType(imageType.dtype(), imageDims)) : v);
        types.put(images, new TensorType(imageType.dtype(), imageDims));
        TensorType labelType = TensorType.of(DType.INT64, batch);
        inputs.add(new ValueInfo(LABELS, labelType));
        types.put(LABELS, labelType);
        if (loss.reduction() == Losses.Reduction.NONE) throw OnnxrunException.invalidInput("training needs a scalar loss: reduction mean or sum");
        DType scores = g.typeOf(logits) instanceof TensorType t ? t.dtype() : DType.FLOAT;
        Losses.append(loss, logits, LABELS, true, scores, inference.opsets().version(""), nodes, initializers, LOSS);
        Graph forward = new Graph(g.name() + "_training", inputs, List.of(new ValueInfo(LOSS, ValueType.UNKNOWN)), initializers,
                nodes, types);
        Graph backward = Autodiff.backward(forward, inference.opsets(), LOSS, parameters);
        List<ValueInfo> outputs = new ArrayList<>(backward.outputs());
        outputs.add(new ValueInfo(logits, backward.typeOf(logits)));
        statistics.forEach((stat, updated) -> outputs.add(new ValueInfo(updated, backward.typeOf(stat))));
        return inference.withGraph(new Graph(backward.name(), backward.inputs(), outputs, backward.initializers(), backward.nodes(),
                backward.valueTypes()));
    }

    /** BatchNormalization(x, γ, β, mean, var) in training mode, its updated statistics written to {@link #statistics}. */
    private Node trainingMode(Node n) {
        Map<String, Attribute> attrs = new LinkedHashMap<>(n.attributes());
        attrs.put("training_mode", Attribute.of("training_mode", 1L));
        List<String> outputs = List.of(n.outputs().getFirst(), statistics.get(n.inputs().get(3)), statistics.get(n.inputs().get(4)));
        return new Node(n.name(), n.domain(), n.opType(), n.inputs(), outputs, attrs);
    }

    /** Dropout(x, ratio) in training mode, with the mask output its gradient needs. */
    private static Node dropoutTraining(Node n) {
        List<String> inputs = List.of(n.inputs().getFirst(), n.inputs().size() > 1 ? n.inputs().get(1) : "", TRAINING_MODE);
        String mask = n.outputs().size() > 1 && !n.outputs().get(1).isEmpty() ? n.outputs().get(1) : "mask/" + n.outputs().getFirst();
        return new Node(n.name(), n.domain(), n.opType(), inputs, List.of(n.outputs().getFirst(), mask), n.attributes());
    }

    /** The inference graph with parameters and statistics as inputs. */
    public Model evaluation() { return evaluation; }

    /** The inference model with {@code values} (parameters and statistics by name) as its initializers. */
    public Model inference(Map<String, Tensor> values) {
        Graph g = inference.graph();
        Map<String, Tensor> inits = new LinkedHashMap<>(g.initializers());
        values.forEach((name, t) -> {
            if (inits.containsKey(name)) inits.put(name, t);
        });
        return inference.withGraph(new Graph(g.name(), g.inputs(), g.outputs(), inits, g.nodes(), g.valueTypes()));
    }

    /** Name of the images input. */
    public String images() { return images; }

    /** Name of the logits output. */
    public String logits() { return logits; }

    /** The trained initializers, in the model's order. */
    public List<String> parameters() { return parameters; }

    /** Running statistics → the training graph's output holding their updated values. */
    public Map<String, String> statistics() { return java.util.Collections.unmodifiableMap(statistics); }

    /** The initial values of parameters and statistics. */
    public Map<String, Tensor> initialValues() {
        Map<String, Tensor> v = new LinkedHashMap<>();
        parameters.forEach(p -> v.put(p, inference.graph().initializers().get(p)));
        statistics.keySet().forEach(s -> v.put(s, inference.graph().initializers().get(s)));
        return v;
    }
}
