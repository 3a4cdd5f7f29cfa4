package dev.onnxrun.runtime.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.onnxrun.runtime.DType;
import dev.onnxrun.runtime.ExecContext;
import dev.onnxrun.runtime.Parallel;
import dev.onnxrun.runtime.Shapes;
import dev.onnxrun.runtime.Tensor;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ElementwiseTest {
    private static final int[] SIZES = {1, 7, 8, 13, 100, 1023};

    /** Random floats with NaN, infinities, zeros of both signs and negatives sprinkled in. */
    private static float[] values(int n, long seed) {
        Random r = new Random(seed);
        float[] v = new float[n];
        float[] special = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 0f, -0f, -1.5f};
        for (int i = 0; i < n; i++) v[i] = r.nextInt(5) == 0 ? special[r.nextInt(special.length)] : (float) r.nextGaussian() * 10;
        return v;
    }

    private static void assertSameBits(float[] expected, float[] actual, String what) {
        for (int i = 0; i < expected.length; i++) {
            assertEquals(Float.floatToIntBits(expected[i]), Float.floatToIntBits(actual[i]),
                    what + " at " + i + ": " + expected[i] + " vs " + actual[i]);
        }
    }

    @Test
    void floatFastPathMatchesGenericForArithmetic() {
        Parallel p = new Parallel(3);
        for (Binary op : new Binary[] {Binary.ADD, Binary.SUB, Binary.MUL, Binary.DIV, Binary.MIN, Binary.MAX}) {
            for (int n : SIZES) {
                Tensor a = Tensor.of(values(n, n), n);
                Tensor b = Tensor.of(values(n, n + 1000), n);
                Tensor scalar = Tensor.of(new float[] {values(1, n + 7)[0] + 0.5f}, 1);
                for (Tensor[] pair : new Tensor[][] {{a, b}, {a, scalar}, {scalar, b}}) {
                    Tensor fast = Elementwise.binary(op, pair[0], pair[1], new ExecContext(ExecContext.Scope.EMPTY, p));
                    Broadcast bc = Broadcast.of(pair[0], pair[1]);
                    Tensor generic = Tensor.allocate(fast.dtype(), bc.outShape());
                    Elementwise.binaryGeneric(op, pair[0], pair[1], bc, generic, Parallel.SERIAL);
                    assertSameBits(generic.toFloatArray(), fast.toFloatArray(), op + " n=" + n);
                }
            }
        }
        p.close();
    }

    @Test
    void blockedBroadcastFastPathMatchesGeneric() {
        long[][][] shapePairs = {
                {{2, 3, 4}, {4}}, {{2, 3, 4}, {3, 1}}, {{3, 1}, {2, 3, 4}}, {{2, 3, 4}, {1, 3, 1}},
                {{2, 3, 4}, {2, 1, 1}}, {{5, 7}, {7}}, {{7}, {5, 7}}, {{2, 3, 4}, {3, 4}}, {{4, 3, 8}, {3, 1}}};
        try (Parallel p = new Parallel(2)) {
            for (Binary op : new Binary[] {Binary.ADD, Binary.SUB, Binary.MUL, Binary.DIV, Binary.MIN, Binary.MAX}) {
                for (long[][] shapes : shapePairs) {
                    Tensor a = Tensor.of(values((int) Shapes.size(shapes[0]), 11), shapes[0]);
                    Tensor b = Tensor.of(values((int) Shapes.size(shapes[1]), 12), shapes[1]);
                    Tensor fast = Elementwise.binary(op, a, b, new ExecContext(ExecContext.Scope.EMPTY, p));
                    Broadcast bc = Broadcast.of(a, b);
                    Tensor generic = Tensor.allocate(DType.FLOAT, bc.outShape());
                    Elementwise.binaryGeneric(op, a, b, bc, generic, Parallel.SERIAL);
                    assertSameBits(generic.toFloatArray(), fast.toFloatArray(), op + " " + a.describe() + " " + b.describe());
                }
            }
        }
    }

    @Test
    void floatFastPathMatchesGenericForExactFunctions() {
        for (Unary f : new Unary[] {Unary.RELU, Unary.ABS, Unary.NEG, Unary.SQRT, Unary.RECIPROCAL, Unary.LEAKY_RELU,
                Unary.FLOOR, Unary.CEIL, Unary.ROUND}) {
            for (int n : SIZES) {
                float[][] both = fastAndGeneric(f, n);
                assertSameBits(both[1], both[0], f + " n=" + n);
            }
        }
    }

    /** Clip in one pass gives the bits of its two passes, Max then Min (NaN stays, −0 as Java's max keeps it), one bound or both. */
    @Test
    void clipInOnePassMatchesMaxThenMin() {
        Parallel p = Parallel.SERIAL;
        for (int n : SIZES) {
            Tensor x = Tensor.of(values(n, 5 * n), n), lo = Tensor.of(new float[] {-0f}, 1), hi = Tensor.of(new float[] {6f}, 1);
            ExecContext heap = new ExecContext(ExecContext.Scope.EMPTY, p);
            float[] bothPasses = Elementwise.binary(Binary.MIN, Elementwise.binary(Binary.MAX, x, lo, heap), hi, heap).toFloatArray();
            assertSameBits(bothPasses, Elementwise.clip(x, lo, hi, p).toFloatArray(), "Clip n=" + n);
            assertSameBits(Elementwise.binary(Binary.MAX, x, lo, heap).toFloatArray(), Elementwise.clip(x, lo, null, p).toFloatArray(), "Clip min n=" + n);
            assertSameBits(Elementwise.binary(Binary.MIN, x, hi, heap).toFloatArray(), Elementwise.clip(x, null, hi, p).toFloatArray(), "Clip max n=" + n);
        }
    }

    /** Ties, signed zeros and the edge of 2²³, where the vector rounding trick could go wrong; 64 values, so vectors do them. */
    @Test
    void floatRoundingMatchesGenericAtEdges() {
        float[] edges = {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 0.49999997f, -0.49999997f, 4.5f, -4.5f, 8388607.5f, -8388607.5f,
                8388608f, -8388608f, 8388609f, 1e10f, -1e10f, 0f, -0f, Float.MIN_VALUE, -Float.MIN_VALUE, 1.0000001f, -0.99999994f,
                Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 16777215f, -3.4e38f};
        float[] x = new float[64];
        for (int i = 0; i < x.length; i++) x[i] = edges[i % edges.length];
        for (Unary f : new Unary[] {Unary.FLOOR, Unary.CEIL, Unary.ROUND}) {
            Tensor in = Tensor.of(x, x.length);
            Tensor fast = Elementwise.unary(f, in, 0, 0, new ExecContext(ExecContext.Scope.EMPTY, Parallel.SERIAL));
            Tensor generic = Tensor.allocate(DType.FLOAT, in.shape());
            Elementwise.unaryGeneric(f, in, 0, 0, generic, Parallel.SERIAL);
            assertSameBits(generic.toFloatArray(), fast.toFloatArray(), f + " at the edges");
        }
    }

    /** The transcendental functions on vectors: within four units in the last place of the generic path's rounded double. */
    @Test
    void floatFastPathIsCloseToGenericForTranscendentalFunctions() {
        for (Unary f : new Unary[] {Unary.EXP, Unary.LOG, Unary.SIN, Unary.COS, Unary.TANH, Unary.SIGMOID, Unary.ELU, Unary.HARD_SIGMOID,
                Unary.SOFTSIGN, Unary.SOFTPLUS}) {
            for (int n : SIZES) {
                float[][] both = fastAndGeneric(f, n);
                assertWithinUlps(both[1], both[0], f + " n=" + n);
            }
        }
    }

    /** Pow on vectors: within four units in the last place of the generic path's rounded Math.pow, with tensor and scalar exponents. */
    @Test
    void floatFastPathIsCloseToGenericForPow() {
        for (int n : SIZES) {
            Tensor a = Tensor.of(values(n, n), n), b = Tensor.of(values(n, n + 1000), n);
            for (Tensor exponent : new Tensor[] {b, Tensor.of(new float[] {2f}, 1), Tensor.of(new float[] {3f}, 1), Tensor.of(new float[] {0.5f}, 1)}) {
                float[] fast = Elementwise.binary(Binary.POW, a, exponent, new ExecContext(ExecContext.Scope.EMPTY, Parallel.SERIAL)).toFloatArray();
                Broadcast bc = Broadcast.of(a, exponent);
                Tensor generic = Tensor.allocate(DType.FLOAT, bc.outShape());
                Elementwise.binaryGeneric(Binary.POW, a, exponent, bc, generic, Parallel.SERIAL);
                assertWithinUlps(generic.toFloatArray(), fast, "Pow n=" + n + " exponent " + exponent.size());
            }
        }
    }

    /** Equal where {@code expected} is NaN or infinite, else within four units in its last place. */
    private static void assertWithinUlps(float[] expected, float[] actual, String what) {
        for (int i = 0; i < expected.length; i++) {
            String where = what + " at " + i + ": " + expected[i] + " vs " + actual[i];
            if (Float.isNaN(expected[i]) || Float.isInfinite(expected[i])) assertEquals(Float.floatToIntBits(expected[i]), Float.floatToIntBits(actual[i]), where);
            else assertEquals(expected[i], actual[i], 4 * Math.ulp(expected[i]), where);
        }
    }

    /** f over {@link #values} by {@link Elementwise#unary} (the float fast path) and by the generic path. */
    private static float[][] fastAndGeneric(Unary f, int n) {
        Tensor x = Tensor.of(values(n, 3 * n), n);
        float alpha = 0.2f, beta = 0.6f; // LeakyRelu's slope, Elu's scale, HardSigmoid's alpha and beta
        Tensor fast = Elementwise.unary(f, x, alpha, beta, new ExecContext(ExecContext.Scope.EMPTY, Parallel.SERIAL));
        Tensor generic = Tensor.allocate(x.dtype(), x.shape());
        Elementwise.unaryGeneric(f, x, alpha, beta, generic, Parallel.SERIAL);
        return new float[][] {fast.toFloatArray(), generic.toFloatArray()};
    }

    @Test
    void parallelSplitGivesTheSameResult() {
        int n = (int) Elementwise.PARALLEL_THRESHOLD * 3 + 5;
        Tensor a = Tensor.of(values(n, 1), n), b = Tensor.of(values(n, 2), n);
        try (Parallel p = new Parallel(4)) {
            assertSameBits(Elementwise.binary(Binary.MUL, a, b, new ExecContext(ExecContext.Scope.EMPTY, Parallel.SERIAL)).toFloatArray(),
                    Elementwise.binary(Binary.MUL, a, b, new ExecContext(ExecContext.Scope.EMPTY, p)).toFloatArray(), "parallel mul");
            // pow is a lane-wise Vector API function, whose compiled and interpreted forms may differ in the last bits
            assertWithinUlps(Elementwise.binary(Binary.POW, a, b, new ExecContext(ExecContext.Scope.EMPTY, Parallel.SERIAL)).toFloatArray(),
                    Elementwise.binary(Binary.POW, a, b, new ExecContext(ExecContext.Scope.EMPTY, p)).toFloatArray(), "parallel pow");
        }
    }

    @Test
    void erfIsAccurate() {
        // reference values from the standard tables
        assertEquals(0.5204998778130465, Unary.erf(0.5), 1e-15);
        assertEquals(0.9953222650189527, Unary.erf(2), 1e-15);
        assertEquals(-0.8427007929497149, Unary.erf(-1), 1e-15);
        assertEquals(1.1283791670955126e-10, Unary.erf(1e-10), 1e-25);
        assertEquals(1.0, Unary.erf(7), 0);
    }

    @Test
    void integerPowerWrapsAndHandlesNegativeExponents() {
        assertEquals(1024, Binary.powExact(2, 10));
        assertEquals(-27, Binary.powExact(-3, 3));
        assertEquals(0, Binary.powExact(2, -1));
        assertEquals(-1, Binary.powExact(-1, -3));
        assertEquals(0, Binary.powExact(2, 64));
    }

    /** ReluGrad equals Where(Greater(X, 0), dY, 0) bit for bit, specials included, in float32 (arena slices) and double. */
    @Test
    void reluGradIsWhereGreaterThanZero() {
        try (Parallel p = new Parallel(3)) {
            for (int n : new int[] {1, 7, 8, 13, 100, 1023, 40_000}) {
                Tensor x = Tensor.of(values(n, n), n), dy = Tensor.of(values(n, n + 1), n), zero = Tensor.scalar(0f);
                Tensor expected = Elementwise.where(Elementwise.compare(Comparison.GREATER, x, zero, p), dy, zero, p);
                assertSameBits(expected.toFloatArray(), Elementwise.reluGrad(dy, x, ArenaSlices.context(p)).toFloatArray(), "ReluGrad n=" + n);
                Tensor wide = Elementwise.reluGrad(RandomTensors.asDouble(dy), RandomTensors.asDouble(x), new ExecContext(ExecContext.Scope.EMPTY, p));
                for (int i = 0; i < n; i++) assertEquals(expected.getDouble(i), wide.getDouble(i), "double ReluGrad n=" + n + " at " + i);
            }
        }
    }

    /** The vector exp against Math.exp: within 2 ulp where float has normal results, 0 and ∞ beyond, NaN kept; and the lane sum in its fixed order. */
    @Test
    void vectorExpAndLaneSum() {
        Random r = new Random(3);
        int lanes = FloatFastPaths.SPECIES.length();
        float[] x = new float[lanes * 4000];
        for (int i = 0; i < x.length; i++) x[i] = (float) (r.nextDouble() * 200 - 100);
        float[] special = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 0f, -0f, -87.3f, 88.7f, -87.4f, 88.8f, 1e-8f};
        System.arraycopy(special, 0, x, 0, special.length);
        float[] y = new float[x.length];
        for (int i = 0; i < x.length; i += lanes) FloatFastPaths.exp(jdk.incubator.vector.FloatVector.fromArray(FloatFastPaths.SPECIES, x, i)).intoArray(y, i);
        for (int i = 0; i < x.length; i++) {
            double want = Math.exp(x[i]);
            if (Float.isNaN(x[i])) assertEquals(Float.NaN, y[i], "exp(NaN)");
            else if (x[i] < -87.33654f) assertEquals(0f, y[i], "exp(" + x[i] + ")");
            else if (x[i] > 88.72283f) assertEquals(Float.POSITIVE_INFINITY, y[i], "exp(" + x[i] + ")");
            else assertEquals(want, y[i], 2 * Math.ulp((float) want), "exp(" + x[i] + ")");
        }
        // the non-positive twin: the same bits wherever it applies
        float[] z = new float[x.length];
        for (int i = 0; i < x.length; i += lanes) {
            jdk.incubator.vector.FloatVector v = jdk.incubator.vector.FloatVector.fromArray(FloatFastPaths.SPECIES, x, i);
            v.min(0f).blend(v, v.test(jdk.incubator.vector.VectorOperators.IS_NAN)).intoArray(z, i);
        }
        for (int i = 0; i < x.length; i += lanes) {
            FloatFastPaths.exp(jdk.incubator.vector.FloatVector.fromArray(FloatFastPaths.SPECIES, z, i)).intoArray(y, i);
            float[] twin = new float[lanes];
            FloatFastPaths.expOfNonPositive(jdk.incubator.vector.FloatVector.fromArray(FloatFastPaths.SPECIES, z, i)).intoArray(twin, 0);
            for (int j = 0; j < lanes; j++) assertSameBits(new float[] {y[i + j]}, new float[] {twin[j]}, "exp(" + z[i + j] + ")");
        }
        float[] v = new float[lanes];
        for (int i = 0; i < lanes; i++) v[i] = (float) r.nextGaussian();
        double sum = 0;
        for (float f : v) sum += f;
        assertEquals(sum, FloatFastPaths.sumLanes(jdk.incubator.vector.FloatVector.fromArray(FloatFastPaths.SPECIES, v, 0)), 1e-5);
    }
}
