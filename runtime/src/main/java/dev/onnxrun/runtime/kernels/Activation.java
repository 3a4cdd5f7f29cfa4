package dev.onnxrun.runtime.kernels;

import dev.onnxrun.runtime.Parallel;
import dev.onnxrun.runtime.Tensor;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The activation a fused layer applies to its output while the output is still in cache:
 * y = f(y) with up to two constant parameters. {@link #apply(float[], int, int)} is the float32
 * fast path, vectorized for every kind ({@link #apply(FloatVector)} the same on one vector for
 * the piecewise-linear kinds), {@link #apply(double)} its double twin. The piecewise linear
 * kinds match the twin exactly; tanh, sigmoid and Gelu's erf are rational fits within 3e-7
 * absolute ({@link #tanh}, {@link #erf}).
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

    /**
     * y[i] = f(y[i]) for i in [from, to), in place. Each kind has a loop of its own, so each
     * compiles with its vector operations inline (one loop over a switch would not); the kinds
     * with large vector forms have their loop in a method of its own, compiled with an inlining
     * budget of its own: in one method, a JVM that had run models with sigmoid, tanh and Gelu
     * spent the budget on those loops and left SiLU's call out of line, boxing every vector
     * (efficientnet_b0 ran 1.85–2.26× ONNX Runtime after other models, 1.31–1.37× alone). A
     * last, partial vector goes through a buffer ({@link #applyTail}).
     */
    public void apply(float[] y, int from, int to) {
        int i = from, upper = from + SPECIES.loopBound(to - from), vl = SPECIES.length();
        switch (kind) {
            case NONE -> { return; }
            case RELU -> { for (; i < upper; i += vl) FloatVector.fromArray(SPECIES, y, i).max(0f).intoArray(y, i); }
            case CLIP -> { for (; i < upper; i += vl) FloatVector.fromArray(SPECIES, y, i).max(alpha).min(beta).intoArray(y, i); }
            case LEAKY_RELU -> {
                for (; i < upper; i += vl) {
                    FloatVector v = FloatVector.fromArray(SPECIES, y, i);
                    v.blend(v.mul(alpha), v.lt(0f)).intoArray(y, i);
                }
            }
            case SIGMOID -> i = sigmoidLoop(y, i, upper);
            case TANH -> i = tanhLoop(y, i, upper);
            case HARD_SIGMOID -> { for (; i < upper; i += vl) hardSigmoid(FloatVector.fromArray(SPECIES, y, i)).intoArray(y, i); }
            case HARD_SWISH -> { for (; i < upper; i += vl) hardSwish(FloatVector.fromArray(SPECIES, y, i)).intoArray(y, i); }
            case SILU -> i = siluLoop(y, i, upper);
            case GELU -> i = geluLoop(y, i, upper);
        }
        if (i < to) applyTail(y, i, to);
    }

    /** The loops of {@link #apply(float[], int, int)} for the large vector forms: each applies f to y[from, upper) and returns upper. */
    private static int sigmoidLoop(float[] y, int from, int upper) {
        for (int i = from; i < upper; i += SPECIES.length()) sigmoid(FloatVector.fromArray(SPECIES, y, i)).intoArray(y, i);
        return upper;
    }

    private static int tanhLoop(float[] y, int from, int upper) {
        for (int i = from; i < upper; i += SPECIES.length()) tanh(FloatVector.fromArray(SPECIES, y, i)).intoArray(y, i);
        return upper;
    }

    private static int siluLoop(float[] y, int from, int upper) {
        for (int i = from; i < upper; i += SPECIES.length()) silu(FloatVector.fromArray(SPECIES, y, i)).intoArray(y, i);
        return upper;
    }

    private static int geluLoop(float[] y, int from, int upper) {
        for (int i = from; i < upper; i += SPECIES.length()) gelu(FloatVector.fromArray(SPECIES, y, i)).intoArray(y, i);
        return upper;
    }

    /**
     * f on the last, partial vector of {@link #apply(float[], int, int)}. Done masked there, the
     * vector would cross a call C2 does not inline (that method's loops make it too large) and be
     * boxed: the kinds that are a clamp or Leaky Relu go element by element in double precision,
     * which gives the vector form's results exactly; the others through a one-vector buffer,
     * whole, by their own loop.
     */
    private void applyTail(float[] y, int from, int to) {
        if (vectorized()) {
            for (int i = from; i < to; i++) y[i] = (float) apply(y[i]);
            return;
        }
        float[] lanes = Scratch.floats(Scratch.ACTIVATION_TAIL, SPECIES.length());
        System.arraycopy(y, from, lanes, 0, to - from);
        apply(lanes, 0, SPECIES.length());
        System.arraycopy(lanes, 0, y, from, to - from);
    }

    /**
     * Whether kernels apply f in registers ({@link #apply(FloatVector)}) as they finish their
     * outputs: the piecewise-linear kinds (and none). The others' vector forms are too large for
     * C2 to inline into a kernel (a vector passed to a call not inlined is boxed): kernels apply
     * those to their output afterwards, by {@link #apply(float[], int, int)}.
     */
    public boolean vectorized() {
        return switch (kind) {
            case NONE, RELU, CLIP, LEAKY_RELU -> true;
            default -> false;
        };
    }

    /**
     * Whether f is x clamped to [{@link #clampLow}, {@link #clampHigh}] (none, Relu, Clip): a
     * kernel can then apply it with a max and a min of its own, calling nothing. (A vector passed
     * to {@link #apply(FloatVector)} where C2 declines to inline it is boxed; in a kernel whose
     * profile makes the call look cold, the whole loop was seen compiled to boxed code.)
     */
    public boolean isClamp() { return kind == Kind.NONE || kind == Kind.RELU || kind == Kind.CLIP; }

    /** The lower bound of an {@link #isClamp} f. */
    public float clampLow() { return kind == Kind.CLIP ? alpha : kind == Kind.RELU ? 0f : Float.NEGATIVE_INFINITY; }

    /** The upper bound of an {@link #isClamp} f. */
    public float clampHigh() { return kind == Kind.CLIP ? beta : Float.POSITIVE_INFINITY; }

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

    private FloatVector hardSigmoid(FloatVector v) { return v.fma(alpha, beta).max(0f).min(1f); }

    /** x · HardSigmoid(x) with ONNX HardSwish's alpha 1/6 and beta 0.5. */
    private static FloatVector hardSwish(FloatVector v) { return v.mul(v.fma(1f / 6, 0.5f).max(0f).min(1f)); }

    private static FloatVector silu(FloatVector v) { return v.mul(sigmoid(v)); }

    private static FloatVector gelu(FloatVector v) { return v.mul(0.5f).mul(erf(v.mul((float) (1 / Math.sqrt(2)))).add(1f)); }

    /** 1 / (1 + e^-x), lane-wise, as ½ + ½·tanh(x/2): within 1.5e-7 absolute. */
    static FloatVector sigmoid(FloatVector x) {
        return tanh(x.mul(0.5f)).fma(0.5f, 0.5f);
    }

    /** Numerator and denominator of tanh(x)/x as polynomials in x², fitted here on [0, 9] (2e-8 relative in exact arithmetic). */
    private static final float[] TANH_P = {0.9999999796568573f, 0.1338105149103147f, 0.0034956146654833383f, 2.060935936102121e-05f,
        1.3354779692860709e-08f};
    private static final float[] TANH_Q = {1.0f, 0.4671436721741416f, 0.025877093965052608f, 0.0003285671158467897f,
        7.77666068853456e-07f};

    /**
     * tanh, lane-wise, within 2.5e-7 absolute: x·P(x²)/Q(x²) on x clamped to [-9, 9] (beyond which
     * tanh rounds to ±1), the result clamped to [-1, 1]. A dozen vector operations, several times
     * cheaper than the JDK's vector tanh. NaN stays NaN.
     */
    static FloatVector tanh(FloatVector x) {
        // clamped by blends, not max and min, whose fix-ups for NaN and signed zeros made tanh
        // twice as slow; written out, not by FloatFastPaths.clamp: the Vector API's own methods
        // are always inlined, a call of ours may be refused once a loop is large, and its vectors boxed
        FloatVector c = x.blend(-9f, x.compare(VectorOperators.LT, -9f)).blend(9f, x.compare(VectorOperators.GT, 9f)), u = c.mul(c);
        FloatVector p = u.fma(TANH_P[4], TANH_P[3]).fma(u, x.broadcast(TANH_P[2])).fma(u, x.broadcast(TANH_P[1])).fma(u, x.broadcast(TANH_P[0]));
        FloatVector q = u.fma(TANH_Q[4], TANH_Q[3]).fma(u, x.broadcast(TANH_Q[2])).fma(u, x.broadcast(TANH_Q[1])).fma(u, x.broadcast(TANH_Q[0]));
        FloatVector t = c.mul(p.div(q));
        return t.blend(-1f, t.compare(VectorOperators.LT, -1f)).blend(1f, t.compare(VectorOperators.GT, 1f));
    }

    /** Numerator and denominator of erf(x)/x as polynomials in x², fitted here on [0, 4] (2.5e-8 relative in exact arithmetic). */
    private static final float[] ERF_P = {1.1283791397682352f, 0.19351845555986585f, 0.05309723141715273f, 0.003881922679801296f,
        0.00028448809514380023f, 1.986405495355509e-06f};
    private static final float[] ERF_Q = {1.0f, 0.504833832062906f, 0.11533809927103553f, 0.01520445036171049f,
        0.0011851398666890666f, 3.741213594246258e-05f};

    /**
     * erf, lane-wise, within 3e-7 absolute in float32: x·P(x²)/Q(x²) on x clamped to [-4, 4]
     * (beyond which erf rounds to ±1), the result clamped to [-1, 1]. NaN stays NaN.
     */
    static FloatVector erf(FloatVector x) {
        FloatVector c = FloatFastPaths.clamp(x, -4f, 4f), u = c.mul(c);
        FloatVector p = u.fma(ERF_P[5], ERF_P[4]).fma(u, x.broadcast(ERF_P[3])).fma(u, x.broadcast(ERF_P[2]))
                .fma(u, x.broadcast(ERF_P[1])).fma(u, x.broadcast(ERF_P[0]));
        FloatVector q = u.fma(ERF_Q[5], ERF_Q[4]).fma(u, x.broadcast(ERF_Q[3])).fma(u, x.broadcast(ERF_Q[2]))
                .fma(u, x.broadcast(ERF_Q[1])).fma(u, x.broadcast(ERF_Q[0]));
        return FloatFastPaths.clamp(c.mul(p.div(q)), -1f, 1f);
    }

    /** y[i] = f(y[i] + residual[i + shift]) for i in [from, to), in place; a null residual adds nothing. */
    public void apply(float[] y, int from, int to, float[] residual, int shift) {
        if (residual == null) {
            apply(y, from, to);
            return;
        }
        boolean inRegisters = vectorized();
        int i = from;
        for (int upper = from + SPECIES.loopBound(to - from); i < upper; i += SPECIES.length()) {
            FloatVector v = FloatVector.fromArray(SPECIES, y, i).add(FloatVector.fromArray(SPECIES, residual, i + shift));
            (inRegisters ? apply(v) : v).intoArray(y, i);
        }
        if (i < to) {
            VectorMask<Float> tail = SPECIES.indexInRange(i, to);
            FloatVector v = FloatVector.fromArray(SPECIES, y, i, tail).add(FloatVector.fromArray(SPECIES, residual, i + shift, tail));
            (inRegisters ? apply(v) : v).intoArray(y, i, tail);
        }
        if (!inRegisters) apply(y, from, to);
    }

    /**
     * {@link #apply(float[], int, int, float[], int)} on {@code rows} rows of {@code cols} floats
     * starting at {@code at}, rows {@code stride} apart (the residual laid out alike, shifted by
     * {@code shift}), spreading the rows over the pool when there are enough of them.
     */
    public void apply(float[] y, int at, int rows, int cols, int stride, float[] residual, int shift, Parallel parallel) {
        if (isNone() && residual == null) return;
        Work.pool(parallel, (long) rows * cols).forRange(rows, (from, to) -> {
            for (int r = (int) from; r < to; r++) apply(y, at + r * stride, at + r * stride + cols, residual, shift);
        });
    }

    /** f applied to every element of {@code t}, in place (the generic path for non-float32 types). */
    public Tensor applyInPlace(Tensor t) {
        if (isNone()) return t;
        for (long i = 0; i < t.size(); i++) t.setDouble(i, apply(t.getDouble(i)));
        return t;
    }
}
