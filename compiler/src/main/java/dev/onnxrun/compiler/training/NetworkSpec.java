package dev.onnxrun.compiler.training;

import dev.onnxrun.compiler.ir.Attribute;
import dev.onnxrun.compiler.ir.Dim;
import dev.onnxrun.compiler.ir.Graph;
import dev.onnxrun.compiler.ir.Model;
import dev.onnxrun.compiler.ir.Node;
import dev.onnxrun.compiler.ir.OpsetImports;
import dev.onnxrun.compiler.ir.ValueInfo;
import dev.onnxrun.compiler.ir.ValueType;
import dev.onnxrun.compiler.ir.ValueType.TensorType;
import dev.onnxrun.compiler.passes.InferTypes;
import dev.onnxrun.runtime.DType;
import dev.onnxrun.runtime.OnnxrunException;
import dev.onnxrun.runtime.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * onnxrun's own network format: one layer per line, in order, each feeding the next.
 *
 * <pre>
 * # LeNet for Fashion-MNIST
 * input float[N,1,28,28]
 * conv 6 kernel 5 pad 2
 * batchnorm
 * relu
 * maxpool 2
 * flatten
 * dense 10
 * loss cross-entropy
 * optimizer adam lr 0.001
 * </pre>
 *
 * Layers: {@code dense UNITS}, {@code conv CHANNELS kernel K [stride S] [pad P] [groups G]},
 * {@code maxpool K [stride S]}, {@code avgpool K [stride S]}, {@code globalavgpool},
 * {@code batchnorm}, {@code layernorm}, {@code dropout P} (its mask seeded from the spec's
 * seed when it trains), {@code flatten}, activations ({@code relu sigmoid tanh gelu softmax
 * logsoftmax}, {@code leakyrelu ALPHA}, {@code elu ALPHA}), {@code embedding VOCAB DIM},
 * {@code lstm HIDDEN}, {@code gru HIDDEN} and {@code rnn HIDDEN} (batch-first input, output: the
 * last step's hidden state), {@code attention HEADS} (multi-head self-attention over
 * [N, T, D] with a residual connection). {@code loss} and {@code optimizer} lines name the
 * training setup and do not add layers. Weights start from seeded He (ReLU-family) or Xavier
 * initialisation, biases at zero. The result is an ordinary ONNX-op graph in the IR.
 */
public final class NetworkSpec {
    /** Opset of the ops the format emits. */
    public static final int OPSET = 17;

    /** A parsed spec: the network as a model, and the training setup its last lines name. */
    public record Parsed(Model model, String loss, String optimizer, Map<String, Double> optimizerParams) {}

    private final SplittableRandom random;
    /** Seeds of the Dropout nodes, apart from {@link #random} so that a dropout line leaves the weights' draws alone. */
    private final SplittableRandom dropoutSeeds;
    private final List<Node> nodes = new ArrayList<>();
    private final Map<String, Tensor> inits = new LinkedHashMap<>();
    private final List<ValueInfo> inputs = new ArrayList<>();
    private String current;
    private int counter;
    private int lineNo;

    private NetworkSpec(long seed) {
        this.random = new SplittableRandom(seed);
        this.dropoutSeeds = new SplittableRandom(~seed);
    }

    public static Parsed read(Path file, long seed) {
        try {
            return parse(Files.readString(file), seed);
        } catch (IOException e) {
            throw OnnxrunException.invalidModel("cannot read " + file + ": " + e.getMessage());
        } catch (OnnxrunException e) {
            throw e.at(file.toString());
        }
    }

    public static Parsed parse(String text, long seed) {
        return new NetworkSpec(seed).parseAll(text);
    }

    private Parsed parseAll(String text) {
        String loss = null, optimizer = null;
        Map<String, Double> params = new LinkedHashMap<>();
        for (String raw : text.split("\n")) {
            lineNo++;
            int hash = raw.indexOf('#');
            String line = (hash >= 0 ? raw.substring(0, hash) : raw).strip().toLowerCase(Locale.ROOT);
            if (line.isEmpty()) continue;
            String[] w = line.split("\\s+");
            try {
                switch (w[0]) {
                    case "input" -> input(w);
                    case "loss" -> loss = word(w, 1, "loss name");
                    case "optimizer" -> {
                        optimizer = word(w, 1, "optimizer name");
                        for (int i = 2; i + 1 < w.length; i += 2) params.put(w[i], number(w[i + 1]));
                    }
                    default -> layer(w);
                }
            } catch (OnnxrunException e) {
                throw e.at("line " + lineNo + " (" + line + ")");
            }
        }
        if (current == null) throw OnnxrunException.invalidModel("network spec has no input line");
        TensorType out = currentType();
        nodes.add(new Node("output", "", "Identity", List.of(current), List.of("output"), Map.of()));
        Graph g = graph(List.of(new ValueInfo("output", out)));
        Model m = new Model(8, "onnxrun-spec", "", new OpsetImports(Map.of("", OPSET)), g, Map.of(), Map.of());
        return new Parsed(m, loss, optimizer, params);
    }

    private Graph graph(List<ValueInfo> outputs) {
        Map<String, ValueType> types = new HashMap<>();
        inputs.forEach(v -> types.put(v.name(), v.type()));
        return new Graph("network", inputs, outputs, inits, nodes, types);
    }

    private void input(String[] w) {
        if (current != null) throw OnnxrunException.invalidModel("only one input line is allowed");
        String type = String.join("", java.util.Arrays.copyOfRange(w, 1, w.length));
        int open = type.indexOf('[');
        if (open < 0 || !type.endsWith("]")) throw OnnxrunException.invalidModel("expected 'input TYPE[DIMS]', e.g. input float[N,784]");
        DType dtype = DType.valueOf(type.substring(0, open).toUpperCase(Locale.ROOT));
        List<Dim> dims = new ArrayList<>();
        for (String d : type.substring(open + 1, type.length() - 1).split(",")) {
            dims.add(Character.isDigit(d.charAt(0)) ? Dim.of(Long.parseLong(d)) : new Dim.Symbolic(d.toUpperCase(Locale.ROOT)));
        }
        inputs.add(new ValueInfo("input", new TensorType(dtype, dims)));
        current = "input";
    }

    private void layer(String[] w) {
        if (current == null) throw OnnxrunException.invalidModel("the input line must come first");
        Map<String, String> opts = options(w);
        switch (w[0]) {
            case "dense" -> dense(count(w, "units"));
            case "conv" -> conv(count(w, "channels"), opts);
            case "maxpool", "avgpool" -> pool(w[0].equals("maxpool") ? "MaxPool" : "AveragePool", count(w, "kernel size"), opts);
            case "globalavgpool" -> op("GlobalAveragePool", Map.of());
            case "batchnorm" -> batchNorm();
            case "layernorm" -> layerNorm();
            case "dropout" -> op("Dropout", Map.of("seed", Attribute.of("seed", (long) dropoutSeeds.nextInt())), current,
                    constant(Tensor.scalar((float) number(word(w, 1, "rate")))));
            case "flatten" -> op("Flatten", Map.of("axis", Attribute.of("axis", 1L)));
            case "relu", "sigmoid", "tanh", "softmax", "logsoftmax" -> activation(w[0]);
            case "gelu" -> gelu();
            case "leakyrelu" -> op("LeakyRelu", Map.of("alpha", Attribute.of("alpha", (float) (w.length > 1 ? number(w[1]) : 0.01))));
            case "elu" -> op("Elu", Map.of("alpha", Attribute.of("alpha", (float) (w.length > 1 ? number(w[1]) : 1.0))));
            case "embedding" -> embedding(count(w, "vocabulary size"), (int) number(word(w, 2, "dimension")));
            case "lstm", "gru", "rnn" -> recurrent(w[0], count(w, "hidden size"));
            case "attention" -> attention(count(w, "heads"));
            default -> throw OnnxrunException.invalidModel("unknown layer '" + w[0] + "'");
        }
    }

    private static Map<String, String> options(String[] w) {
        Map<String, String> m = new HashMap<>();
        for (int i = 2; i + 1 < w.length; i += 2) m.put(w[i], w[i + 1]);
        return m;
    }

    private static int count(String[] w, String what) {
        double v = number(word(w, 1, what));
        if (v < 1 || v != Math.rint(v)) throw OnnxrunException.invalidModel(what + " must be a positive integer");
        return (int) v;
    }

    private static String word(String[] w, int i, String what) {
        if (i >= w.length) throw OnnxrunException.invalidModel("missing " + what);
        return w[i];
    }

    private static double number(String s) {
        try {
            return Double.parseDouble(s);
        } catch (NumberFormatException e) {
            throw OnnxrunException.invalidModel("'" + s + "' is not a number");
        }
    }

    /** The static type of the current value, from type inference over the network so far. */
    private TensorType currentType() {
        return shape(graph(List.of(new ValueInfo(current, ValueType.UNKNOWN))), current);
    }

    private static TensorType shape(Graph g, String value) {
        Graph typed = InferTypes.run(g, new OpsetImports(Map.of("", OPSET))).graph();
        if (!(typed.typeOf(value) instanceof TensorType t) || !t.hasRank()) {
            throw OnnxrunException.invalidModel("cannot tell the shape of '" + value + "'");
        }
        return t;
    }

    private long lastDim() {
        TensorType t = currentType();
        if (!(t.dims().getLast() instanceof Dim.Known k)) throw OnnxrunException.invalidModel("the last dimension must be known here");
        return k.size();
    }

    private long channels() {
        TensorType t = currentType();
        if (t.rank() < 3 || !(t.dims().get(1) instanceof Dim.Known k)) throw OnnxrunException.invalidModel("expected [N, C, ...] with C known");
        return k.size();
    }

    private String fresh(String base) { return base + "_" + (counter++); }

    private String op(String type, Map<String, Attribute> attrs, String... ins) {
        String out = fresh(type.toLowerCase(Locale.ROOT));
        List<String> in = ins.length == 0 ? List.of(current) : List.of(ins);
        nodes.add(new Node(out, "", type, in, List.of(out), attrs));
        current = out;
        return out;
    }

    private String constant(Tensor t) {
        String name = fresh("const");
        inits.put(name, t);
        return name;
    }

    /** A weight of {@code shape} with fan-in scaled uniform values: He for ReLU-family nets, which is the common case here. */
    private String weight(String what, long fanIn, long... shape) {
        Tensor w = Tensor.allocate(DType.FLOAT, shape);
        double limit = Math.sqrt(6.0 / fanIn);
        for (long i = 0; i < w.size(); i++) w.setDouble(i, random.nextDouble(-limit, limit));
        String name = fresh(what);
        inits.put(name, w);
        return name;
    }

    private String filled(String what, float value, long... shape) {
        Tensor t = Tensor.allocate(DType.FLOAT, shape);
        for (long i = 0; i < t.size(); i++) t.setFloat(i, value);
        String name = fresh(what);
        inits.put(name, t);
        return name;
    }

    private void dense(int units) {
        long in = lastDim();
        String b = filled("dense_bias", 0, units);
        if (currentType().rank() == 2) { // [N, in]: one Gemm, weights stored [units, in] as PyTorch's Linear does
            op("Gemm", Map.of("transB", Attribute.of("transB", 1L)), current, weight("dense_weight", in, units, in), b);
        } else { // [N, T, in]: MatMul over the last axis
            String mm = op("MatMul", Map.of(), current, weight("dense_weight", in, in, units));
            op("Add", Map.of(), mm, b);
        }
    }

    private void conv(int out, Map<String, String> opts) {
        long in = channels();
        int k = (int) number(opts.getOrDefault("kernel", "3")), stride = (int) number(opts.getOrDefault("stride", "1"));
        int pad = (int) number(opts.getOrDefault("pad", "0")), groups = (int) number(opts.getOrDefault("groups", "1"));
        if (in % groups != 0 || out % groups != 0) throw OnnxrunException.invalidModel("groups must divide input and output channels");
        int spatial = currentType().rank() - 2;
        long[] wShape = new long[2 + spatial];
        wShape[0] = out;
        wShape[1] = in / groups;
        for (int i = 0; i < spatial; i++) wShape[2 + i] = k;
        String w = weight("conv_weight", (in / groups) * (long) Math.pow(k, spatial), wShape), b = filled("conv_bias", 0, out);
        Map<String, Attribute> attrs = new LinkedHashMap<>();
        attrs.put("kernel_shape", Attribute.ints("kernel_shape", java.util.Collections.nCopies(spatial, (long) k)));
        attrs.put("strides", Attribute.ints("strides", java.util.Collections.nCopies(spatial, (long) stride)));
        attrs.put("pads", Attribute.ints("pads", java.util.Collections.nCopies(2 * spatial, (long) pad)));
        attrs.put("group", Attribute.of("group", (long) groups));
        op("Conv", attrs, current, w, b);
    }

    private void pool(String type, int k, Map<String, String> opts) {
        int spatial = currentType().rank() - 2;
        int stride = (int) number(opts.getOrDefault("stride", Integer.toString(k)));
        op(type, Map.of("kernel_shape", Attribute.ints("kernel_shape", java.util.Collections.nCopies(spatial, (long) k)),
                "strides", Attribute.ints("strides", java.util.Collections.nCopies(spatial, (long) stride))));
    }

    private void batchNorm() {
        long c = channels();
        op("BatchNormalization", Map.of("epsilon", Attribute.of("epsilon", 1e-5f), "momentum", Attribute.of("momentum", 0.9f)), current,
                filled("bn_scale", 1, c), filled("bn_bias", 0, c), filled("bn_mean", 0, c), filled("bn_var", 1, c));
    }

    private void layerNorm() {
        long d = lastDim();
        op("LayerNormalization", Map.of("axis", Attribute.of("axis", -1L)), current, filled("ln_scale", 1, d), filled("ln_bias", 0, d));
    }

    private void activation(String name) {
        switch (name) {
            case "relu" -> op("Relu", Map.of());
            case "sigmoid" -> op("Sigmoid", Map.of());
            case "tanh" -> op("Tanh", Map.of());
            case "softmax" -> op("Softmax", Map.of("axis", Attribute.of("axis", -1L)));
            default -> op("LogSoftmax", Map.of("axis", Attribute.of("axis", -1L)));
        }
    }

    /** Gelu(x) = x·½(1 + erf(x/√2)), in ops every opset has. */
    private void gelu() {
        String x = current;
        String scaled = op("Div", Map.of(), x, constant(Tensor.scalar((float) Math.sqrt(2))));
        String erf = op("Erf", Map.of(), scaled);
        String plus = op("Add", Map.of(), erf, constant(Tensor.scalar(1f)));
        String half = op("Mul", Map.of(), x, constant(Tensor.scalar(0.5f)));
        op("Mul", Map.of(), half, plus);
    }

    private void embedding(int vocab, int dim) {
        String table = weight("embedding", dim, vocab, dim);
        op("Gather", Map.of("axis", Attribute.of("axis", 0L)), table, current);
    }

    /** Batch-first recurrence ({@code layout=1}); the output is the last step's hidden state, [N, H]. */
    private void recurrent(String kind, int hidden) {
        long in = lastDim();
        int gates = switch (kind) {
            case "lstm" -> 4;
            case "gru" -> 3;
            default -> 1;
        };
        String w = weight(kind + "_w", in, 1, (long) gates * hidden, in), r = weight(kind + "_r", hidden, 1, (long) gates * hidden, hidden);
        String b = filled(kind + "_b", 0, 1, 2L * gates * hidden);
        String type = kind.toUpperCase(Locale.ROOT);
        String y = fresh(kind + "_y"), yh = fresh(kind + "_h");
        List<String> outs = kind.equals("lstm") ? List.of(y, yh, "") : List.of(y, yh);
        Map<String, Attribute> attrs = new LinkedHashMap<>();
        attrs.put("hidden_size", Attribute.of("hidden_size", (long) hidden));
        attrs.put("layout", Attribute.of("layout", 1L));
        if (type.equals("GRU")) attrs.put("linear_before_reset", Attribute.of("linear_before_reset", 1L));
        nodes.add(new Node(y, "", type, List.of(current, w, r, b), outs, attrs));
        current = yh; // [N, 1, H] with layout 1
        op("Flatten", Map.of("axis", Attribute.of("axis", 1L)));
    }

    /** Multi-head self-attention over [N, T, D] with a residual connection: x + Wo·softmax(QKᵀ/√d)V. */
    private void attention(int heads) {
        long d = lastDim();
        if (d % heads != 0) throw OnnxrunException.invalidModel("model dimension " + d + " is not divisible by " + heads + " heads");
        long dh = d / heads;
        String x = current;
        String shapeHeads = constant(Tensor.of(new long[] {0, 0, heads, dh}, 4));
        String[] qkv = new String[3];
        for (int i = 0; i < 3; i++) {
            String proj = op("MatMul", Map.of(), x, weight("attn_w", d, d, d));
            String split = op("Reshape", Map.of(), proj, shapeHeads);
            long[] perm = i == 1 ? new long[] {0, 2, 3, 1} : new long[] {0, 2, 1, 3};
            qkv[i] = op("Transpose", Map.of("perm", Attribute.ints("perm", java.util.Arrays.stream(perm).boxed().toList())), split);
        }
        String scores = op("MatMul", Map.of(), qkv[0], qkv[1]);
        String scaled = op("Div", Map.of(), scores, constant(Tensor.scalar((float) Math.sqrt(dh))));
        String probs = op("Softmax", Map.of("axis", Attribute.of("axis", -1L)), scaled);
        String ctx = op("MatMul", Map.of(), probs, qkv[2]);
        String merged = op("Transpose", Map.of("perm", Attribute.ints("perm", List.of(0L, 2L, 1L, 3L))), ctx);
        String flat = op("Reshape", Map.of(), merged, constant(Tensor.of(new long[] {0, 0, d}, 3)));
        String projected = op("MatMul", Map.of(), flat, weight("attn_out", d, d, d));
        op("Add", Map.of(), x, projected);
    }
}
