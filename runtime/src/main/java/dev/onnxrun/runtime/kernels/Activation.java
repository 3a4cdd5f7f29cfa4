package dev.onnxrun.runtime.kernels;

import dev.onnxrun.runtime.Parallel;
import dev.onnxrun.runtime.Tensor;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The activation a fused layer applies to its output while the output is still in cache:
 * y = f(y) with up to two constant parameters. {@link #apply(float[], int, int)} is the float32
 * fast path (vectorized for the piecewise-linear kinds), {@link #apply(double)} its twin.
 *
 * @param kind  which function
 * @param alpha LeakyRelu's slope, HardSigmoid's alpha, Clip's lower bound
 * @param beta  HardSigmoid's beta, Clip's upper bound
 */
public record Activation(Kind kind, float alpha, float beta) {
    /** No activation: the layer's output as computed. */
    public static final Activation NONE = new Activation(Kind.NONE, 0, 0);

    /** The functions a fused layer can end with; the scalar forms reuse {@link Unary} where it has one. */
    public enum Kind {
        NONE,
        RELU,
        /** min(max(x, alpha), beta): Relu6 is Clip(0, 6). */
        CLIP,
        LEAKY_RELU,
        SIGMOID,
        TANH,
        HARD_SIGMOID,
        HARD_SWISH,
        /** x·sigmoid(x), also known as swish. */
        SILU,
        /** The exact, erf-based Gelu: x·Φ(x). */
        GELU;

        /** The name written in a fused node's {@code activation} attribute: the ONNX op's name. */
        public String opName() {
            return switch (this) {
                case NONE -> "None";
                case RELU -> "Relu";
                case CLIP -> "Clip";
                case LEAKY_RELU -> "LeakyRelu";
                case SIGMOID -> "Sigmoid";
                case TANH -> "Tanh";
                case HARD_SIGMOID -> "HardSigmoid";
                case HARD_SWISH -> "HardSwish";
                case SILU -> "Silu";
                case GELU -> "Gelu";
            };
        }

        /** The kind named {@code name} (as {@link #opName} writes it), or null. */
        public static Kind byOpName(String name) {
            for (Kind k : values()) if (k.opName().equals(name)) return k;
            return null;
        }
    }

    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;

    public boolean isNone() { return kind == Kind.NONE; }

    /** f(x), in double precision. */
    public double apply(double x) {
        return switch (kind) {
            case NONE -> x;
            case RELU -> Unary.RELU.apply(x, 0, 0);
            // NaN passes through Clip, as it does through the Clip op
            case CLIP -> x < alpha ? alpha : x > beta ? beta : x;
            case LEAKY_RELU -> Unary.LEAKY_RELU.apply(x, alpha, 0);
            case SIGMOID -> Unary.SIGMOID.apply(x, 0, 0);
            case TANH -> Unary.TANH.apply(x, 0, 0);
            case HARD_SIGMOID -> Unary.HARD_SIGMOID.apply(x, alpha, beta);
            case HARD_SWISH -> Unary.HARD_SWISH.apply(x, 0, 0);
            case SILU -> x * Unary.SIGMOID.apply(x, 0, 0);
            case GELU -> Unary.GELU.apply(x, 0, 0);
        };
    }

    /** Whether {@link #apply(FloatVector)} computes f: the piecewise-linear kinds (and none). */
    public boolean vectorized() {
        return switch (kind) {
            case NONE, RELU, CLIP, LEAKY_RELU -> true;
            default -> false;
        };
    }

    /** f on each lane, for the {@link #vectorized} kinds; the others' float32 path is {@link #apply(float[], int, int)}. */
    public FloatVector apply(FloatVector v) {
        return switch (kind) {
            case NONE -> v;
            case RELU -> v.max(0f);
            case CLIP -> v.max(alpha).min(beta);
            case LEAKY_RELU -> v.blend(v.mul(alpha), v.lt(0f));
            default -> throw new IllegalStateException(kind + " has no vector form");
        };
    }

    /** y[i] = f(y[i]) for i in [from, to), in place. */
    public void apply(float[] y, int from, int to) {
        if (kind == Kind.NONE) return;
        int i = from;
        if (vectorized()) {
            for (int upper = from + SPECIES.loopBound(to - from); i < upper; i += SPECIES.length()) {
                apply(FloatVector.fromArray(SPECIES, y, i)).intoArray(y, i);
            }
        }
        for (; i < to; i++) y[i] = (float) apply(y[i]);
    }

    /** y[i] = f(y[i] + residual[i]) for i in [from, to), in place; a null residual adds nothing. */
    public void apply(float[] y, int from, int to, float[] residual) {
        if (residual == null) {
            apply(y, from, to);
            return;
        }
        int i = from;
        for (int upper = from + SPECIES.loopBound(to - from); i < upper; i += SPECIES.length()) {
            FloatVector v = FloatVector.fromArray(SPECIES, y, i).add(FloatVector.fromArray(SPECIES, residual, i));
            (vectorized() ? apply(v) : v).intoArray(y, i);
        }
        int tail = i;
        for (; i < to; i++) y[i] += residual[i];
        apply(y, vectorized() ? tail : from, to); // the vector part has f applied already when it has a vector form
    }

    /**
     * Applies f to {@code rows} rows of {@code cols} floats starting at {@code at}, rows
     * {@code stride} apart, spreading the rows over the pool when there are enough of them.
     */
    public void apply(float[] y, int at, int rows, int cols, int stride, Parallel parallel) {
        if (isNone()) return;
        Work.pool(parallel, (long) rows * cols).forRange(rows, (from, to) -> {
            for (int r = (int) from; r < to; r++) apply(y, at + r * stride, at + r * stride + cols);
        });
    }

    /** f applied to every element of {@code t}, in place (the generic path for non-float32 types). */
    public Tensor applyInPlace(Tensor t) {
        if (isNone()) return t;
        for (long i = 0; i < t.size(); i++) t.setDouble(i, apply(t.getDouble(i)));
        return t;
    }
}
