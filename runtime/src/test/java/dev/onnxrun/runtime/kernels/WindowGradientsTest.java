package dev.onnxrun.runtime.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.onnxrun.runtime.Parallel;
import dev.onnxrun.runtime.Tensor;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class WindowGradientsTest {
    static Tensor random(SplittableRandom r, long... shape) {
        Tensor t = Tensor.allocate(dev.onnxrun.runtime.DType.FLOAT, shape);
        for (long i = 0; i < t.size(); i++) t.setFloat(i, (float) r.nextDouble(-1, 1));
        return t;
    }

    /** The float32 weight gradient (SIMD dots, batch split over threads) against the double reference, on sizes that leave vector tails. */
    @Test
    void convWeightGradFloatPathMatchesTheReference() {
        SplittableRandom r = new SplittableRandom(11);
        // {batch, channels, out channels, groups, size, kernel, stride, pad}
        int[][] cases = {{1, 1, 1, 1, 1, 1, 1, 0}, {3, 2, 4, 1, 7, 3, 1, 1}, {5, 4, 6, 2, 13, 3, 2, 0}, {2, 3, 3, 3, 18, 5, 1, 2},
            {4, 1, 6, 1, 28, 5, 1, 2}, {7, 6, 16, 1, 14, 5, 1, 0}};
        try (Parallel threads = new Parallel(3)) {
            for (int[] c : cases) {
                long n = c[0], ch = c[1], m = c[2], g = c[3], size = c[4], k = c[5], stride = c[6], pad = c[7];
                Conv.Params p = new Conv.Params(new long[] {k, k}, new long[] {stride, stride}, null, new long[] {pad, pad, pad, pad},
                        Windows.AutoPad.NOTSET, g, null, null);
                long out = (size + 2 * pad - k) / stride + 1;
                Tensor x = random(r, n, ch, size, size), dy = random(r, n, m, out, out);
                assertWeightGradMatchesTheReference(x, dy, new long[] {m, ch / g, k, k}, p, threads, java.util.Arrays.toString(c));
            }
        }
    }

    private static void assertWeightGradMatchesTheReference(Tensor x, Tensor dy, long[] wShape, Conv.Params p, Parallel threads, String what) {
        Tensor fast = WindowGradients.convWeightGrad(x, dy, wShape, p, threads);
        Tensor reference = WindowGradients.convWeightGradReference(x, dy, wShape, p);
        assertArrayEquals(wShape, fast.shape());
        for (long i = 0; i < reference.size(); i++) {
            assertEquals(reference.getDouble(i), fast.getDouble(i), 1e-4 * (1 + Math.abs(reference.getDouble(i))), what + " at " + i);
        }
    }

    /**
     * The float32 weight gradient's zero-padded layout (2-D, stride 1) with dilations and
     * uneven pads, and the line-by-line layout it falls back to when X holds an infinity.
     */
    @Test
    void convWeightGradPaddedLayoutMatchesTheReference() {
        SplittableRandom r = new SplittableRandom(13);
        try (Parallel threads = new Parallel(2)) {
            // {pad top, pad left, pad bottom, pad right, dilation h, dilation w, infinity in X}
            int[][] cases = {{0, 1, 2, 0, 1, 1, 0}, {2, 2, 1, 3, 2, 1, 0}, {1, 0, 0, 1, 1, 3, 0}, {1, 1, 1, 1, 1, 1, 1}};
            for (int[] c : cases) {
                Conv.Params p = new Conv.Params(new long[] {3, 2}, new long[] {1, 1}, new long[] {c[4], c[5]},
                        new long[] {c[0], c[1], c[2], c[3]}, Windows.AutoPad.NOTSET, 1, null, null);
                Tensor x = random(r, 3, 2, 9, 11);
                if (c[6] == 1) x.setFloat(17, Float.POSITIVE_INFINITY);
                long outH = 9 + c[0] + c[2] - 2L * c[4], outW = 11 + c[1] + c[3] - c[5];
                Tensor dy = random(r, 3, 4, outH, outW);
                assertWeightGradMatchesTheReference(x, dy, new long[] {4, 2, 3, 2}, p, threads, java.util.Arrays.toString(c));
            }
        }
    }

    /**
     * MaxPoolGrad adds each dY where MaxPool's own Indices output points: ties (ReLU zeros), NaNs,
     * padding, strides, dilations and ceil mode, on float32 (into NaN-filled arena slices) and double.
     */
    @Test
    void maxPoolGradLandsWhereMaxPoolIndicesPoint() {
        SplittableRandom r = new SplittableRandom(5);
        // {kernel, stride, dilation, pad begin, pad end, ceil}
        int[][] cases = {{2, 2, 1, 0, 0, 0}, {3, 2, 1, 1, 1, 1}, {3, 1, 2, 2, 0, 0}, {2, 3, 1, 1, 0, 1}, {1, 1, 1, 0, 0, 0}};
        try (Parallel threads = new Parallel(2)) {
            for (int[] c : cases) {
                for (int rank = 1; rank <= 3; rank++) {
                    long[] shape = new long[rank + 2], kernel = new long[rank], strides = new long[rank], dilations = new long[rank];
                    long[] pads = new long[2 * rank];
                    shape[0] = 2;
                    shape[1] = 3;
                    for (int d = 0; d < rank; d++) {
                        shape[d + 2] = 5 + r.nextInt(rank == 3 ? 3 : 9);
                        kernel[d] = c[0];
                        strides[d] = c[1];
                        dilations[d] = c[2];
                        pads[d] = c[3];
                        pads[rank + d] = c[4];
                    }
                    Pooling.Params p = new Pooling.Params(kernel, strides, dilations, pads, Windows.AutoPad.NOTSET, c[5] == 1, false, 2, false);
                    Tensor x = random(r, shape);
                    for (long i = 0; i < x.size(); i++) {
                        // ReLU-like zeros make ties; a few NaNs win their windows
                        x.setFloat(i, i % 37 == 5 ? Float.NaN : Math.max(0, x.getFloat(i)));
                    }
                    Tensor[] pooled = Pooling.pool(x, Pooling.Kind.MAX, p, true, dev.onnxrun.runtime.ExecContext.singleThreaded());
                    Tensor dy = random(r, pooled[0].shape());
                    double[] expected = new double[(int) x.size()];
                    for (long o = 0; o < dy.size(); o++) {
                        long at = pooled[1].getLong(o);
                        if (at >= 0) expected[(int) at] += dy.getFloat(o);
                    }
                    Tensor fast = WindowGradients.maxPoolGrad(dy, x, p, ArenaSlices.context(threads));
                    Tensor wide = WindowGradients.maxPoolGrad(RandomTensors.asDouble(dy), RandomTensors.asDouble(x), p,
                            dev.onnxrun.runtime.ExecContext.singleThreaded());
                    for (int i = 0; i < expected.length; i++) {
                        String where = java.util.Arrays.toString(c) + " rank " + rank + " at " + i;
                        assertEquals((float) expected[i], fast.getFloat(i), 1e-6, where);
                        assertEquals(expected[i], wide.getDouble(i), 1e-12, where);
                    }
                }
            }
        }
    }
}
