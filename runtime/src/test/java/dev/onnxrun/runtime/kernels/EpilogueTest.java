package dev.onnxrun.runtime.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.onnxrun.runtime.DType;
import dev.onnxrun.runtime.ExecContext;
import dev.onnxrun.runtime.Parallel;
import dev.onnxrun.runtime.Tensor;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Fused epilogues against their unfused twins: the float32 activation paths against the double
 * forms (on sizes that break loop tails, with NaN, ±Inf, ±0 and denormals), and fused Conv and
 * Gemm against the plain kernel followed by a residual add and the activation.
 */
class EpilogueTest {
    private static final int[] SIZES = {1, 4, 7, 8, 13, 16, 18, 25, 100, 207, 256, 300, 512, 1023, 4098};
    private static final float[] SPECIAL = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 0f, -0f, Float.MIN_VALUE, -Float.MIN_VALUE};

    private static Tensor random(Random r, long... shape) {
        int n = 1;
        for (long d : shape) n *= (int) d;
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = r.nextFloat() * 8 - 4;
        return Tensor.of(v, shape);
    }

    private static Activation[] activations() {
        Activation.Kind[] kinds = Activation.Kind.values();
        Activation[] out = new Activation[kinds.length];
        for (int i = 0; i < kinds.length; i++) {
            out[i] = switch (kinds[i]) {
                case CLIP -> new Activation(kinds[i], 0f, 6f);
                case LEAKY_RELU -> new Activation(kinds[i], 0.1f, 0f);
                case HARD_SIGMOID -> new Activation(kinds[i], 0.2f, 0.5f);
                default -> new Activation(kinds[i], 0f, 0f);
            };
        }
        return out;
    }

    @Test
    void floatPathMatchesDoubleTwin() {
        Random r = new Random(3);
        for (Activation act : activations()) {
            for (int n : SIZES) {
                float[] x = new float[n];
                for (int i = 0; i < n; i++) x[i] = i < SPECIAL.length && n > 16 ? SPECIAL[i] : r.nextFloat() * 16 - 8;
                float[] y = x.clone();
                act.apply(y, 0, n);
                for (int i = 0; i < n; i++) {
                    float expected = (float) act.apply(x[i]);
                    float tolerance = Float.isFinite(expected) ? 1e-6f * Math.max(1, Math.abs(expected)) : 0f;
                    assertEquals(expected, y[i], tolerance, act + " at " + i + " of " + n + " x=" + x[i]);
                }
            }
        }
    }

    @Test
    void fusedConvMatchesConvThenResidualThenActivation() {
        Random r = new Random(5);
        try (Parallel par = new Parallel(3)) {
            // pointwise, im2col (stride 2) and depthwise convolutions (stride 2: a narrow map, in channel blocks), each with a
            // residual and each activation
            long[][] weights = {{8, 6, 1, 1}, {8, 6, 3, 3}, {6, 1, 3, 3}, {6, 1, 3, 3}};
            long[] groups = {1, 1, 6, 6};
            long[][] strides = {{1, 1}, {2, 2}, {1, 1}, {2, 2}};
            for (int c = 0; c < weights.length; c++) {
                Tensor x = random(r, 2, 6, 9, 11), w = random(r, weights[c]), b = random(r, weights[c][0]);
                long pad = weights[c][2] / 2;
                Conv.Params p = new Conv.Params(null, strides[c], null, new long[] {pad, pad, pad, pad}, Windows.AutoPad.NOTSET, groups[c], null, null);
                Tensor plain = Conv.conv(x, w, b, p, ExecContext.singleThreaded());
                Tensor skip = random(r, plain.shape());
                for (Activation act : activations()) {
                    for (Parallel threads : new Parallel[] {Parallel.SERIAL, par}) {
                        float[] fused = Conv.conv(x, w, null, b, skip, act, p, new ExecContext(ExecContext.Scope.EMPTY, threads)).toFloatArray();
                        for (int i = 0; i < fused.length; i++) {
                            double expected = act.apply(plain.getFloat(i) + skip.getFloat(i));
                            assertEquals(expected, fused[i], 1e-4 * Math.max(1, Math.abs(expected)), act + " conv " + c + " at " + i);
                        }
                    }
                }
            }
        }
    }

    @Test
    void pointwiseConvWithAnEpilogueRunsInColumnBlocks() {
        // 64 input channels: blocks of 4096 columns, so a 70×70 map takes two, the second partial
        Random r = new Random(9);
        Tensor x = random(r, 1, 64, 70, 70), w = random(r, 8, 64, 1, 1), b = random(r, 8);
        Conv.Params p = new Conv.Params(null, null, null, null, Windows.AutoPad.NOTSET, 1, null, null);
        Tensor plain = Conv.conv(x, w, b, p, ExecContext.singleThreaded());
        Activation relu6 = new Activation(Activation.Kind.CLIP, 0f, 6f);
        float[] fused = Conv.conv(x, w, null, b, null, relu6, p, ExecContext.singleThreaded()).toFloatArray();
        for (int i = 0; i < fused.length; i++) assertEquals(relu6.apply(plain.getFloat(i)), fused[i], 1e-4, "at " + i);
    }

    @Test
    void fusedConvOnDoublesAppliesTheEpilogueAfter() {
        Random r = new Random(6);
        Tensor x = Cast.cast(random(r, 1, 2, 5, 5), DType.DOUBLE, false), w = Cast.cast(random(r, 3, 2, 3, 3), DType.DOUBLE, false);
        Conv.Params p = new Conv.Params(null, null, null, null, Windows.AutoPad.NOTSET, 1, null, null);
        Tensor plain = Conv.conv(x, w, null, p, ExecContext.singleThreaded());
        Tensor skip = Cast.cast(random(r, plain.shape()), DType.DOUBLE, false);
        Activation relu = new Activation(Activation.Kind.RELU, 0, 0);
        Tensor fused = Conv.conv(x, w, null, null, skip, relu, p, ExecContext.singleThreaded());
        for (long i = 0; i < fused.size(); i++) assertEquals(Math.max(0, plain.getDouble(i) + skip.getDouble(i)), fused.getDouble(i), 1e-12);
    }

    @Test
    void fusedGemmMatchesGemmThenActivation() {
        Random r = new Random(7);
        Activation gelu = new Activation(Activation.Kind.GELU, 0, 0);
        for (int m : new int[] {1, 5, 7, 300}) {
            Tensor a = random(r, m, 37), b = random(r, 19, 37), c = random(r, 19);
            Tensor plain = MatrixOps.gemm(a, b, c, false, true, 0.5f, 2f, Parallel.SERIAL);
            Gemm.PackedB packed = MatrixOps.packRight(b, true);
            for (Gemm.PackedB pb : new Gemm.PackedB[] {null, packed}) {
                float[] fused = FusedGemm.gemm(a, b, pb, c, null, false, true, 0.5f, 2f, gelu, ExecContext.singleThreaded()).toFloatArray();
                for (int i = 0; i < fused.length; i++) {
                    double expected = gelu.apply(plain.getFloat(i));
                    assertEquals(expected, fused[i], 1e-4 * Math.max(1, Math.abs(expected)), "m=" + m + " at " + i);
                }
            }
        }
    }

    @Test
    void fusedGemmFoldsBatchAxesIntoRowsAndAddsTheResidual() {
        Random r = new Random(8);
        Tensor a = random(r, 2, 3, 4, 6), b = random(r, 6, 5), bias = random(r, 5);
        Tensor product = MatrixOps.matMul(a, b, Parallel.SERIAL);
        Tensor skip = random(r, product.shape());
        Activation tanh = new Activation(Activation.Kind.TANH, 0, 0);
        Tensor fused = FusedGemm.gemm(a, b, null, bias, skip, false, false, 1f, 1f, tanh, ExecContext.singleThreaded());
        assertEquals(java.util.Arrays.toString(product.shape()), java.util.Arrays.toString(fused.shape()));
        for (long i = 0; i < fused.size(); i++) {
            assertEquals(Math.tanh(product.getFloat(i) + bias.getFloat(i % 5) + skip.getFloat(i)), fused.getFloat(i), 1e-5);
        }
        Tensor doubles = FusedGemm.gemm(Cast.cast(a, DType.DOUBLE, false), Cast.cast(b, DType.DOUBLE, false), null,
                Cast.cast(bias, DType.DOUBLE, false), Cast.cast(skip, DType.DOUBLE, false), false, false, 1f, 1f, tanh, ExecContext.singleThreaded());
        for (long i = 0; i < fused.size(); i++) assertEquals(fused.getFloat(i), doubles.getDouble(i), 1e-5);
    }

    @Test
    void fusedResidualRoundsAsTheUnfusedAddDoes() {
        Random r = new Random(10);
        // 300 rows of 256 columns span two of the kernel's row blocks
        for (int m : new int[] {1, 7, 300}) {
            Tensor a = random(r, m, 40), b = random(r, 40, 256), bias = random(r, 256), skip = random(r, m, 256);
            Gemm.PackedB packed = MatrixOps.packRight(b, false);
            float[] product = FusedGemm.gemm(a, b, packed, bias, null, false, false, 1f, 1f, Activation.NONE, ExecContext.singleThreaded()).toFloatArray();
            float[] fused = FusedGemm.gemm(a, b, packed, bias, skip, false, false, 1f, 1f, Activation.NONE, ExecContext.singleThreaded()).toFloatArray();
            for (int i = 0; i < fused.length; i++) assertEquals(product[i] + skip.getFloat(i), fused[i], 0f, "m=" + m + " at " + i);
        }
    }

    /** With packed weights the threads set up and finish the rows they compute: the same floats as on one thread, for every kind of C. */
    @Test
    void fusedGemmOnThreadsMatchesOneThread() {
        Random r = new Random(11);
        Activation relu = new Activation(Activation.Kind.RELU, 0, 0);
        try (Parallel par = new Parallel(3)) {
            // 300 rows: row blocks of several tasks; 100 columns: a partial panel; depth 300: two depth blocks
            Tensor a = random(r, 300, 300), b = random(r, 300, 100), skip = random(r, 300, 100);
            Gemm.PackedB packed = MatrixOps.packRight(b, false);
            for (Tensor c : new Tensor[] {null, random(r, 100), random(r, 300, 1), random(r, 300, 100)}) {
                for (float beta : new float[] {1f, 0.5f}) {
                    for (Tensor residual : new Tensor[] {null, skip}) {
                        float[] one = FusedGemm.gemm(a, b, packed, c, residual, false, false, 1f, beta, relu, ExecContext.singleThreaded()).toFloatArray();
                        float[] many = FusedGemm.gemm(a, b, packed, c, residual, false, false, 1f, beta, relu, ExecContext.on(par)).toFloatArray();
                        Tensor plain = MatrixOps.gemm(a, b, c, false, false, 1f, beta, Parallel.SERIAL);
                        for (int i = 0; i < one.length; i++) {
                            double expected = Math.max(0, plain.getFloat(i) + (residual == null ? 0 : residual.getFloat(i)));
                            assertEquals(expected, one[i], 1e-3 * Math.max(1, Math.abs(expected)), "at " + i);
                        }
                        org.junit.jupiter.api.Assertions.assertArrayEquals(one, many, "C " + (c == null ? "none" : java.util.Arrays.toString(c.shape()))
                                + ", beta " + beta + (residual == null ? "" : ", residual"));
                    }
                }
            }
        }
    }

    @Test
    void fusedGemmWritesIntoPlannedMemoryAtItsOffset() {
        Random r = new Random(9);
        Tensor a = random(r, 70, 33), b = random(r, 33, 20), bias = random(r, 20), skip = random(r, 70, 20);
        Activation relu = new Activation(Activation.Kind.RELU, 0, 0);
        for (Tensor residual : new Tensor[] {null, skip}) {
            float[] expected = FusedGemm.gemm(a, b, null, bias, residual, false, false, 1f, 1f, relu, ExecContext.singleThreaded()).toFloatArray();
            Tensor planned = FusedGemm.gemm(a, b, null, bias, residual, false, false, 1f, 1f, relu, ArenaSlices.context(new Parallel(2)));
            assertEquals(37 * Float.BYTES, planned.segment().address(), "the kernel wrote into the memory it was given");
            org.junit.jupiter.api.Assertions.assertArrayEquals(expected, planned.toFloatArray());
        }
    }
}
