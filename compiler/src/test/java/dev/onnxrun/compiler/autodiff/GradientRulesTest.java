package dev.onnxrun.compiler.autodiff;

import static dev.onnxrun.compiler.autodiff.GradientCheck.check;

import org.junit.jupiter.api.Test;

/** Every gradient rule against central finite differences (see {@link GradientCheck}). */
class GradientRulesTest {
    @Test
    void broadcastingArithmetic() {
        check("graph g(a: double[2,3], b: double[3]) -> (y: double[2,3])\n  y = Add(a, b)", "a", "b");
        check("graph g(a: double[2,1], b: double[1,3]) -> (y: double[2,3])\n  y = Sub(a, b)", "a", "b");
        check("graph g(a: double[2,3], b: double[2,1]) -> (y: double[2,3])\n  y = Mul(a, b)", "a", "b");
        GradientCheck.of("graph g(a: double[2,3], b: double[3]) -> (y: double[2,3])\n  y = Div(a, b)", -1, 1)
                .range(0.5, 2).verify("a", "b");
        GradientCheck.of("graph g(a: double[2,3]) -> (y: double[2,3])\n  e: double[] = [2.5]\n  y = Pow(a, e)", 0.5, 2).verify("a");
        GradientCheck.of("graph g(a: double[2,3], b: double[3]) -> (y: double[2,3])\n  y = Pow(a, b)", 0.5, 2).verify("a", "b");
        check("graph g(a: double[2,3], b: double[3], c: double[1]) -> (y: double[2,3])\n  y = Sum(a, b, c)", "a", "b", "c");
    }

    @Test
    void unaryFunctions() {
        for (String op : new String[] {"Neg", "Relu", "Sigmoid", "Tanh", "Exp", "Abs", "Softplus", "Identity"}) {
            check("graph g(a: double[3,4]) -> (y: double[3,4])\n  y = " + op + "(a)", "a");
        }
        check("graph g(a: double[3,4]) -> (y: double[3,4])\n  y = LeakyRelu(a) {alpha: 0.2}", "a");
        check("graph g(a: double[3,4]) -> (y: double[3,4])\n  y = Elu(a) {alpha: 0.7}", "a");
        check("graph g(a: double[3,4]) -> (y: double[3,4])\n  y = Erf(a)", "a");
        GradientCheck.checkAtOpset(20, "graph g(a: double[3,4]) -> (y: double[3,4])\n  y = Gelu(a)", "a");
        GradientCheck.checkAtOpset(20, "graph g(a: double[3,4]) -> (y: double[3,4])\n  y = Gelu(a) {approximate: \"tanh\"}", "a");
        for (String op : new String[] {"Log", "Sqrt", "Reciprocal"}) {
            GradientCheck.of("graph g(a: double[3,4]) -> (y: double[3,4])\n  y = " + op + "(a)", 0.5, 2).verify("a");
        }
    }

    @Test
    void reusedValuesAccumulate() {
        check("graph g(a: double[2,3]) -> (y: double[2,3])\n  t = Mul(a, a)\n  u = Tanh(a)\n  y = Add(t, u)", "a");
    }

    @Test
    void matrixProducts() {
        check("graph g(a: double[2,3], b: double[3,4]) -> (y: double[2,4])\n  y = MatMul(a, b)", "a", "b");
        check("graph g(a: double[2,2,3], b: double[3,4]) -> (y: double[2,2,4])\n  y = MatMul(a, b)", "a", "b");
        check("graph g(a: double[3], b: double[2,3,4]) -> (y: double[2,4])\n  y = MatMul(a, b)", "a", "b");
        check("graph g(a: double[2,3], b: double[3]) -> (y: double[2])\n  y = MatMul(a, b)", "a", "b");
        for (int ta = 0; ta < 2; ta++) {
            for (int tb = 0; tb < 2; tb++) {
                String a = ta == 0 ? "2,3" : "3,2", b = tb == 0 ? "3,4" : "4,3";
                check("graph g(a: double[" + a + "], b: double[" + b + "], c: double[4]) -> (y: double[2,4])\n"
                        + "  y = Gemm(a, b, c) {transA: " + ta + ", transB: " + tb + ", alpha: 0.5, beta: 2.0}", "a", "b", "c");
            }
        }
        check("graph g(a: double[2,3], b: double[3,4]) -> (y: double[2,4])\n  y = Gemm(a, b)", "a", "b");
        check("graph g(a: double[2,3], b: double[4,3], c: double[2,4]) -> (y: double[2,4])\n  y = Gemm(a, b, c) {transB: 1}", "a", "b", "c");
        check("graph g(a: double[3,2], b: double[3,4], c: double[1]) -> (y: double[2,4])\n  y = Gemm(a, b, c) {transA: 1}", "a", "b", "c");
    }

    @Test
    void shapesAndLayout() {
        check("graph g(a: double[2,3,4]) -> (y: double[4,6])\n  s: int64[2] = [4, 6]\n  y = Reshape(a, s)", "a");
        check("graph g(a: double[2,3,4]) -> (y: double[2,12])\n  y = Flatten(a) {axis: 1}", "a");
        check("graph g(a: double[2,1,4]) -> (y: double[2,4])\n  ax: int64[1] = [1]\n  y = Squeeze(a, ax)", "a");
        check("graph g(a: double[2,4]) -> (y: double[2,1,4])\n  ax: int64[1] = [1]\n  y = Unsqueeze(a, ax)", "a");
        check("graph g(a: double[2,3,4]) -> (y: double[4,2,3])\n  y = Transpose(a) {perm: [2, 0, 1]}", "a");
        check("graph g(a: double[2,3], b: double[2,2]) -> (y: double[2,5])\n  y = Concat(a, b) {axis: 1}", "a", "b");
        check("graph g(a: double[2,5]) -> (y: double[2,2], z: double[2,3])\n  s: int64[2] = [2, 3]\n  y, z = Split(a, s) {axis: 1}", "a");
        check("graph g(a: double[4,5]) -> (y: double[2,2])\n  st: int64[2] = [1, 4]\n  en: int64[2] = [4, 0]\n"
                + "  ax: int64[2] = [0, 1]\n  sp: int64[2] = [2, -2]\n  y = Slice(a, st, en, ax, sp)", "a");
        check("graph g(a: double[5,3]) -> (y: double[2,2,3])\n  i: int64[2,2] = [0, 2, 2, 4]\n  y = Gather(a, i)", "a");
        check("graph g(a: double[3,5]) -> (y: double[3,2])\n  i: int64[2] = [4, -1]\n  y = Gather(a, i) {axis: 1}", "a");
        check("graph g(a: double[3,1]) -> (y: double[2,3,4])\n  s: int64[3] = [2, 3, 4]\n  y = Expand(a, s)", "a");
    }

    @Test
    void reductionsAndSoftmax() {
        check("graph g(a: double[2,3,4]) -> (y: double[2,4])\n  ax: int64[1] = [1]\n  y = ReduceSum(a, ax) {keepdims: 0}", "a");
        check("graph g(a: double[2,3,4]) -> (y: double[1,1,1])\n  y = ReduceSum(a)", "a");
        check("graph g(a: double[2,3,4]) -> (y: double[2,1,1])\n  ax: int64[2] = [-1, 1]\n  y = ReduceMean(a, ax)", "a");
        check("graph g(a: double[2,3,4]) -> (y: double[2,3,4])\n  y = Softmax(a) {axis: 1}", "a");
        check("graph g(a: double[2,3,4]) -> (y: double[2,3,4])\n  y = LogSoftmax(a)", "a");
    }

    @Test
    void losses() {
        for (String reduction : new String[] {"mean", "sum", "none"}) {
            check("graph g(a: double[3,4]) -> (y: double[?])\n  t: int64[3] = [0, 3, 1]\n"
                    + "  y = SoftmaxCrossEntropyLoss(a, t) {reduction: \"" + reduction + "\"}", "a");
            check("graph g(a: double[3,4,2], w: double[4]) -> (y: double[?], p: double[3,4,2])\n  t: int64[3,2] = [0, 3, 1, 1, 2, 3]\n"
                    + "  y, p = SoftmaxCrossEntropyLoss(a, t, w) {reduction: \"" + reduction + "\", ignore_index: 2}", "a");
            check("graph g(a: double[3,4], w: double[4]) -> (y: double[?])\n  t: int64[3] = [0, 3, 1]\n"
                    + "  y = NegativeLogLikelihoodLoss(a, t, w) {reduction: \"" + reduction + "\"}", "a");
        }
    }

    @Test
    void convolution() {
        check("graph g(x: double[2,3,5,5], w: double[4,3,3,3], b: double[4]) -> (y: double[2,4,5,5])\n"
                + "  y = Conv(x, w, b) {pads: [1, 1, 1, 1]}", "x", "w", "b");
        check("graph g(x: double[1,4,7,6], w: double[6,2,3,2]) -> (y: double[?])\n"
                + "  y = Conv(x, w) {group: 2, strides: [2, 2], pads: [1, 0, 0, 1], dilations: [2, 1]}", "x", "w");
        check("graph g(x: double[1,2,6,6], w: double[2,2,3,3]) -> (y: double[?])\n"
                + "  y = Conv(x, w) {auto_pad: \"SAME_UPPER\", strides: [2, 2]}", "x", "w");
        check("graph g(x: double[2,3,7]) -> (y: double[?])\n  w: double[6,1,3] = random\n"
                + "  y = Conv(x, w) {group: 3, pads: [2, 0], dilations: [2], strides: [3]}", "x");
        // stride 1, grouped and dilated; automatic padding in 1-D
        check("graph g(x: double[1,4,7,6], w: double[6,2,3,2]) -> (y: double[?])\n"
                + "  y = Conv(x, w) {group: 2, pads: [2, 1, 0, 1], dilations: [2, 1]}", "x", "w");
        check("graph g(x: double[2,2,6]) -> (y: double[?])\n  w: double[3,2,4] = random\n"
                + "  y = Conv(x, w) {auto_pad: \"SAME_LOWER\"}", "x");
    }

    @Test
    void transposedConvolution() {
        check("graph g(x: double[1,2,3,3], w: double[2,3,3,3], b: double[3]) -> (y: double[?])\n"
                + "  y = ConvTranspose(x, w, b) {strides: [2, 2], pads: [1, 0, 0, 1], output_padding: [1, 0]}", "x", "w", "b");
        check("graph g(x: double[2,4,3,2], w: double[4,1,2,2]) -> (y: double[?])\n"
                + "  y = ConvTranspose(x, w) {group: 2, dilations: [2, 1], strides: [1, 2]}", "x", "w");
        check("graph g(x: double[1,2,3,3], w: double[2,2,3,3]) -> (y: double[?])\n"
                + "  y = ConvTranspose(x, w) {strides: [2, 2], output_shape: [6, 6]}", "x", "w");
        check("graph g(x: double[1,2,4], w: double[2,2,3]) -> (y: double[?])\n"
                + "  y = ConvTranspose(x, w) {auto_pad: \"SAME_LOWER\", strides: [2]}", "x", "w");
    }

    @Test
    void pooling() {
        // distinct inputs, so each window's maximum is unique and the gradient is defined
        check("graph g(x: double[1,2,5,5]) -> (y: double[?])\n  y = MaxPool(x) {kernel_shape: [2, 2], strides: [2, 2], pads: [0, 0, 1, 1]}", "x");
        check("graph g(x: double[1,2,5,5]) -> (y: double[?], i: int64[?])\n  y, i = MaxPool(x) {kernel_shape: [3, 3], strides: [1, 1]}", "x");
        check("graph g(x: double[2,2,5,5]) -> (y: double[?])\n  y = AveragePool(x) {kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1]}", "x");
        check("graph g(x: double[2,2,5,5]) -> (y: double[?])\n"
                + "  y = AveragePool(x) {kernel_shape: [2, 2], strides: [2, 2], pads: [1, 1, 0, 0], count_include_pad: 1, ceil_mode: 1}", "x");
        check("graph g(x: double[2,3,4,5]) -> (y: double[2,3,1,1])\n  y = GlobalAveragePool(x)", "x");
    }

    @Test
    void normalization() {
        check("graph g(x: double[4,3,2,2], s: double[3], b: double[3]) -> (y: double[4,3,2,2])\n"
                + "  m: double[3] = random\n  v: double[3] = [0.5, 1.0, 2.0]\n"
                + "  y, rm, rv = BatchNormalization(x, s, b, m, v) {training_mode: 1, epsilon: 0.001}", "x", "s", "b");
        check("graph g(x: double[4,3,2], s: double[3], b: double[3], m: double[3]) -> (y: double[4,3,2])\n"
                + "  v: double[3] = [0.5, 1.0, 2.0]\n  y = BatchNormalization(x, s, b, m, v)", "x", "s", "b", "m");
        check("graph g(x: double[2,3,4], s: double[4], b: double[4]) -> (y: double[2,3,4])\n"
                + "  y = LayerNormalization(x, s, b) {epsilon: 0.001}", "x", "s", "b");
        check("graph g(x: double[2,3,4], s: double[3,4]) -> (y: double[2,3,4])\n"
                + "  y = LayerNormalization(x, s) {axis: 1}", "x", "s");
    }

    @Test
    void dropout() {
        check("graph g(x: double[2,3]) -> (y: double[2,3])\n  y = Dropout(x)", "x");
        check("graph g(x: double[2,3]) -> (y: double[2,3], m: bool[2,3])\n  r: double[] = [0.0]\n  t: bool[] = [1]\n"
                + "  y, m = Dropout(x, r, t)", "x");
        // a random mask: seeded, so the first run of every compiled model draws the same one
        GradientCheck.of("graph g(x: double[4,5]) -> (y: double[4,5])\n  r: double[] = [0.4]\n  t: bool[] = [1]\n"
                + "  y, m = Dropout(x, r, t) {seed: 7}\n", -1, 1).freshModels().verify("x");
        GradientCheck.of("graph g(x: double[4,5]) -> (y: double[4,5])\n  t: bool[] = [1]\n"
                + "  y, m = Dropout(x, _, t) {seed: 3}\n", -1, 1).freshModels().verify("x");
    }

    /**
     * A recurrent layer's graph: X [seq 3, batch 2, input 2], hidden size 3, {@code gates} gates,
     * {@code dirs} directions; W, R, B and initial_h are inputs ({@code more} declares others),
     * sequence_lens {@code sl} is [3, 1].
     */
    private static String recurrent(int gates, int dirs, String more, String outputs, String node) {
        return "graph g(x: double[3,2,2], w: double[" + dirs + "," + 3 * gates + ",2], r: double[" + dirs + "," + 3 * gates + ",3], "
                + "b: double[" + dirs + "," + 6 * gates + "], h0: double[" + dirs + ",2,3]" + more + ") -> (" + outputs + ")\n"
                + "  sl: int32[2] = [3, 1]\n  " + node;
    }

    private static String states(int dirs, String... names) {
        StringBuilder sb = new StringBuilder("y: double[3," + dirs + ",2,3]");
        for (String n : names) sb.append(", ").append(n).append(": double[").append(dirs).append(",2,3]");
        return sb.toString();
    }

    @Test
    void rnn() {
        check(recurrent(1, 1, "", states(1, "yh"), "y, yh = RNN(x, w, r, b, _, h0) {hidden_size: 3}"), "x", "w", "r", "b", "h0");
        check(recurrent(1, 2, "", states(2, "yh"), "y, yh = RNN(x, w, r, b, sl, h0) {direction: \"bidirectional\"}"),
                "x", "w", "r", "b", "h0");
        check(recurrent(1, 1, "", "yh: double[1,2,3]",
                "_, yh = RNN(x, w, r, b) {direction: \"reverse\", activations: [\"Softsign\"], clip: 5.0}"), "x", "w", "r", "b");
        check(recurrent(1, 1, "", states(1), "y = RNN(x, w, r) {activations: [\"LeakyRelu\"], activation_alpha: [0.3]}"),
                "x", "w", "r");
    }

    @Test
    void gru() {
        for (int lbr = 0; lbr < 2; lbr++) {
            check(recurrent(3, 1, "", states(1, "yh"), "y, yh = GRU(x, w, r, b, _, h0) {linear_before_reset: " + lbr + "}"),
                    "x", "w", "r", "b", "h0");
            check(recurrent(3, 2, "", states(2, "yh"), "y, yh = GRU(x, w, r, b, sl, h0) {direction: \"bidirectional\", "
                    + "linear_before_reset: " + lbr + "}"), "x", "w", "r", "b", "h0");
        }
        check(recurrent(3, 1, "", "yh: double[1,2,3]", "_, yh = GRU(x, w, r, b, sl) {direction: \"reverse\"}"),
                "x", "w", "r", "b");
        check(recurrent(3, 1, "", states(1), "y = GRU(x, w, r, b) {activations: [\"HardSigmoid\", \"Softsign\"], "
                + "activation_alpha: [0.3], activation_beta: [0.4]}"), "x", "w", "r", "b");
    }

    @Test
    void lstm() {
        String c0 = ", c0: double[1,2,3]", c0s = ", c0: double[2,2,3]";
        check(recurrent(4, 1, c0, states(1, "yh", "yc"), "y, yh, yc = LSTM(x, w, r, b, _, h0, c0) {hidden_size: 3}"),
                "x", "w", "r", "b", "h0", "c0");
        check(recurrent(4, 2, c0s + ", p: double[2,9]", states(2, "yh", "yc"),
                "y, yh, yc = LSTM(x, w, r, b, sl, h0, c0, p) {direction: \"bidirectional\"}"), "x", "w", "r", "b", "h0", "c0", "p");
        check(recurrent(4, 1, c0, states(1, "yh", "yc"),
                "y, yh, yc = LSTM(x, w, r, b, sl, h0, c0) {direction: \"reverse\", input_forget: 1}"), "x", "w", "r", "b", "h0", "c0");
        check(recurrent(4, 1, "", "yc: double[1,2,3]", "_, _, yc = LSTM(x, w, r, b, _, h0) {clip: 9.0, "
                + "activations: [\"Sigmoid\", \"Softsign\", \"ScaledTanh\"], activation_alpha: [0.8], activation_beta: [1.2]}"),
                "x", "w", "r", "b", "h0");
        // layout 1: batch first, as the network spec's layers use
        check("graph g(x: double[2,3,2], w: double[1,12,2], r: double[1,12,3], b: double[1,24], h0: double[2,1,3]) "
                + "-> (y: double[2,3,1,3], yh: double[2,1,3])\n  y, yh, _ = LSTM(x, w, r, b, _, h0) {layout: 1}", "x", "w", "r", "b", "h0");
    }

    /** Before opset 13 axes and split sizes are attributes, and Softmax normalizes every axis from its axis on. */
    @Test
    void olderOpsetForms() {
        GradientCheck.checkAtOpset(11, "graph g(a: double[2,3,4]) -> (y: double[2,4])\n  y = ReduceSum(a) {axes: [1], keepdims: 0}", "a");
        GradientCheck.checkAtOpset(11, "graph g(a: double[2,3,4]) -> (y: double[2])\n  y = ReduceMean(a) {axes: [1, 2], keepdims: 0}", "a");
        GradientCheck.checkAtOpset(11, "graph g(a: double[2,3,4]) -> (y: double[2,3,4])\n  y = Softmax(a) {axis: 1}", "a");
        GradientCheck.checkAtOpset(11, "graph g(a: double[2,3,4]) -> (y: double[2,3,4])\n  y = LogSoftmax(a)", "a");
        GradientCheck.checkAtOpset(11, "graph g(a: double[2,3], b: double[2,2]) -> (y: double[2,5])\n  y = Concat(a, b) {axis: 1}", "a", "b");
        GradientCheck.checkAtOpset(11, "graph g(a: double[2,5]) -> (y: double[2,2], z: double[2,3])\n  y, z = Split(a) {axis: 1, split: [2, 3]}", "a");
        GradientCheck.checkAtOpset(11, "graph g(a: double[2,1,4]) -> (y: double[2,4])\n  y = Squeeze(a) {axes: [1]}", "a");
        GradientCheck.checkAtOpset(12, "graph g(a: double[3,4], w: double[4]) -> (y: double[])\n  t: int64[3] = [0, 3, 1]\n"
                + "  y = SoftmaxCrossEntropyLoss(a, t, w)", "a");
    }
}
