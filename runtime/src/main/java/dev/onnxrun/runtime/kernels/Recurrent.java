package dev.onnxrun.runtime.kernels;

import dev.onnxrun.runtime.DType;
import dev.onnxrun.runtime.ExecContext;
import dev.onnxrun.runtime.OnnxrunException;
import dev.onnxrun.runtime.Parallel;
import dev.onnxrun.runtime.Shapes;
import dev.onnxrun.runtime.Tensor;
import java.util.Arrays;
import java.util.Locale;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * The ONNX recurrent layers RNN, GRU and LSTM over a whole sequence. Float32 layers take the
 * vectorized path of {@link RecurrentFloat}; every other type is computed here in double, so one
 * path serves float16, bfloat16 and double (and is the reference the float32 path is tested
 * against). Both do the input projection X·Wᵀ of every time step as one matrix product before
 * the recurrence; only H·Rᵀ is left inside the time loop.
 */
public final class Recurrent {
    private Recurrent() {}

    /** The cell kinds, with how many gates each stacks in W, R and B (in ONNX order). */
    public enum Cell {
        /** One gate: i. */
        RNN(1, 1),
        /** Gates z, r, h. */
        GRU(3, 2),
        /** Gates i, o, f, c. */
        LSTM(4, 3);

        private final int gates;
        private final int activations;

        Cell(int gates, int activations) {
            this.gates = gates;
            this.activations = activations;
        }

        public int gates() { return gates; }

        /** Activation functions per direction: f for RNN; f, g for GRU; f, g, h for LSTM. */
        public int activationsPerDirection() { return activations; }

        /** The ONNX defaults for each direction. */
        public Activation[] defaultActivations() {
            return switch (this) {
                case RNN -> new Activation[] {Activation.of(ActivationKind.TANH)};
                case GRU -> new Activation[] {Activation.of(ActivationKind.SIGMOID), Activation.of(ActivationKind.TANH)};
                case LSTM -> new Activation[] {Activation.of(ActivationKind.SIGMOID), Activation.of(ActivationKind.TANH),
                        Activation.of(ActivationKind.TANH)};
            };
        }
    }

    public enum Direction {
        FORWARD, REVERSE, BIDIRECTIONAL;

        public int count() { return this == BIDIRECTIONAL ? 2 : 1; }

        /** Parses the ONNX attribute value, or fails naming it. */
        public static Direction parse(String s) {
            return switch (s) {
                case "forward" -> FORWARD;
                case "reverse" -> REVERSE;
                case "bidirectional" -> BIDIRECTIONAL;
                default -> throw OnnxrunException.invalidModel("unknown direction '" + s + "'");
            };
        }
    }

    /** The activation functions an ONNX recurrent layer may name, with their default alpha and beta. */
    public enum ActivationKind {
        SIGMOID("Sigmoid", false, false, 0, 0),
        TANH("Tanh", false, false, 0, 0),
        RELU("Relu", false, false, 0, 0),
        HARD_SIGMOID("HardSigmoid", true, true, 0.2, 0.5),
        AFFINE("Affine", true, true, 1.0, 0.0),
        LEAKY_RELU("LeakyRelu", true, false, 0.01, 0),
        THRESHOLDED_RELU("ThresholdedRelu", true, false, 1.0, 0),
        SCALED_TANH("ScaledTanh", true, true, 1.0, 1.0),
        ELU("Elu", true, false, 1.0, 0),
        SOFTSIGN("Softsign", false, false, 0, 0),
        SOFTPLUS("Softplus", false, false, 0, 0);

        private final String onnxName;
        private final boolean usesAlpha;
        private final boolean usesBeta;
        private final double defaultAlpha;
        private final double defaultBeta;

        ActivationKind(String onnxName, boolean usesAlpha, boolean usesBeta, double defaultAlpha, double defaultBeta) {
            this.onnxName = onnxName;
            this.usesAlpha = usesAlpha;
            this.usesBeta = usesBeta;
            this.defaultAlpha = defaultAlpha;
            this.defaultBeta = defaultBeta;
        }

        public boolean usesAlpha() { return usesAlpha; }

        public boolean usesBeta() { return usesBeta; }

        public double defaultAlpha() { return defaultAlpha; }

        public double defaultBeta() { return defaultBeta; }

        /** Looks a name up case-insensitively, as ONNX runtimes do. */
        public static ActivationKind parse(String name) {
            for (ActivationKind k : values()) {
                if (k.onnxName.toLowerCase(Locale.ROOT).equals(name.toLowerCase(Locale.ROOT))) return k;
            }
            throw OnnxrunException.unsupported("unknown recurrent activation '" + name + "'");
        }

        /** The vector form of {@link #apply(double, double, double)}, in float32. */
        FloatVector apply(FloatVector x, float alpha, float beta) {
            return switch (this) {
                case SIGMOID -> dev.onnxrun.runtime.kernels.Activation.sigmoid(x);
                case TANH -> dev.onnxrun.runtime.kernels.Activation.tanh(x);
                case RELU -> x.max(0f);
                case HARD_SIGMOID -> x.fma(alpha, beta).max(0f).min(1f);
                case AFFINE -> x.fma(alpha, beta);
                case LEAKY_RELU -> x.blend(x.mul(alpha), x.lt(0f));
                case THRESHOLDED_RELU -> x.blend(0f, x.compare(VectorOperators.GT, alpha).not());
                case SCALED_TANH -> dev.onnxrun.runtime.kernels.Activation.tanh(x.mul(beta)).mul(alpha);
                case ELU -> x.blend(x.lanewise(VectorOperators.EXPM1).mul(alpha), x.lt(0f));
                case SOFTSIGN -> x.div(x.abs().add(1f));
                case SOFTPLUS -> x.lanewise(VectorOperators.EXP).lanewise(VectorOperators.LOG1P).blend(x, x.compare(VectorOperators.GT, 30f));
            };
        }

        double apply(double x, double alpha, double beta) {
            return switch (this) {
                case SIGMOID -> 1 / (1 + Math.exp(-x));
                case TANH -> Math.tanh(x);
                case RELU -> Math.max(x, 0);
                case HARD_SIGMOID -> Math.max(0, Math.min(1, alpha * x + beta));
                case AFFINE -> alpha * x + beta;
                case LEAKY_RELU -> x >= 0 ? x : alpha * x;
                case THRESHOLDED_RELU -> x > alpha ? x : 0;
                case SCALED_TANH -> alpha * Math.tanh(beta * x);
                case ELU -> x >= 0 ? x : alpha * (Math.exp(x) - 1);
                case SOFTSIGN -> x / (1 + Math.abs(x));
                case SOFTPLUS -> x > 30 ? x : Math.log1p(Math.exp(x));
            };
        }

        /** The derivative at {@code x}; at a kink, the slope of the branch {@link #apply} takes there. */
        double derivative(double x, double alpha, double beta) {
            return switch (this) {
                case SIGMOID -> {
                    double s = 1 / (1 + Math.exp(-x));
                    yield s * (1 - s);
                }
                case TANH -> 1 - Math.tanh(x) * Math.tanh(x);
                case RELU -> x > 0 ? 1 : 0;
                case HARD_SIGMOID -> alpha * x + beta > 0 && alpha * x + beta < 1 ? alpha : 0;
                case AFFINE -> alpha;
                case LEAKY_RELU -> x >= 0 ? 1 : alpha;
                case THRESHOLDED_RELU -> x > alpha ? 1 : 0;
                case SCALED_TANH -> alpha * beta * (1 - Math.tanh(beta * x) * Math.tanh(beta * x));
                case ELU -> x >= 0 ? 1 : alpha * Math.exp(x);
                case SOFTSIGN -> 1 / ((1 + Math.abs(x)) * (1 + Math.abs(x)));
                case SOFTPLUS -> 1 / (1 + Math.exp(-x));
            };
        }
    }

    /** One activation function with its parameters. */
    public record Activation(ActivationKind kind, double alpha, double beta) {
        public static Activation of(ActivationKind kind) {
            return new Activation(kind, kind.defaultAlpha(), kind.defaultBeta());
        }

        public double apply(double x) { return kind.apply(x, alpha, beta); }

        public double derivative(double x) { return kind.derivative(x, alpha, beta); }

        FloatVector apply(FloatVector x) { return kind.apply(x, (float) alpha, (float) beta); }
    }

    /**
     * What a layer computes, fixed when the node is compiled.
     *
     * @param activations       {@code direction.count() * cell.activationsPerDirection()} functions, forward first
     * @param clip              bound on the activations' inputs, or +infinity for none
     * @param hiddenSize        the hidden size, or -1 to take it from R
     * @param inputForget       LSTM: couple the input and forget gates (f = 1 - i)
     * @param linearBeforeReset GRU: apply R_h before multiplying by the reset gate
     * @param batchFirst        layout 1: X, Y, the initial and final states put the batch axis first
     */
    public record Config(Cell cell, Direction direction, Activation[] activations, double clip, long hiddenSize,
                         boolean inputForget, boolean linearBeforeReset, boolean batchFirst) {}

    /** Y, Y_h and (LSTM) Y_c; Y_c is null for RNN and GRU. */
    public record Result(Tensor y, Tensor yH, Tensor yC) {}

    /**
     * The weights W, R, B and P of a float32 layer laid out for {@link #run}, or null when the
     * layer is not float32. A layer whose weights are constants prepares them once, when compiled.
     */
    public static RecurrentFloat.Weights prepare(Config cfg, Tensor w, Tensor r, Tensor b, Tensor peepholes, PackedForm.Stored stored) {
        checkWeights(cfg, w, r, b, peepholes);
        if (w.dtype() != DType.FLOAT || r.dtype() != DType.FLOAT) return null;
        return RecurrentFloat.Weights.of(cfg, w, r, b, peepholes, stored);
    }

    /** {@link #run(Config, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, RecurrentFloat.Weights, ExecContext)} preparing the weights itself, outputs on the heap. */
    public static Result run(Config cfg, Tensor x, Tensor w, Tensor r, Tensor b, Tensor seqLens, Tensor initialH,
                             Tensor initialC, Tensor peepholes, Parallel parallel) {
        return run(cfg, x, w, r, b, seqLens, initialH, initialC, peepholes, null, ExecContext.on(parallel));
    }

    /**
     * Runs the layer. Optional inputs (b, seqLens, initialH, initialC, peepholes) may be null.
     * Shapes follow the ONNX operator: X [seq, batch, input] (or batch first), W [dirs, G·H, input],
     * R [dirs, G·H, H], B [dirs, 2·G·H], sequence_lens [batch], initial states [dirs, batch, H], P [dirs, 3H].
     * {@code prepared} is {@link #prepare}'s result for these weights, or null to prepare them here.
     * The float32 path takes Y, Y_h and Y_c from {@code ctx}'s output memory.
     */
    public static Result run(Config cfg, Tensor x, Tensor w, Tensor r, Tensor b, Tensor seqLens, Tensor initialH,
                             Tensor initialC, Tensor peepholes, RecurrentFloat.Weights prepared, ExecContext ctx) {
        return run(cfg, x, w, r, b, seqLens, initialH, initialC, peepholes, prepared, ctx, null);
    }

    /**
     * What a forward run records for backpropagation through time, per direction, for each time
     * step t and batch row n it computed (row t·batch + n): the states the step read and the
     * gates' pre-activations (before clipping; inputs of the activations), in W's gate order.
     * A GRU with linear_before_reset also keeps H·R_hᵀ + R_bh, which its reset gate scales.
     */
    static final class Tape {
        Layer layer;
        int[] lengths;
        double[][] hPrev, cPrev, pre, linear;

        void allocate(Layer layer, int[] lengths) {
            this.layer = layer;
            this.lengths = lengths;
            int rows = layer.seq * layer.batch;
            hPrev = new double[layer.dirs][rows * layer.hidden];
            cPrev = new double[layer.dirs][rows * layer.hidden];
            pre = new double[layer.dirs][rows * layer.gates * layer.hidden];
            linear = new double[layer.dirs][rows * layer.hidden];
        }
    }

    /** {@link #run}, recording into {@code tape} when it is not null (then in double: the backward pass reads the records). */
    static Result run(Config cfg, Tensor x, Tensor w, Tensor r, Tensor b, Tensor seqLens, Tensor initialH,
                      Tensor initialC, Tensor peepholes, RecurrentFloat.Weights prepared, ExecContext ctx, Tape tape) {
        Parallel parallel = ctx.parallel();
        if (prepared == null) checkWeights(cfg, w, r, b, peepholes);
        Layer layer = new Layer(cfg, x, w, r);
        layer.checkState(initialH, "initial_h");
        layer.checkState(initialC, "initial_c");
        int[] lengths = layer.lengths(seqLens);
        if (tape != null) {
            tape.allocate(layer, lengths);
        } else if (x.dtype() == DType.FLOAT && w.dtype() == DType.FLOAT && r.dtype() == DType.FLOAT) {
            RecurrentFloat.Weights weights = prepared != null ? prepared : RecurrentFloat.Weights.of(cfg, w, r, b, peepholes, PackedForm.Stored.NONE);
            return RecurrentFloat.run(layer, weights, x, lengths, initialH, initialC, ctx);
        }

        double[] xs = layer.inputRows(x);
        DType dtype = x.dtype();
        Tensor y = Tensor.allocate(dtype, layer.outputShape());
        Tensor yH = Tensor.allocate(dtype, layer.stateShape());
        Tensor yC = cfg.cell() == Cell.LSTM ? Tensor.allocate(dtype, layer.stateShape()) : null;
        for (int d = 0; d < layer.dirs; d++) {
            layer.runDirection(d, xs, b, lengths, initialH, initialC, peepholes, y, yH, yC, parallel, tape);
        }
        return new Result(y, yH, yC);
    }

    /** Checks W, R, B and P against each other and the configuration (X's input size is checked by {@link Layer}). */
    private static void checkWeights(Config cfg, Tensor w, Tensor r, Tensor b, Tensor peepholes) {
        if (w.rank() != 3 || r.rank() != 3) {
            throw OnnxrunException.invalidInput("W and R must have rank 3, got " + w.describe() + " and " + r.describe());
        }
        if (cfg.hiddenSize() >= 0 && cfg.hiddenSize() != r.dim(2)) {
            throw OnnxrunException.invalidInput("hidden_size " + cfg.hiddenSize() + " does not match R " + r.describe());
        }
        long dirs = cfg.direction().count(), hidden = r.dim(2), gh = cfg.cell().gates() * hidden;
        check(w, "W", dirs, gh, w.dim(2));
        check(r, "R", dirs, gh, hidden);
        check(b, "B", dirs, 2 * gh);
        check(peepholes, "P", dirs, 3 * hidden);
        int expected = cfg.direction().count() * cfg.cell().activationsPerDirection();
        if (cfg.activations().length != expected) {
            throw OnnxrunException.invalidModel(cfg.activations().length + " activations given, expected " + expected);
        }
    }

    static void check(Tensor t, String name, long... shape) {
        if (t != null && !Arrays.equals(t.shape(), shape)) {
            throw OnnxrunException.invalidInput(name + " has shape " + Shapes.toString(t.shape()) + ", expected " + Shapes.toString(shape));
        }
    }

    /** Dimensions and weights of one invocation (the weights already checked by {@link #checkWeights}). */
    static final class Layer {
        final Config cfg;
        final int seq, batch, input, hidden, dirs, gates;
        final Tensor w, r;

        Layer(Config cfg, Tensor x, Tensor w, Tensor r) {
            this.cfg = cfg;
            this.w = w;
            this.r = r;
            if (x.rank() != 3) throw OnnxrunException.invalidInput("X must have rank 3, got " + x.describe());
            seq = Math.toIntExact(cfg.batchFirst() ? x.dim(1) : x.dim(0));
            batch = Math.toIntExact(cfg.batchFirst() ? x.dim(0) : x.dim(1));
            input = Math.toIntExact(x.dim(2));
            dirs = cfg.direction().count();
            gates = cfg.cell().gates();
            hidden = Math.toIntExact(r.dim(2));
            if (w.dim(2) != input) {
                throw OnnxrunException.invalidInput("W has shape " + Shapes.toString(w.shape()) + ", expected "
                        + Shapes.toString(new long[] {dirs, (long) gates * hidden, input}) + " for X " + x.describe());
            }
        }

        void checkState(Tensor t, String name) { check(t, name, stateShape()); }

        /** Y's shape: [seq, dirs, batch, H], or [batch, seq, dirs, H] under layout 1. */
        long[] outputShape() {
            return cfg.batchFirst() ? new long[] {batch, seq, dirs, hidden} : new long[] {seq, dirs, batch, hidden};
        }

        /** The initial and final states' shape: [dirs, batch, H], or [batch, dirs, H] under layout 1. */
        long[] stateShape() { return cfg.batchFirst() ? new long[] {batch, dirs, hidden} : new long[] {dirs, batch, hidden}; }

        int[] lengths(Tensor seqLens) {
            int[] out = new int[batch];
            Arrays.fill(out, seq);
            if (seqLens == null) return out;
            check(seqLens, "sequence_lens", batch);
            for (int i = 0; i < batch; i++) {
                long len = seqLens.getLong(i);
                if (len < 0 || len > seq) {
                    throw OnnxrunException.invalidInput("sequence_lens[" + i + "] = " + len + " is outside [0, " + seq + "]");
                }
                out[i] = (int) len;
            }
            return out;
        }

        /** The activation functions of direction {@code d}. */
        Activation[] activations(int d) {
            int per = cfg.cell().activationsPerDirection();
            return Arrays.copyOfRange(cfg.activations(), d * per, (d + 1) * per);
        }

        /** Where row (t, n) of X starts, in X's layout. */
        long inputIndex(int t, int n) { return cfg.batchFirst() ? ((long) n * seq + t) * input : ((long) t * batch + n) * input; }

        /** X as [seq·batch, input] rows, time-major whatever the layout. */
        double[] inputRows(Tensor x) {
            double[] rows = new double[Math.toIntExact((long) seq * batch * input)];
            for (int t = 0; t < seq; t++) {
                for (int n = 0; n < batch; n++) {
                    long src = inputIndex(t, n);
                    int dst = (t * batch + n) * input;
                    for (int k = 0; k < input; k++) rows[dst + k] = x.getDouble(src + k);
                }
            }
            return rows;
        }

        /** Index of state element (n, j) of direction d in an initial or final state tensor. */
        long stateIndex(int d, int n, int j) {
            return cfg.batchFirst() ? ((long) n * dirs + d) * hidden + j : ((long) d * batch + n) * hidden + j;
        }

        long outputIndex(int t, int d, int n, int j) {
            return cfg.batchFirst()
                    ? (((long) n * seq + t) * dirs + d) * hidden + j
                    : (((long) t * dirs + d) * batch + n) * hidden + j;
        }

        /** Slice {@code d} of a [dirs, rows, cols] tensor, row-major. */
        static double[] slice(Tensor t, int d) {
            int size = Math.toIntExact(t.dim(1) * t.dim(2));
            double[] out = new double[size];
            for (int i = 0; i < size; i++) out[i] = t.getDouble((long) d * size + i);
            return out;
        }

        /** Slice {@code d} of a [dirs, rows, cols] tensor, transposed to [cols, rows] for row-times-matrix products. */
        static double[] transposedSlice(Tensor t, int d) {
            int rows = (int) t.dim(1), cols = (int) t.dim(2);
            double[] out = new double[rows * cols];
            long base = (long) d * rows * cols;
            for (int i = 0; i < rows; i++) {
                for (int k = 0; k < cols; k++) out[k * rows + i] = t.getDouble(base + (long) i * cols + k);
            }
            return out;
        }

        /** The time step that direction {@code d} processes at {@code step} for a row of length {@code len}: reverse directions walk from its end. */
        int time(int d, int step, int len) { return cfg.direction() == Direction.REVERSE || d == 1 ? len - 1 - step : step; }

        void runDirection(int d, double[] xs, Tensor b, int[] lengths, Tensor initialH,
                          Tensor initialC, Tensor peepholes, Tensor y, Tensor yH, Tensor yC, Parallel parallel, Tape tape) {
            int gh = gates * hidden;
            Cell cell = cfg.cell();
            boolean lbr = cell == Cell.GRU && cfg.linearBeforeReset();
            // Biases: Wb and Rb fold into the input projection, except R_bh of a linear-before-reset GRU,
            // which the reset gate multiplies.
            double[] inBias = new double[gh];
            double[] hBias = new double[hidden];
            if (b != null) {
                long base = (long) d * 2 * gh;
                for (int j = 0; j < gh; j++) {
                    double rb = b.getDouble(base + gh + j);
                    boolean keepApart = lbr && j >= 2 * hidden;
                    inBias[j] = b.getDouble(base + j) + (keepApart ? 0 : rb);
                    if (keepApart) hBias[j - 2 * hidden] = rb;
                }
            }
            double[] projected = new double[Math.toIntExact((long) seq * batch * gh)];
            Products.rowsTimesMatrix(xs, seq * batch, input, transposedSlice(w, d), gh, inBias, projected, parallel);
            double[] rT = transposedSlice(r, d);

            double[] p = new double[3 * hidden];
            if (peepholes != null) for (int j = 0; j < p.length; j++) p[j] = peepholes.getDouble((long) d * 3 * hidden + j);
            double[] h = new double[batch * hidden];
            double[] c = new double[batch * hidden];
            for (int n = 0; n < batch; n++) {
                for (int j = 0; j < hidden; j++) {
                    if (initialH != null) h[n * hidden + j] = initialH.getDouble(stateIndex(d, n, j));
                    if (initialC != null) c[n * hidden + j] = initialC.getDouble(stateIndex(d, n, j));
                }
            }
            Activation[] act = activations(d);
            double[] recurrent = new double[batch * gh];
            double[] scratch = new double[batch * hidden];
            // pre-activations go to the tape when recording, else to a scratch row per batch row
            double[] pre = tape != null ? tape.pre[d] : new double[batch * gh];
            double[] linear = tape != null ? tape.linear[d] : new double[batch * hidden];
            int maxLen = Arrays.stream(lengths).max().orElse(0);
            for (int step = 0; step < maxLen; step++) {
                int rowsOut = cell == Cell.GRU && !lbr ? 2 * hidden : gh;
                // H·Rᵀ for the gates that read H directly; a reset-after GRU's h gate follows below.
                Products.rowsTimesMatrixStrided(h, batch, hidden, rT, gh, rowsOut, recurrent, parallel);
                for (int n = 0; n < batch; n++) {
                    int len = lengths[n];
                    if (step >= len) continue;
                    int t = time(d, step, len);
                    int xo = (t * batch + n) * gh, ro = n * gh, ho = n * hidden;
                    int po = tape != null ? xo : ro, lo = tape != null ? (t * batch + n) * hidden : ho;
                    if (tape != null) {
                        System.arraycopy(h, ho, tape.hPrev[d], lo, hidden);
                        System.arraycopy(c, ho, tape.cPrev[d], lo, hidden);
                    }
                    switch (cell) {
                        case RNN -> {
                            for (int j = 0; j < hidden; j++) {
                                pre[po + j] = projected[xo + j] + recurrent[ro + j];
                                h[ho + j] = act[0].apply(clip(pre[po + j]));
                            }
                        }
                        case LSTM -> lstmStep(act, projected, xo, recurrent, ro, p, h, c, ho, pre, po);
                        case GRU -> {
                            if (!lbr) {
                                // (r ⊙ H)·R_hᵀ: the reset gate is needed before the h gate's product.
                                for (int j = 0; j < hidden; j++) {
                                    pre[po + hidden + j] = projected[xo + hidden + j] + recurrent[ro + hidden + j];
                                    scratch[ho + j] = act[0].apply(clip(pre[po + hidden + j])) * h[ho + j];
                                }
                                Arrays.fill(recurrent, ro + 2 * hidden, ro + gh, 0);
                                Products.rowTimesColumns(scratch, ho, hidden, rT, gh, 2 * hidden, hidden, recurrent, ro + 2 * hidden);
                            }
                            gruStep(act, lbr, projected, xo, recurrent, ro, hBias, h, ho, pre, po, linear, lo);
                        }
                    }
                    for (int j = 0; j < hidden; j++) y.setDouble(outputIndex(t, d, n, j), h[ho + j]);
                }
            }
            for (int n = 0; n < batch; n++) {
                for (int j = 0; j < hidden; j++) {
                    yH.setDouble(stateIndex(d, n, j), h[n * hidden + j]);
                    if (yC != null) yC.setDouble(stateIndex(d, n, j), c[n * hidden + j]);
                }
            }
        }

        /** Row of step t, batch entry n in X (and in the input projection): X's own order, whatever the layout. */
        int inputRow(int t, int n) {
            return cfg.batchFirst() ? n * seq + t : t * batch + n;
        }

        double clip(double v) {
            double bound = cfg.clip();
            return v > bound ? bound : v < -bound ? -bound : v;
        }

        /** One LSTM time step for one batch row; gate order i, o, f, c. Pre-activations go to {@code pre} at {@code po}. */
        void lstmStep(Activation[] act, double[] xw, int xo, double[] hr, int ro, double[] p, double[] h, double[] c, int ho,
                      double[] pre, int po) {
            for (int j = 0; j < hidden; j++) {
                double cPrev = c[ho + j];
                double preI = pre[po + j] = xw[xo + j] + hr[ro + j] + p[j] * cPrev;
                double i = act[0].apply(clip(preI));
                double f;
                if (cfg.inputForget()) {
                    f = 1 - i;
                } else {
                    double preF = pre[po + 2 * hidden + j] = xw[xo + 2 * hidden + j] + hr[ro + 2 * hidden + j] + p[2 * hidden + j] * cPrev;
                    f = act[0].apply(clip(preF));
                }
                double preG = pre[po + 3 * hidden + j] = xw[xo + 3 * hidden + j] + hr[ro + 3 * hidden + j];
                double cNew = f * cPrev + i * act[1].apply(clip(preG));
                double preO = pre[po + hidden + j] = xw[xo + hidden + j] + hr[ro + hidden + j] + p[hidden + j] * cNew;
                c[ho + j] = cNew;
                h[ho + j] = act[0].apply(clip(preO)) * act[2].apply(cNew);
            }
        }

        /**
         * One GRU time step for one batch row; gate order z, r, h. Pre-activations go to
         * {@code pre} at {@code po} (a reset-after GRU's r too: the caller writes it otherwise),
         * a reset-after GRU's H·R_hᵀ + R_bh to {@code linear} at {@code lo}.
         */
        void gruStep(Activation[] act, boolean lbr, double[] xw, int xo, double[] hr, int ro, double[] hBias, double[] h, int ho,
                     double[] pre, int po, double[] linear, int lo) {
            for (int j = 0; j < hidden; j++) {
                double z = act[0].apply(clip(pre[po + j] = xw[xo + j] + hr[ro + j]));
                double preH;
                if (lbr) {
                    double rg = act[0].apply(clip(pre[po + hidden + j] = xw[xo + hidden + j] + hr[ro + hidden + j]));
                    linear[lo + j] = hr[ro + 2 * hidden + j] + hBias[j];
                    preH = xw[xo + 2 * hidden + j] + rg * linear[lo + j];
                } else {
                    preH = xw[xo + 2 * hidden + j] + hr[ro + 2 * hidden + j];
                }
                double hh = act[1].apply(clip(pre[po + 2 * hidden + j] = preH));
                h[ho + j] = (1 - z) * hh + z * h[ho + j];
            }
        }
    }

    /** The small dense products the layers need, on row-major double arrays. */
    static final class Products {
        private Products() {}

        /** Multiply-adds per parallel task: below this, splitting costs more than it saves. */
        private static final long TASK_GRAIN = 1 << 16;

        private static long tasks(int m, int k, int n) {
            return Math.max(1, Math.min(m, (long) m * k * n / TASK_GRAIN));
        }

        /** out[m×n] = a[m×k]·bT[k×n] + bias[n], rows split across the pool. */
        static void rowsTimesMatrix(double[] a, int m, int k, double[] bT, int n, double[] bias, double[] out, Parallel parallel) {
            long tasks = tasks(m, k, n);
            parallel.forRange(tasks, (from, to) -> {
                for (int i = (int) (from * m / tasks), end = (int) (to * m / tasks); i < end; i++) {
                    System.arraycopy(bias, 0, out, i * n, n);
                    rowTimesColumns(a, i * k, k, bT, n, 0, n, out, i * n);
                }
            });
        }

        /** out[m×cols] = a[m×k]·bT[k×n][:, 0..cols), each output row {@code n} apart (the rest untouched). */
        static void rowsTimesMatrixStrided(double[] a, int m, int k, double[] bT, int n, int cols, double[] out, Parallel parallel) {
            long tasks = tasks(m, k, cols);
            parallel.forRange(tasks, (from, to) -> {
                for (int i = (int) (from * m / tasks), end = (int) (to * m / tasks); i < end; i++) {
                    Arrays.fill(out, i * n, i * n + cols, 0);
                    rowTimesColumns(a, i * k, k, bT, n, 0, cols, out, i * n);
                }
            });
        }

        /** out[outOff + j] += Σ_p a[aOff + p]·bT[p·n + colFrom + j] for j in [0, cols). */
        static void rowTimesColumns(double[] a, int aOff, int k, double[] bT, int n, int colFrom, int cols, double[] out, int outOff) {
            for (int p = 0; p < k; p++) {
                double av = a[aOff + p];
                if (av == 0) continue;
                int bo = p * n + colFrom;
                for (int j = 0; j < cols; j++) out[outOff + j] += av * bT[bo + j];
            }
        }
    }
}
