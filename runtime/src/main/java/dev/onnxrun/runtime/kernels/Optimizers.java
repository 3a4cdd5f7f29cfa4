package dev.onnxrun.runtime.kernels;

import dev.onnxrun.runtime.DType;
import dev.onnxrun.runtime.OnnxrunException;
import dev.onnxrun.runtime.Parallel;
import dev.onnxrun.runtime.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * One step of a first-order optimizer on one optimized tensor {@code X}, its gradient {@code G}
 * and its optimizer state: Adagrad, Adam and momentum SGD as ONNX's preview training ops define
 * them, Adam/AdamW and RMSprop as PyTorch's {@code torch.optim} does (for the trainer). Each method takes the learning rate {@code rate} and the update count
 * {@code step} of this iteration, returns fresh tensors for the new {@code X} and the new state
 * (each shaped and typed like the tensor it replaces) and never modifies its inputs.
 *
 * <p>All methods optionally regularize with an L2 term {@code normCoefficient / 2 * ||X||^2},
 * whose gradient {@code normCoefficient * X} is added to {@code G} before the update (AdamW
 * instead decays X itself).
 * Arithmetic is in double; float and double tensors are read and written directly, other float
 * types through conversion.
 */
public final class Optimizers {
    private Optimizers() {}

    /** Elements per block: each parallel task streams its range through buffers of this many doubles. */
    private static final int BLOCK = 512;

    /**
     * Adagrad hyperparameters.
     *
     * @param decayFactor     learning-rate decay: the step's rate is {@code rate / (1 + step * decayFactor)}
     * @param epsilon         added to the root of the accumulated squared gradient, against division by zero
     * @param normCoefficient L2 regularization coefficient
     */
    public record AdagradParams(double decayFactor, double epsilon, double normCoefficient) {
        /** ONNX's defaults: no decay, epsilon 1e-6, no regularization. */
        public static final AdagradParams DEFAULT = new AdagradParams(0, 1e-6f, 0);
    }

    /**
     * Adam hyperparameters.
     *
     * @param alpha               decay of the first moment (the gradient's running mean)
     * @param beta                decay of the second moment (the squared gradient's running mean)
     * @param epsilon             added to the second moment's root, against division by zero
     * @param normCoefficient     L2 regularization coefficient, applied to the gradient
     * @param normCoefficientPost decay applied to X after the update: {@code X' *= 1 - normCoefficientPost}
     */
    public record AdamParams(double alpha, double beta, double epsilon, double normCoefficient, double normCoefficientPost) {
        /** ONNX's defaults: alpha 0.9, beta 0.999, epsilon 1e-6, no regularization. */
        public static final AdamParams DEFAULT = new AdamParams(0.9f, 0.999f, 1e-6f, 0, 0);
    }

    /** Where momentum SGD evaluates the step. */
    public enum MomentumMode {
        /** Steps along the new momentum: {@code X' = X - rate * V'}. */
        STANDARD,
        /** Nesterov's look-ahead: {@code X' = X - rate * (G + alpha * V')}. */
        NESTEROV;

        /** The ONNX attribute spelling: "standard" or "nesterov". */
        public static MomentumMode parse(String s) {
            return switch (s) {
                case "standard" -> STANDARD;
                case "nesterov" -> NESTEROV;
                default -> throw OnnxrunException.invalidModel("unknown momentum mode '" + s + "' (expected standard or nesterov)");
            };
        }
    }

    /**
     * Momentum SGD hyperparameters.
     *
     * @param alpha           decay of the momentum
     * @param beta            weight of the gradient in the momentum (1 on the first step, {@code step == 0})
     * @param normCoefficient L2 regularization coefficient
     * @param mode            standard or Nesterov momentum
     */
    public record MomentumParams(double alpha, double beta, double normCoefficient, MomentumMode mode) {}

    /**
     * Adagrad: accumulates the squared gradient {@code H' = H + G^2} and steps
     * {@code X' = X - r * G / (sqrt(H') + epsilon)} with the decayed rate
     * {@code r = rate / (1 + step * decayFactor)}. Returns {X', H'}.
     */
    public static Tensor[] adagrad(AdagradParams p, double rate, long step, Tensor x, Tensor g, Tensor h, Parallel parallel) {
        double r = rate / (1 + step * p.decayFactor());
        double lambda = p.normCoefficient(), epsilon = p.epsilon();
        return update(new Tensor[] {x, g, h}, new Tensor[] {x, h}, parallel, (in, out, n) -> {
            double[] xs = in[0], gs = in[1], hs = in[2], xNew = out[0], hNew = out[1];
            for (int i = 0; i < n; i++) {
                double grad = lambda * xs[i] + gs[i];
                double accumulated = hs[i] + grad * grad;
                hNew[i] = accumulated;
                xNew[i] = xs[i] - r * grad / (Math.sqrt(accumulated) + epsilon);
            }
        });
    }

    /**
     * Adam: updates the moments {@code V' = alpha V + (1 - alpha) G} and
     * {@code H' = beta H + (1 - beta) G^2}, then steps {@code X' = X - r * V' / (sqrt(H') + epsilon)}
     * and decays {@code X' *= 1 - normCoefficientPost}. For {@code step > 0} the rate carries the
     * bias correction {@code r = rate * sqrt(1 - beta^step) / (1 - alpha^step)}; at step 0 it is
     * {@code rate} itself. Returns {X', V', H'}.
     */
    public static Tensor[] adam(AdamParams p, double rate, long step, Tensor x, Tensor g, Tensor v, Tensor h, Parallel parallel) {
        double alpha = p.alpha(), beta = p.beta(), lambda = p.normCoefficient(), epsilon = p.epsilon();
        double r = step > 0 ? rate * Math.sqrt(1 - Math.pow(beta, step)) / (1 - Math.pow(alpha, step)) : rate;
        double keep = 1 - p.normCoefficientPost();
        return update(new Tensor[] {x, g, v, h}, new Tensor[] {x, v, h}, parallel, (in, out, n) -> {
            double[] xs = in[0], gs = in[1], vs = in[2], hs = in[3], xNew = out[0], vNew = out[1], hNew = out[2];
            for (int i = 0; i < n; i++) {
                double grad = lambda * xs[i] + gs[i];
                double mean = alpha * vs[i] + (1 - alpha) * grad;
                double square = beta * hs[i] + (1 - beta) * grad * grad;
                vNew[i] = mean;
                hNew[i] = square;
                xNew[i] = keep * (xs[i] - r * mean / (Math.sqrt(square) + epsilon));
            }
        });
    }

    /**
     * Momentum SGD: updates the momentum {@code V' = alpha V + b G}, where {@code b} is
     * {@code beta} except on the first step ({@code step == 0}) where it is 1, then steps
     * {@code X' = X - rate * V'} (standard) or {@code X' = X - rate * (G + alpha V')} (Nesterov).
     * Returns {X', V'}.
     */
    public static Tensor[] momentum(MomentumParams p, double rate, long step, Tensor x, Tensor g, Tensor v, Parallel parallel) {
        double alpha = p.alpha(), lambda = p.normCoefficient();
        double b = step > 0 ? p.beta() : 1;
        boolean nesterov = p.mode() == MomentumMode.NESTEROV;
        return update(new Tensor[] {x, g, v}, new Tensor[] {x, v}, parallel, (in, out, n) -> {
            double[] xs = in[0], gs = in[1], vs = in[2], xNew = out[0], vNew = out[1];
            for (int i = 0; i < n; i++) {
                double grad = lambda * xs[i] + gs[i];
                double velocity = alpha * vs[i] + b * grad;
                vNew[i] = velocity;
                xNew[i] = xs[i] - rate * (nesterov ? grad + alpha * velocity : velocity);
            }
        });
    }

    /**
     * Adam as {@code torch.optim.Adam} and AdamW as {@code torch.optim.AdamW} compute it. Unlike
     * ONNX's Adam above, epsilon is added to the bias-corrected root of the second moment.
     *
     * @param beta1       decay of the first moment
     * @param beta2       decay of the second moment
     * @param epsilon     added to the bias-corrected root of the second moment
     * @param weightDecay L2 coefficient added to the gradient (Adam), or the decoupled decay (AdamW)
     * @param decoupled   AdamW: shrink X by {@code 1 - rate * weightDecay} before the step instead of adding to G
     */
    public record AdamWParams(double beta1, double beta2, double epsilon, double weightDecay, boolean decoupled) {}

    /**
     * The {@code step}-th (from 1) Adam or AdamW update: {@code G += weightDecay * X} (Adam) or
     * {@code X *= 1 - rate * weightDecay} (AdamW); {@code M' = beta1 M + (1 - beta1) G},
     * {@code V' = beta2 V + (1 - beta2) G^2};
     * {@code X' = X - rate / (1 - beta1^step) * M' / (sqrt(V' / (1 - beta2^step)) + epsilon)}.
     * Returns {X', M', V'}.
     */
    public static Tensor[] adamW(AdamWParams p, double rate, long step, Tensor x, Tensor g, Tensor m, Tensor v, Parallel parallel) {
        if (step < 1) throw OnnxrunException.invalidInput("Adam's step count starts at 1, got " + step);
        double beta1 = p.beta1(), beta2 = p.beta2(), epsilon = p.epsilon();
        double l2 = p.decoupled() ? 0 : p.weightDecay(), keep = p.decoupled() ? 1 - rate * p.weightDecay() : 1;
        double stepSize = rate / (1 - Math.pow(beta1, step)), rootCorrection = Math.sqrt(1 - Math.pow(beta2, step));
        return update(new Tensor[] {x, g, m, v}, new Tensor[] {x, m, v}, parallel, (in, out, n) -> {
            double[] xs = in[0], gs = in[1], ms = in[2], vs = in[3], xNew = out[0], mNew = out[1], vNew = out[2];
            for (int i = 0; i < n; i++) {
                double grad = gs[i] + l2 * xs[i];
                double mean = beta1 * ms[i] + (1 - beta1) * grad;
                double square = beta2 * vs[i] + (1 - beta2) * grad * grad;
                mNew[i] = mean;
                vNew[i] = square;
                xNew[i] = keep * xs[i] - stepSize * mean / (Math.sqrt(square) / rootCorrection + epsilon);
            }
        });
    }

    /**
     * RMSprop as {@code torch.optim.RMSprop} computes it.
     *
     * @param alpha       decay of the squared gradient's running mean
     * @param epsilon     added to the root of that mean
     * @param weightDecay L2 coefficient added to the gradient
     * @param momentum    decay of the momentum buffer; 0 for none
     * @param centered    divide by the root of the variance estimate (mean square minus squared mean) instead
     */
    public record RmspropParams(double alpha, double epsilon, double weightDecay, double momentum, boolean centered) {
        /** State tensors per parameter: the mean square, then the mean (centered), then the momentum buffer (momentum > 0). */
        public int stateCount() { return 1 + (centered ? 1 : 0) + (momentum > 0 ? 1 : 0); }
    }

    /**
     * One RMSprop update: {@code G += weightDecay * X}; {@code S' = alpha S + (1 - alpha) G^2};
     * centered: {@code A' = alpha A + (1 - alpha) G} and {@code d = sqrt(S' - A'^2) + epsilon},
     * else {@code d = sqrt(S') + epsilon}; with momentum {@code B' = momentum B + G / d} and
     * {@code X' = X - rate B'}, else {@code X' = X - rate G / d}. {@code state} is
     * {S[, A][, B]} as {@link RmspropParams#stateCount} lays it out; returns {X', state'...}.
     */
    public static Tensor[] rmsprop(RmspropParams p, double rate, Tensor x, Tensor g, Tensor[] state, Parallel parallel) {
        if (state.length != p.stateCount()) {
            throw OnnxrunException.invalidInput("RMSprop needs " + p.stateCount() + " state tensors, got " + state.length);
        }
        double alpha = p.alpha(), epsilon = p.epsilon(), lambda = p.weightDecay(), mu = p.momentum();
        boolean centered = p.centered(), momentum = mu > 0;
        int meanAt = 1, bufferAt = centered ? 2 : 1;
        Tensor[] inputs = new Tensor[2 + state.length], outputs = new Tensor[1 + state.length];
        inputs[0] = x;
        inputs[1] = g;
        outputs[0] = x;
        System.arraycopy(state, 0, inputs, 2, state.length);
        System.arraycopy(state, 0, outputs, 1, state.length);
        return update(inputs, outputs, parallel, (in, out, n) -> {
            double[] xs = in[0], gs = in[1], squares = in[2], xNew = out[0], squaresNew = out[1];
            for (int i = 0; i < n; i++) {
                double grad = gs[i] + lambda * xs[i];
                double square = alpha * squares[i] + (1 - alpha) * grad * grad;
                squaresNew[i] = square;
                double variance = square;
                if (centered) {
                    double mean = alpha * in[2 + meanAt][i] + (1 - alpha) * grad;
                    out[1 + meanAt][i] = mean;
                    variance -= mean * mean;
                }
                double scaled = grad / (Math.sqrt(variance) + epsilon);
                if (momentum) {
                    double buffer = mu * in[2 + bufferAt][i] + scaled;
                    out[1 + bufferAt][i] = buffer;
                    xNew[i] = xs[i] - rate * buffer;
                } else {
                    xNew[i] = xs[i] - rate * scaled;
                }
            }
        });
    }

    /** An elementwise update of one block: reads {@code in[k][0..n)}, writes {@code out[k][0..n)}. */
    @FunctionalInterface
    private interface BlockUpdate {
        void apply(double[][] in, double[][] out, int n);
    }

    /**
     * Runs {@code body} over every element of {@code inputs} (all shaped alike), block by block
     * in parallel, into fresh tensors shaped and typed like {@code outputLike}.
     */
    private static Tensor[] update(Tensor[] inputs, Tensor[] outputLike, Parallel parallel, BlockUpdate body) {
        long[] shape = inputs[0].shape();
        for (Tensor t : inputs) {
            if (!Arrays.equals(t.shape(), shape)) {
                throw OnnxrunException.invalidInput("optimizer inputs must all be shaped like X " + inputs[0].describe()
                        + ", got " + t.describe());
            }
            if (!t.dtype().isFloatingPoint()) {
                throw OnnxrunException.invalidInput("optimizer inputs must be floating point, got " + t.describe());
            }
        }
        Tensor[] outputs = new Tensor[outputLike.length];
        for (int k = 0; k < outputs.length; k++) outputs[k] = Tensor.allocate(outputLike[k].dtype(), shape);
        // float32 tensors are read and written through their arrays (outputs are fresh heap arrays)
        FloatArrays.Slice[] inSlices = slices(inputs), outSlices = slices(outputs);
        long size = inputs[0].size();
        long blocks = (size + BLOCK - 1) / BLOCK;
        // below ~64K elements an update takes tens of microseconds: less than waking other threads, which is
        // most of a small model's update time (and far more on a busy machine)
        Work.pool(parallel, size).forRange(blocks, (fromBlock, toBlock) -> {
            double[][] in = new double[inputs.length][BLOCK];
            double[][] out = new double[outputs.length][BLOCK];
            for (long blk = fromBlock; blk < toBlock; blk++) {
                long start = blk * BLOCK;
                int n = (int) Math.min(BLOCK, size - start);
                for (int k = 0; k < inputs.length; k++) load(inputs[k], inSlices[k], start, in[k], n);
                body.apply(in, out, n);
                for (int k = 0; k < outputs.length; k++) store(out[k], outputs[k], outSlices[k], start, n);
            }
        });
        return outputs;
    }

    private static FloatArrays.Slice[] slices(Tensor[] tensors) {
        FloatArrays.Slice[] out = new FloatArrays.Slice[tensors.length];
        for (int k = 0; k < tensors.length; k++) out[k] = tensors[k].dtype() == DType.FLOAT ? FloatArrays.slice(tensors[k]) : null;
        return out;
    }

    /** Reads elements [start, start + n) of {@code t} into {@code buffer}. */
    private static void load(Tensor t, FloatArrays.Slice floats, long start, double[] buffer, int n) {
        MemorySegment seg = t.segment();
        switch (t.dtype()) {
            case DOUBLE -> MemorySegment.copy(seg, ValueLayout.JAVA_DOUBLE, start * Double.BYTES, buffer, 0, n);
            case FLOAT -> {
                int at = floats.offset() + (int) start;
                for (int i = 0; i < n; i++) buffer[i] = floats.array()[at + i];
            }
            default -> {
                for (int i = 0; i < n; i++) buffer[i] = t.getDouble(start + i);
            }
        }
    }

    /** Writes {@code buffer[0..n)} to elements [start, start + n) of {@code t}. */
    private static void store(double[] buffer, Tensor t, FloatArrays.Slice floats, long start, int n) {
        MemorySegment seg = t.segment();
        switch (t.dtype()) {
            case DOUBLE -> MemorySegment.copy(buffer, 0, seg, ValueLayout.JAVA_DOUBLE, start * Double.BYTES, n);
            case FLOAT -> {
                int at = floats.offset() + (int) start;
                for (int i = 0; i < n; i++) floats.array()[at + i] = (float) buffer[i];
            }
            default -> {
                for (int i = 0; i < n; i++) t.setDouble(start + i, buffer[i]);
            }
        }
    }
}
