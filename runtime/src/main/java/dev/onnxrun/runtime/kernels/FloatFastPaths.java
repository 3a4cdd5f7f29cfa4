package dev.onnxrun.runtime.kernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Float32 twins of the generic elementwise paths, reading and writing the tensors' memory
 * directly. Add, Sub, Mul and Div use the Vector API (exactly rounded in float, which equals the
 * generic path's double arithmetic rounded to float); unary functions run the same double
 * function as the generic path without the per-element type dispatch, Relu vectorized. Also the
 * lane sum and vector exp that float kernels share, both the same in every run.
 */
final class FloatFastPaths {
    private FloatFastPaths() {}

    static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT;

    /**
     * The sum of {@code v}'s lanes, halves folded onto each other in a fixed order. Unlike
     * {@code reduceLanes(ADD)}, which leaves the order to the implementation (and it changes when
     * the JIT compiles the caller), the same lanes give the same sum in every run, so training
     * repeats exactly. {@code v} has {@link #SPECIES}.
     */
    static float sumLanes(FloatVector v) {
        if (VL > 16) return v.reduceLanes(VectorOperators.ADD); // wider than any x86 vector: order left to the JIT
        // each fold a constant of its own, not read from an array: the JIT compiles rearrange to
        // a permute only for a shuffle of known class, and boxes every vector otherwise
        v = v.add(v.rearrange(FOLD_HALF));
        if (VL >= 4) v = v.add(v.rearrange(FOLD_QUARTER));
        if (VL >= 8) v = v.add(v.rearrange(FOLD_EIGHTH));
        if (VL >= 16) v = v.add(v.rearrange(FOLD_SIXTEENTH));
        return v.lane(0);
    }

    private static final int VL = SPECIES.length();
    /** Rotations of {@link #SPECIES}' lanes by a half, a quarter, … one lane (up to 16 lanes): after each, lane 0 holds a fixed tree of sums. */
    private static final VectorShuffle<Float> FOLD_HALF = rotation(VL / 2), FOLD_QUARTER = rotation(VL / 4),
            FOLD_EIGHTH = rotation(VL / 8), FOLD_SIXTEENTH = rotation(VL / 16);

    private static VectorShuffle<Float> rotation(int lanes) {
        return VectorShuffle.fromOp(SPECIES, i -> (i + Math.max(lanes, 1)) % VL);
    }

    /**
     * {@link #sumLanes} of a vector stored in {@code lanes[0..VL)} (which it overwrites), in the
     * same order, so the same bits. For kernels whose vector code is big enough that the JIT stops
     * inlining (NodeCountInliningCutoff): a vector passed to a call that is not inlined is boxed,
     * one object per call, while a store to an array is always compiled in place.
     */
    static float sumStoredLanes(float[] lanes) {
        for (int h = VL / 2; h > 0; h /= 2) {
            for (int i = 0; i < h; i++) lanes[i] += lanes[i + h];
        }
        return lanes[0];
    }

    /**
     * v limited to [lo, hi] in each lane by compares and blends. max and min give the same lanes
     * (NaN stays NaN, −0 stays −0), but the JIT compiles each with Math.max's fix-ups for NaN and
     * signed zeros, several instructions: Gelu's erf with its clamps blended measured 1.6 times as
     * fast. The blends make more nodes for C2 to inline, though (see {@link Activation#tanh}).
     */
    static FloatVector clamp(FloatVector v, float lo, float hi) {
        return v.blend(lo, v.compare(VectorOperators.LT, lo)).blend(hi, v.compare(VectorOperators.GT, hi));
    }

    /**
     * x rounded to the nearest integer, ties to even, in each lane: exactly Math.rint. Below 2²³
     * in magnitude, adding 2²³ leaves no fraction bits and the float addition rounds as rint does;
     * the sign is put back (so −0.4 gives −0); larger values, infinities and NaN are their own.
     */
    static FloatVector rint(FloatVector x) {
        FloatVector magnitude = x.abs(), rounded = magnitude.add(TWO_TO_23).sub(TWO_TO_23);
        FloatVector signed = rounded.reinterpretAsInts().or(x.reinterpretAsInts().and(Integer.MIN_VALUE)).reinterpretAsFloats();
        return x.blend(signed, magnitude.compare(VectorOperators.LT, TWO_TO_23));
    }

    private static final float TWO_TO_23 = 8388608f;

    private static final float LOG2E = 1.44269504088896341f, LN2_HIGH = 0.693359375f, LN2_LOW = -2.12194440e-4f;
    /** 1.5·2²³: adding it rounds a float below 2²² to an integer held in the low mantissa bits. */
    private static final float ROUNDER = 12582912f;

    /**
     * e^x in each lane, within 2 ulp: x = n·ln2 + r with |r| ≤ ln2/2, e^r by a degree-7
     * polynomial (Cephes' expf), times 2^n built in the exponent bits. Lanes below −87.34 give
     * 0 (no subnormals), above 88.72 +∞, NaN stays NaN. Only adds, multiplies and bit moves, so
     * unlike {@code lanewise(EXP)}, whose intrinsic and fallback round differently, every run
     * gives the same bits.
     */
    static FloatVector exp(FloatVector x) {
        FloatVector clamped = clamp(x, -87.33654f, 88.72283f);
        FloatVector n = clamped.fma(LOG2E, ROUNDER).sub(ROUNDER);
        // n runs from −126 to 128; 2^128 is not a float, so there p doubles (exactly) and the scale is 2^127
        FloatVector below = n.min(127f);
        FloatVector scale = below.convert(VectorOperators.F2I, 0).reinterpretAsInts().add(127).lanewise(VectorOperators.LSHL, 23)
                .reinterpretAsFloats();
        FloatVector e = expOfRemainder(clamped, n).mul(n.sub(below).add(1f)).mul(scale);
        e = e.blend(0f, x.compare(VectorOperators.LT, -87.33654f));
        e = e.blend(Float.POSITIVE_INFINITY, x.compare(VectorOperators.GT, 88.72283f));
        return e.blend(x, x.test(VectorOperators.IS_NAN));
    }

    /**
     * {@link #exp} for lanes at most 0 (softmax's x − max), the same bits there in about half the
     * operations: no overflow to guard, and the scale 2^n read from the rounding sum's low bits
     * (1.5·2²³ + n holds n, −126 ≤ n ≤ 0, in its low mantissa bits) rather than converted. NaN
     * stays NaN; a positive lane gives garbage.
     */
    static FloatVector expOfNonPositive(FloatVector x) {
        FloatVector clamped = x.blend(-87.33654f, x.compare(VectorOperators.LT, -87.33654f));
        FloatVector shifted = clamped.fma(LOG2E, ROUNDER);
        FloatVector scale = shifted.reinterpretAsInts().add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        return expOfRemainder(clamped, shifted.sub(ROUNDER)).mul(scale).blend(0f, x.compare(VectorOperators.LT, -87.33654f));
    }

    /** e^r for r = x − n·ln2, n = round(x / ln2): Cephes' degree-7 polynomial. */
    private static FloatVector expOfRemainder(FloatVector x, FloatVector n) {
        // LN2_HIGH has few bits: n·LN2_HIGH is exact
        FloatVector r = x.sub(n.mul(LN2_HIGH)).sub(n.mul(LN2_LOW));
        FloatVector p = r.broadcast(1.9875691500e-4f).fma(r, r.broadcast(1.3981999507e-3f)).fma(r, r.broadcast(8.3334519073e-3f))
                .fma(r, r.broadcast(4.1665795894e-2f)).fma(r, r.broadcast(1.6666665459e-1f)).fma(r, r.broadcast(5.0000001201e-1f));
        return p.fma(r.mul(r), r).add(1f);
    }

    static boolean supports(Binary op) {
        return op == Binary.ADD || op == Binary.SUB || op == Binary.MUL || op == Binary.DIV || op == Binary.MIN || op == Binary.MAX
                || op == Binary.POW;
    }

    /**
     * out[i] = op(a[i], b[i]) for i in [from, to); an input marked scalar supplies its one element
     * everywhere. Tensors in heap float arrays (onnxrun's own, and the session arena) run in
     * vector lanes through the arrays: vector access to heap segments is compiled to plain vector
     * moves only while the JIT's profile has seen one kind of segment, and bool tensors' byte
     * segments spoil it. Other memory (a caller's own off-heap segments) runs in scalars.
     */
    static void binary(Binary op, MemorySegment a, boolean aScalar, MemorySegment b, boolean bScalar,
                       MemorySegment out, long from, long to) {
        if (a.heapBase().orElse(null) instanceof float[] as && b.heapBase().orElse(null) instanceof float[] bs
                && out.heapBase().orElse(null) instanceof float[] outs) {
            binary(op, as, floatIndex(a), aScalar, bs, floatIndex(b), bScalar, outs, floatIndex(out), (int) from, (int) to);
            return;
        }
        float aValue = a.getAtIndex(FLOAT, 0), bValue = b.getAtIndex(FLOAT, 0);
        for (long i = from; i < to; i++) {
            out.setAtIndex(FLOAT, i, (float) op.apply(aScalar ? aValue : a.getAtIndex(FLOAT, i), bScalar ? bValue : b.getAtIndex(FLOAT, i)));
        }
    }

    /** Where a heap segment's first float sits in its array. */
    static int floatIndex(MemorySegment heapSegment) {
        return (int) (heapSegment.address() / Float.BYTES);
    }

    /**
     * {@link #binary} on arrays, element i of each at its offset + i. A scalar operand is read
     * from a vector's worth of copies with step 0, and each op has a loop of its own: no vector
     * is chosen between two sources or returned from a switch, which C2 boxed where it did not
     * split the loop (a JVM that had run other models first: efficientnet_b0 1.8× ONNX Runtime's
     * time, 1.3× alone).
     */
    static void binary(Binary op, float[] a, int aAt, boolean aScalar, float[] b, int bAt, boolean bScalar,
                       float[] out, int outAt, int from, int to) {
        int vl = SPECIES.length(), i = from, bound = from + SPECIES.loopBound(to - from);
        float[] as = aScalar ? copies(Scratch.BROADCAST_A, a[aAt]) : a, bs = bScalar ? copies(Scratch.BROADCAST_B, b[bAt]) : b;
        int ai = aScalar ? 0 : aAt + from, bi = bScalar ? 0 : bAt + from, aStep = aScalar ? 0 : vl, bStep = bScalar ? 0 : vl, o = outAt + from;
        switch (op) {
            case ADD -> { for (; i < bound; i += vl, ai += aStep, bi += bStep, o += vl) FloatVector.fromArray(SPECIES, as, ai).add(FloatVector.fromArray(SPECIES, bs, bi)).intoArray(out, o); }
            case SUB -> { for (; i < bound; i += vl, ai += aStep, bi += bStep, o += vl) FloatVector.fromArray(SPECIES, as, ai).sub(FloatVector.fromArray(SPECIES, bs, bi)).intoArray(out, o); }
            case MUL -> { for (; i < bound; i += vl, ai += aStep, bi += bStep, o += vl) FloatVector.fromArray(SPECIES, as, ai).mul(FloatVector.fromArray(SPECIES, bs, bi)).intoArray(out, o); }
            case DIV -> { for (; i < bound; i += vl, ai += aStep, bi += bStep, o += vl) FloatVector.fromArray(SPECIES, as, ai).div(FloatVector.fromArray(SPECIES, bs, bi)).intoArray(out, o); }
            // lane-wise Math.min and max: NaN and signed zeros as the generic path
            case MIN -> { for (; i < bound; i += vl, ai += aStep, bi += bStep, o += vl) FloatVector.fromArray(SPECIES, as, ai).min(FloatVector.fromArray(SPECIES, bs, bi)).intoArray(out, o); }
            case MAX -> { for (; i < bound; i += vl, ai += aStep, bi += bStep, o += vl) FloatVector.fromArray(SPECIES, as, ai).max(FloatVector.fromArray(SPECIES, bs, bi)).intoArray(out, o); }
            // the Vector API's lane-wise pow: within a few units in the last place of Math.pow's rounded result
            case POW -> { for (; i < bound; i += vl, ai += aStep, bi += bStep, o += vl) FloatVector.fromArray(SPECIES, as, ai).pow(FloatVector.fromArray(SPECIES, bs, bi)).intoArray(out, o); }
            default -> throw new IllegalArgumentException(op.name());
        }
        float aValue = a[aAt], bValue = b[bAt];
        // the tail in double, rounded: exactly the float result for these ops
        for (; i < to; i++) out[outAt + i] = (float) op.apply(aScalar ? aValue : a[aAt + i], bScalar ? bValue : b[bAt + i]);
    }

    /**
     * out[i] = a[i] c b[i] as a bool (1 or 0) for i in [from, to), each array from its offset; a
     * scalar operand supplies its one element everywhere. IEEE comparisons, as the generic path's
     * on doubles: NaN compares false, −0 equals 0. A loop per comparison, as {@link #binary} has.
     */
    static void compare(Comparison c, float[] a, int aAt, boolean aScalar, float[] b, int bAt, boolean bScalar, byte[] out, int outAt,
                        int from, int to) {
        int i = from, bound = from + SPECIES.loopBound(to - from);
        float[] as = aScalar ? copies(Scratch.BROADCAST_A, a[aAt]) : a, bs = bScalar ? copies(Scratch.BROADCAST_B, b[bAt]) : b;
        int ai = aScalar ? 0 : aAt + from, bi = bScalar ? 0 : bAt + from, aStep = aScalar ? 0 : VL, bStep = bScalar ? 0 : VL, o = outAt + from;
        ByteVector zeros = ByteVector.zero(FLAGS);
        switch (c) {
            case EQUAL -> { for (; i < bound; i += VL, ai += aStep, bi += bStep, o += VL) zeros.blend((byte) 1, FloatVector.fromArray(SPECIES, as, ai).compare(VectorOperators.EQ, FloatVector.fromArray(SPECIES, bs, bi)).cast(FLAGS)).intoArray(out, o); }
            case LESS -> { for (; i < bound; i += VL, ai += aStep, bi += bStep, o += VL) zeros.blend((byte) 1, FloatVector.fromArray(SPECIES, as, ai).compare(VectorOperators.LT, FloatVector.fromArray(SPECIES, bs, bi)).cast(FLAGS)).intoArray(out, o); }
            case GREATER -> { for (; i < bound; i += VL, ai += aStep, bi += bStep, o += VL) zeros.blend((byte) 1, FloatVector.fromArray(SPECIES, as, ai).compare(VectorOperators.GT, FloatVector.fromArray(SPECIES, bs, bi)).cast(FLAGS)).intoArray(out, o); }
            case LESS_OR_EQUAL -> { for (; i < bound; i += VL, ai += aStep, bi += bStep, o += VL) zeros.blend((byte) 1, FloatVector.fromArray(SPECIES, as, ai).compare(VectorOperators.LE, FloatVector.fromArray(SPECIES, bs, bi)).cast(FLAGS)).intoArray(out, o); }
            case GREATER_OR_EQUAL -> { for (; i < bound; i += VL, ai += aStep, bi += bStep, o += VL) zeros.blend((byte) 1, FloatVector.fromArray(SPECIES, as, ai).compare(VectorOperators.GE, FloatVector.fromArray(SPECIES, bs, bi)).cast(FLAGS)).intoArray(out, o); }
        }
        for (; i < to; i++) out[outAt + i] = (byte) (c.test(a[aAt + (aScalar ? 0 : i)], b[bAt + (bScalar ? 0 : i)]) ? 1 : 0);
    }

    /** out[i] = min(max(x[xAt + i], lo), hi) for i in [from, to), Java's max and min (NaN stays NaN). */
    static void clip(float[] x, int xAt, float lo, float hi, float[] out, int from, int to) {
        int i = from;
        for (int bound = from + SPECIES.loopBound(to - from); i < bound; i += VL) FloatVector.fromArray(SPECIES, x, xAt + i).max(lo).min(hi).intoArray(out, i);
        for (; i < to; i++) out[i] = Math.min(Math.max(x[xAt + i], lo), hi);
    }

    /** Bytes, as many lanes as {@link #SPECIES}: a bool tensor's flags for one vector of floats. */
    private static final VectorSpecies<Byte> FLAGS = VectorSpecies.of(byte.class, VectorShape.forBitSize(SPECIES.length() * Byte.SIZE));

    /**
     * out[i] = cond[i] != 0 ? x[i] : y[i] for i in [from, to), each array from its offset; a
     * scalar x or y supplies its one element everywhere (read from a vector's worth of copies).
     * The lanes are blended as bits, so NaN payloads pass as the element-by-element path moves them.
     */
    static void where(byte[] cond, int condAt, float[] x, int xAt, boolean xScalar, float[] y, int yAt, boolean yScalar,
                      float[] out, int outAt, int from, int to) {
        float[] xs = xScalar ? copies(Scratch.BROADCAST_A, x[xAt]) : x, ys = yScalar ? copies(Scratch.BROADCAST_B, y[yAt]) : y;
        int i = from, bound = from + SPECIES.loopBound(to - from), xStep = xScalar ? 0 : VL, yStep = yScalar ? 0 : VL;
        for (int xi = xScalar ? 0 : xAt + from, yi = yScalar ? 0 : yAt + from; i < bound; i += VL, xi += xStep, yi += yStep) {
            VectorMask<Float> pick = ByteVector.fromArray(FLAGS, cond, condAt + i).compare(VectorOperators.NE, 0).cast(SPECIES);
            FloatVector.fromArray(SPECIES, ys, yi).blend(FloatVector.fromArray(SPECIES, xs, xi), pick).intoArray(out, outAt + i);
        }
        for (; i < to; i++) out[outAt + i] = cond[condAt + i] != 0 ? x[xAt + (xScalar ? 0 : i)] : y[yAt + (yScalar ? 0 : i)];
    }

    /** A vector's worth of {@code value}, in this thread's scratch {@code slot}. */
    private static float[] copies(int slot, float value) {
        float[] lanes = Scratch.floats(slot, SPECIES.length());
        java.util.Arrays.fill(lanes, 0, SPECIES.length(), value);
        return lanes;
    }

    /**
     * out[i] = f(x[i]) for i in [from, to); each array starts at its slice's offset. The common
     * functions run on vectors, each in a loop of its own (below): Abs, Neg, Sqrt, Reciprocal,
     * Relu, LeakyRelu, Floor, Ceil and Round exactly as the generic path computes them, the rest
     * of them in float arithmetic and the Vector API's lane-wise functions (within a few units in
     * the last place of the float result; the generic path rounds a double). Other functions, and
     * the last partial vector, go through {@link Unary#apply} in double, one element at a time:
     * 200,704 floats through Exp took 1.1–1.6 ms so, 11–20× ONNX Runtime's time.
     */
    static void unary(Unary f, double alpha, double beta, FloatArrays.Slice x, FloatArrays.Slice out, int from, int to) {
        float[] xs = x.array(), ys = out.array();
        int n = SPECIES.loopBound(to - from), xi = x.offset() + from, yi = out.offset() + from;
        float a = (float) alpha, b = (float) beta; // float attributes: a product with a float is the double path's, rounded
        boolean vectors = true;
        switch (f) {
            case RELU -> applyRelu(xs, xi, ys, yi, n);
            case ABS -> applyAbs(xs, xi, ys, yi, n);
            case NEG -> applyNeg(xs, xi, ys, yi, n);
            case SQRT -> applySqrt(xs, xi, ys, yi, n);
            case RECIPROCAL -> applyReciprocal(xs, xi, ys, yi, n);
            case ROUND -> applyRound(xs, xi, ys, yi, n);
            case FLOOR -> applyFloor(xs, xi, ys, yi, n);
            case CEIL -> applyCeil(xs, xi, ys, yi, n);
            case LEAKY_RELU -> applyLeakyRelu(xs, xi, ys, yi, n, a);
            case EXP -> applyExp(xs, xi, ys, yi, n);
            case LOG -> applyLog(xs, xi, ys, yi, n);
            case SIN -> applySin(xs, xi, ys, yi, n);
            case COS -> applyCos(xs, xi, ys, yi, n);
            case TANH -> applyTanh(xs, xi, ys, yi, n);
            case SIGMOID -> applySigmoid(xs, xi, ys, yi, n);
            case ELU -> applyElu(xs, xi, ys, yi, n, a);
            case HARD_SIGMOID -> applyHardSigmoid(xs, xi, ys, yi, n, a, b);
            case SOFTSIGN -> applySoftsign(xs, xi, ys, yi, n);
            case SOFTPLUS -> applySoftplus(xs, xi, ys, yi, n);
            default -> vectors = false;
        }
        for (int i = vectors ? from + n : from; i < to; i++) ys[out.offset() + i] = (float) f.apply(xs[x.offset() + i], alpha, beta);
    }

    // The loops of unary, y[yi + k] = f(x[xi + k]) for k in [0, n), n whole vectors, each a method of its own, compiled with
    // an inlining budget of its own: all in unary, a JVM that had run several of them left the later ones' vector calls out
    // of line and boxed (Log, Floor, Round, Elu 5-7x ONNX Runtime's time after the others, 0.3-1.1x alone). Named apply...,
    // since the JVM flags force FloatFastPaths::exp* inline.

    private static void applyRelu(float[] x, int xi, float[] y, int yi, int n) {
        for (int k = 0; k < n; k += VL) FloatVector.fromArray(SPECIES, x, xi + k).max(0f).intoArray(y, yi + k);
    }

    private static void applyAbs(float[] x, int xi, float[] y, int yi, int n) {
        for (int k = 0; k < n; k += VL) FloatVector.fromArray(SPECIES, x, xi + k).abs().intoArray(y, yi + k);
    }

    private static void applyNeg(float[] x, int xi, float[] y, int yi, int n) {
        for (int k = 0; k < n; k += VL) FloatVector.fromArray(SPECIES, x, xi + k).neg().intoArray(y, yi + k);
    }

    private static void applySqrt(float[] x, int xi, float[] y, int yi, int n) {
        for (int k = 0; k < n; k += VL) FloatVector.fromArray(SPECIES, x, xi + k).sqrt().intoArray(y, yi + k);
    }

    private static void applyReciprocal(float[] x, int xi, float[] y, int yi, int n) {
        for (int k = 0; k < n; k += VL) FloatVector.broadcast(SPECIES, 1f).div(FloatVector.fromArray(SPECIES, x, xi + k)).intoArray(y, yi + k);
    }

    private static void applyRound(float[] x, int xi, float[] y, int yi, int n) {
        for (int k = 0; k < n; k += VL) rint(FloatVector.fromArray(SPECIES, x, xi + k)).intoArray(y, yi + k);
    }

    private static void applyFloor(float[] x, int xi, float[] y, int yi, int n) {
        for (int k = 0; k < n; k += VL) {
            FloatVector v = FloatVector.fromArray(SPECIES, x, xi + k), r = rint(v);
            r.blend(r.sub(1f), r.compare(VectorOperators.GT, v)).intoArray(y, yi + k);
        }
    }

    private static void applyCeil(float[] x, int xi, float[] y, int yi, int n) {
        for (int k = 0; k < n; k += VL) {
            FloatVector v = FloatVector.fromArray(SPECIES, x, xi + k), r = rint(v);
            // x's sign put back: a ceiling of 0 from below 0 is −0
            r.blend(r.add(1f), r.compare(VectorOperators.LT, v)).reinterpretAsInts().or(v.reinterpretAsInts().and(Integer.MIN_VALUE))
                    .reinterpretAsFloats().intoArray(y, yi + k);
        }
    }

    private static void applyLeakyRelu(float[] x, int xi, float[] y, int yi, int n, float slope) {
        for (int k = 0; k < n; k += VL) {
            FloatVector v = FloatVector.fromArray(SPECIES, x, xi + k);
            v.blend(v.mul(slope), v.lt(0f)).intoArray(y, yi + k);
        }
    }

    private static void applyExp(float[] x, int xi, float[] y, int yi, int n) {
        for (int k = 0; k < n; k += VL) FloatVector.fromArray(SPECIES, x, xi + k).lanewise(VectorOperators.EXP).intoArray(y, yi + k);
    }

    private static void applyLog(float[] x, int xi, float[] y, int yi, int n) {
        for (int k = 0; k < n; k += VL) FloatVector.fromArray(SPECIES, x, xi + k).lanewise(VectorOperators.LOG).intoArray(y, yi + k);
    }

    private static void applySin(float[] x, int xi, float[] y, int yi, int n) {
        for (int k = 0; k < n; k += VL) FloatVector.fromArray(SPECIES, x, xi + k).lanewise(VectorOperators.SIN).intoArray(y, yi + k);
    }

    private static void applyCos(float[] x, int xi, float[] y, int yi, int n) {
        for (int k = 0; k < n; k += VL) FloatVector.fromArray(SPECIES, x, xi + k).lanewise(VectorOperators.COS).intoArray(y, yi + k);
    }

    private static void applyTanh(float[] x, int xi, float[] y, int yi, int n) {
        for (int k = 0; k < n; k += VL) FloatVector.fromArray(SPECIES, x, xi + k).lanewise(VectorOperators.TANH).intoArray(y, yi + k);
    }

    private static void applySigmoid(float[] x, int xi, float[] y, int yi, int n) {
        for (int k = 0; k < n; k += VL) {
            FloatVector.broadcast(SPECIES, 1f).div(FloatVector.fromArray(SPECIES, x, xi + k).neg().lanewise(VectorOperators.EXP).add(1f)).intoArray(y, yi + k);
        }
    }

    private static void applyElu(float[] x, int xi, float[] y, int yi, int n, float scale) {
        for (int k = 0; k < n; k += VL) {
            FloatVector v = FloatVector.fromArray(SPECIES, x, xi + k);
            v.blend(v.lanewise(VectorOperators.EXPM1).mul(scale), v.lt(0f)).intoArray(y, yi + k);
        }
    }

    private static void applyHardSigmoid(float[] x, int xi, float[] y, int yi, int n, float a, float b) {
        for (int k = 0; k < n; k += VL) FloatVector.fromArray(SPECIES, x, xi + k).fma(a, b).max(0f).min(1f).intoArray(y, yi + k);
    }

    private static void applySoftsign(float[] x, int xi, float[] y, int yi, int n) {
        for (int k = 0; k < n; k += VL) {
            FloatVector v = FloatVector.fromArray(SPECIES, x, xi + k);
            v.div(v.abs().add(1f)).intoArray(y, yi + k);
        }
    }

    /** log(1 + e^x) as max(x, 0) + log1p(e^−|x|): no overflow, no loss for very negative x. */
    private static void applySoftplus(float[] x, int xi, float[] y, int yi, int n) {
        for (int k = 0; k < n; k += VL) {
            FloatVector v = FloatVector.fromArray(SPECIES, x, xi + k);
            v.abs().neg().lanewise(VectorOperators.EXP).lanewise(VectorOperators.LOG1P).add(v.max(0f)).intoArray(y, yi + k);
        }
    }
}
