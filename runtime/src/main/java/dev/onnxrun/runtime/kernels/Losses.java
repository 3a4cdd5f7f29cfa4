package dev.onnxrun.runtime.kernels;

import dev.onnxrun.runtime.OnnxrunException;
import dev.onnxrun.runtime.ExecContext;
import dev.onnxrun.runtime.Parallel;
import dev.onnxrun.runtime.Shapes;
import dev.onnxrun.runtime.Tensor;
import java.util.Arrays;

/** Classification losses: NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss. */
public final class Losses {
    private Losses() {}

    /** How per-element losses combine into the result. */
    public enum LossReduction {
        /** Per-element losses, shaped like the target. */
        NONE,
        /** Their sum, a scalar. */
        SUM,
        /** Their weighted mean: the sum divided by the sum of the weights of the counted elements. */
        MEAN;

        /** The ONNX attribute spelling: "none", "sum" or "mean". */
        public static LossReduction parse(String s) {
            return switch (s) {
                case "none" -> NONE;
                case "sum" -> SUM;
                case "mean" -> MEAN;
                default -> throw OnnxrunException.invalidModel("unknown loss reduction '" + s + "'");
            };
        }
    }

    /**
     * Negative log likelihood: {@code loss[n, d] = -input[n, target[n, d], d] * weight[target[n, d]]}
     * for input {@code [N, C, d1..dk]} and target {@code [N, d1..dk]}; targets equal to
     * {@code ignoreIndex} (when not null) contribute nothing, not even weight.
     */
    public static Tensor negativeLogLikelihood(Tensor input, Tensor target, Tensor weight, Long ignoreIndex, LossReduction reduction) {
        long[] shape = input.shape();
        if (shape.length < 2) throw OnnxrunException.invalidInput("loss input must be [N, C, ...], got " + input.describe());
        long[] expectedTarget = new long[shape.length - 1];
        expectedTarget[0] = shape[0];
        System.arraycopy(shape, 2, expectedTarget, 1, shape.length - 2);
        if (!Arrays.equals(target.shape(), expectedTarget)) {
            throw OnnxrunException.invalidInput("loss target " + target.describe() + " does not match input " + input.describe());
        }
        long classes = shape[1];
        if (weight != null && (weight.rank() != 1 || weight.dim(0) != classes)) {
            throw OnnxrunException.invalidInput("loss weight " + weight.describe() + " must be [" + classes + "]");
        }
        long n = shape[0], inner = Shapes.size(Arrays.copyOfRange(shape, 2, shape.length));
        Tensor losses = Tensor.allocate(input.dtype(), expectedTarget);
        double total = 0, totalWeight = 0;
        for (long b = 0; b < n; b++) {
            for (long j = 0; j < inner; j++) {
                long at = b * inner + j;
                long t = target.getLong(at);
                if (ignoreIndex != null && t == ignoreIndex) continue; // loss stays 0
                if (t < 0 || t >= classes) {
                    throw OnnxrunException.invalidInput("loss target " + t + " is outside [0, " + classes + ")");
                }
                double w = weight == null ? 1 : weight.getDouble(t);
                double loss = -input.getDouble((b * classes + t) * inner + j) * w;
                losses.setDouble(at, loss);
                total += loss;
                totalWeight += w;
            }
        }
        if (reduction == LossReduction.NONE) return losses;
        Tensor out = Tensor.allocate(input.dtype());
        out.setDouble(0, reduction == LossReduction.SUM ? total : total / totalWeight);
        return out;
    }

    /**
     * Softmax cross entropy: the negative log likelihood of the log-softmax of {@code scores}
     * over the class axis 1. Returns {loss, logProb}.
     */
    public static Tensor[] softmaxCrossEntropy(Tensor scores, Tensor labels, Tensor weight, Long ignoreIndex,
                                               LossReduction reduction, Parallel parallel) {
        if (scores.rank() < 2) throw OnnxrunException.invalidInput("loss scores must be [N, C, ...], got " + scores.describe());
        Tensor logProb = Softmax.apply(scores, AxisLayout.around(scores.shape(), 1), Softmax.Kind.LOG_SOFTMAX, ExecContext.on(parallel));
        return new Tensor[] {negativeLogLikelihood(logProb, labels, weight, ignoreIndex, reduction), logProb};
    }
}
