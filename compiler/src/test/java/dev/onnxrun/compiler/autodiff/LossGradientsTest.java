package dev.onnxrun.compiler.autodiff;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.onnxrun.compiler.ir.Graph;
import dev.onnxrun.compiler.ir.Node;
import dev.onnxrun.compiler.ir.OpsetImports;
import dev.onnxrun.compiler.ir.ValueInfo;
import dev.onnxrun.compiler.ir.ValueType;
import dev.onnxrun.compiler.ir.ValueType.TensorType;
import dev.onnxrun.compiler.training.Losses;
import dev.onnxrun.compiler.training.Losses.Reduction;
import dev.onnxrun.runtime.DType;
import dev.onnxrun.runtime.Tensor;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Every loss of {@link Losses}, each reduction: the autodiff gradient against central finite
 * differences (double precision), and the forward value against the loss's formula computed
 * here element by element.
 */
class LossGradientsTest {
    static final int N = 4, C = 3;
    static final long[] LABELS = {2, 0, 1, 2};
    static final double[] LABEL_VALUES = {2, 0, 1, 2};

    /** The graph (scores double[N, C], target) → loss, the target int64 labels [N] or double [N, C]. */
    static Graph graph(Losses.Spec spec, boolean labels, int opset) {
        List<Node> nodes = new ArrayList<>();
        Map<String, Tensor> inits = new LinkedHashMap<>();
        Losses.append(spec, "s", "t", labels, DType.DOUBLE, opset, nodes, inits, "loss");
        TensorType scores = TensorType.of(DType.DOUBLE, N, C), target = labels ? TensorType.of(DType.INT64, N) : scores;
        List<ValueInfo> inputs = List.of(new ValueInfo("s", scores), new ValueInfo("t", target));
        Map<String, ValueType> types = new HashMap<>(Map.of("s", scores, "t", target));
        return new Graph("loss", inputs, List.of(new ValueInfo("loss", ValueType.UNKNOWN)), inits, nodes, types);
    }

    static GradientCheck check(Losses.Spec spec, boolean labels, int opset) {
        GradientCheck c = GradientCheck.of(graph(spec, labels, opset), -2, 2, new OpsetImports(Map.of("", opset)));
        return labels ? c.set("t", LABEL_VALUES) : c.set("t", distributions());
    }

    /** Dense targets: each row a probability distribution, with a zero to exercise 0·log 0. */
    static double[] distributions() {
        return new double[] {0.2, 0.8, 0, 0.5, 0.25, 0.25, 0, 0, 1, 0.1, 0.3, 0.6};
    }

    @Test
    void everyLossAndReductionMatchesFiniteDifferences() {
        for (String name : Losses.names()) {
            for (Reduction r : Reduction.values()) {
                Losses.Spec spec = new Losses.Spec(name, r, 0.7, null, null);
                check(spec, true, 17).verify("s");
                // kl's target gradient is infinite at its zero entries; the others are checked in the target too
                if (!spec.readsLabels()) {
                    GradientCheck dense = check(spec, false, 17);
                    if (name.equals("kl")) dense.verify("s");
                    else dense.verify("s", "t");
                }
            }
        }
    }

    @Test
    void classWeightsAndAnIgnoredLabelMatchFiniteDifferences() {
        for (String name : List.of("cross-entropy", "nll")) {
            for (Reduction r : Reduction.values()) {
                check(new Losses.Spec(name, r, 1, new float[] {0.5f, 2, 1.5f}, 0L), true, 17).verify("s");
            }
        }
    }

    /** Per-sample reductions over the class axis take their axes as an attribute before opset 13 (ReduceSum) and 18 (ReduceMean). */
    @Test
    void perSampleLossesAtEveryAxesForm() {
        for (int opset : new int[] {12, 13, 18}) {
            for (String name : List.of("hinge", "kl")) check(new Losses.Spec(name, Reduction.NONE, 1, null, null), true, opset).verify("s");
        }
    }

    @Test
    void valuesMatchTheFormulas() {
        SplittableRandom random = new SplittableRandom(3);
        double[] s = new double[N * C];
        for (int i = 0; i < s.length; i++) s[i] = random.nextDouble(-3, 3);
        double[] oneHot = new double[N * C];
        for (int n = 0; n < N; n++) oneHot[n * C + (int) LABELS[n]] = 1;
        double delta = 0.7;
        for (String name : Losses.names()) {
            boolean labels = Losses.Spec.of(name).readsLabels();
            // hinge reads one class per sample, so only one-hot targets have its formula
            boolean soft = !labels && !name.equals("hinge");
            for (double[] t : soft ? List.of(oneHot, distributions()) : List.of(oneHot)) {
                double[] terms = expectedTerms(name, s, t, delta);
                double total = 0;
                for (double v : terms) total += v;
                for (Reduction r : Reduction.values()) {
                    Map<String, Tensor> feed = Map.of("s", Tensor.of(s.clone(), N, C),
                            "t", t == oneHot ? Tensor.of(LABELS.clone(), N) : Tensor.of(t.clone(), N, C));
                    Tensor loss = GradientCheck.run(graph(new Losses.Spec(name, r, delta, null, null), t == oneHot, 17), feed, true).get("loss");
                    String what = name + " " + r + (t == oneHot ? " (labels)" : " (distributions)");
                    switch (r) {
                        case NONE -> {
                            assertEquals(terms.length, loss.size(), what);
                            for (int i = 0; i < terms.length; i++) assertEquals(terms[i], loss.getDouble(i), 1e-12, what + " [" + i + "]");
                        }
                        case SUM -> assertEquals(total, loss.getDouble(0), 1e-12, what);
                        case MEAN -> assertEquals(total / terms.length, loss.getDouble(0), 1e-12, what);
                    }
                }
            }
        }
    }

    /** The unreduced loss written out: per sample for the label losses, hinge and kl; per element for the rest. */
    static double[] expectedTerms(String name, double[] s, double[] t, double delta) {
        double[] perElement = new double[N * C], perSample = new double[N];
        for (int n = 0; n < N; n++) {
            int label = 0;
            double max = Double.NEGATIVE_INFINITY, sumExp = 0;
            for (int c = 0; c < C; c++) {
                if (t[n * C + c] > t[n * C + label]) label = c;
                max = Math.max(max, s[n * C + c]);
            }
            for (int c = 0; c < C; c++) sumExp += Math.exp(s[n * C + c] - max);
            double logSumExp = max + Math.log(sumExp);
            for (int c = 0; c < C; c++) {
                int i = n * C + c;
                double d = s[i] - t[i], z = s[i];
                perElement[i] = switch (name) {
                    case "mse" -> d * d;
                    case "l1" -> Math.abs(d);
                    case "huber" -> Math.abs(d) < delta ? d * d / 2 : delta * (Math.abs(d) - delta / 2);
                    case "bce" -> -(t[i] * Math.log(sigmoid(z)) + (1 - t[i]) * Math.log(1 - sigmoid(z)));
                    default -> 0;
                };
                if (name.equals("hinge") && c != label) perSample[n] += Math.max(0, 1 - s[n * C + label] + z) / C;
                if (name.equals("kl") && t[i] > 0) perSample[n] += t[i] * (Math.log(t[i]) - (z - logSumExp));
            }
            if (name.equals("cross-entropy")) perSample[n] = logSumExp - s[n * C + label];
            if (name.equals("nll")) perSample[n] = -s[n * C + label];
        }
        return List.of("mse", "l1", "huber", "bce").contains(name) ? perElement : perSample;
    }

    private static double sigmoid(double z) { return 1 / (1 + Math.exp(-z)); }
}
