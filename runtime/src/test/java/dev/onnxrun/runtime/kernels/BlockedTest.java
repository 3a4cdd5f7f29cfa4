package dev.onnxrun.runtime.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.onnxrun.runtime.DType;
import dev.onnxrun.runtime.ExecContext;
import dev.onnxrun.runtime.OnnxrunException;
import dev.onnxrun.runtime.Parallel;
import dev.onnxrun.runtime.Tensor;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The channel-blocked convolution (one group and depthwise) and pooling, unblocked, against the plain kernels (the convolution against the double path). */
class BlockedTest {
    private static final int B = Blocked.BLOCK;

    /** Plain X [N, C, H, W] in the blocked layout, the lanes past C filled with NaN (which nothing may read). */
    private static Tensor block(Tensor x) {
        long[] s = Blocked.shape(x.shape());
        int c = (int) x.dim(1), pixels = (int) (x.dim(2) * x.dim(3)), blocks = (int) s[1];
        float[] src = x.toFloatArray(), dst = new float[(int) (s[0] * blocks * pixels * B)];
        java.util.Arrays.fill(dst, Float.NaN);
        for (int n = 0; n < s[0]; n++) {
            for (int ch = 0; ch < c; ch++) {
                for (int q = 0; q < pixels; q++) dst[((n * blocks + ch / B) * pixels + q) * B + ch % B] = src[(n * c + ch) * pixels + q];
            }
        }
        return Tensor.of(dst, s);
    }

    private record Case(long[] x, int filters, long[] kernel, long[] strides, long[] dilations, long[] pads, long group) {
        Case(long[] x, int filters, long[] kernel, long[] strides, long[] dilations, long[] pads) { this(x, filters, kernel, strides, dilations, pads, 1); }

        Conv.Params params() { return new Conv.Params(kernel, strides, dilations, pads, Windows.AutoPad.NOTSET, group, null, null); }

        /** The same geometry, depthwise: one filter per channel. */
        Case depthwise() { return new Case(x, (int) x[1], kernel, strides, dilations, pads, x[1]); }

        @Override
        public String toString() {
            return "X" + java.util.Arrays.toString(x) + " filters " + filters + " kernel " + java.util.Arrays.toString(kernel) + " strides "
                    + java.util.Arrays.toString(strides) + " dilations " + java.util.Arrays.toString(dilations) + " pads " + java.util.Arrays.toString(pads)
                    + " group " + group;
        }
    }

    /**
     * Random 2-D geometries: channels and filters within and across blocks (so groups of one to
     * four filter blocks, and partial last blocks), maps whose pixels end mid-tile, strides,
     * dilations, uneven pads.
     */
    private static Case randomCase(Random r) {
        long[] kernel = new long[2], strides = new long[2], dilations = new long[2], pads = new long[4], x = new long[4];
        x[0] = 1 + r.nextInt(2);
        x[1] = 1 + r.nextInt(3 * B);
        for (int d = 0; d < 2; d++) {
            kernel[d] = 1 + r.nextInt(5);
            strides[d] = 1 + r.nextInt(3);
            dilations[d] = r.nextInt(4) == 0 ? 2 : 1;
            pads[d] = r.nextInt((int) kernel[d] + 1);
            pads[2 + d] = r.nextInt((int) kernel[d] + 1);
            long span = (kernel[d] - 1) * dilations[d] + 1;
            x[2 + d] = Math.max(1, span - pads[d] - pads[2 + d]) + r.nextInt(20);
        }
        return new Case(x, 1 + r.nextInt(5 * B + 3), kernel, strides, dilations, pads);
    }

    private static void check(Case c, Random r, Parallel par) {
        long[] wShape = {c.filters(), c.x()[1] / c.group(), c.kernel()[0], c.kernel()[1]};
        Tensor x = RandomTensors.uniform(r, c.x()), w = RandomTensors.uniform(r, wShape), b = RandomTensors.uniform(r, c.filters());
        Tensor expected = Conv.conv(Cast.cast(x, DType.DOUBLE, false), Cast.cast(w, DType.DOUBLE, false), Cast.cast(b, DType.DOUBLE, false),
                c.params(), ExecContext.singleThreaded());
        Tensor skip = RandomTensors.uniform(r, expected.shape());
        Tensor blockedSkip = block(skip);
        Activation relu = new Activation(Activation.Kind.RELU, 0, 0), sigmoid = new Activation(Activation.Kind.SIGMOID, 0, 0);
        Activation clip = new Activation(Activation.Kind.CLIP, -0.5f, 0.5f); // a clamp with no residual: the tiles' own clamp pass
        ExecContext ctx = ExecContext.on(par);
        BlockedConv.Weights packed = BlockedConv.pack(w, PackedForm.Stored.NONE);
        for (boolean xBlocked : c.group() == 1 ? new boolean[] {false, true} : new boolean[] {true}) { // depthwise reads blocked X only
            Tensor in = xBlocked ? block(x) : x;
            Tensor plain = BlockedConv.conv(in, xBlocked, w, packed, b, null, Activation.NONE, c.params(), ctx);
            Tensor fused = BlockedConv.conv(in, xBlocked, w, packed, b, blockedSkip, relu, c.params(), ctx);
            Tensor squashed = BlockedConv.conv(in, xBlocked, w, null, null, null, sigmoid, c.params(), ctx);
            Tensor clipped = BlockedConv.conv(in, xBlocked, w, packed, b, null, clip, c.params(), ctx);
            assertArrayEquals(Blocked.shape(expected.shape()), plain.shape(), c.toString());
            Tensor y = Blocked.unblock(plain, c.filters(), ctx), yFused = Blocked.unblock(fused, c.filters(), ctx);
            Tensor ySquashed = Blocked.unblock(squashed, c.filters(), ctx), yClipped = Blocked.unblock(clipped, c.filters(), ctx);
            long pixels = expected.dim(2) * expected.dim(3);
            for (long i = 0; i < expected.size(); i++) {
                double e = expected.getDouble(i), bound = 1e-4 * Math.max(1, Math.abs(e));
                double noBias = e - b.getFloat(i / pixels % c.filters());
                String at = c + (xBlocked ? " blocked X" : "") + " at " + i;
                assertEquals(e, y.getFloat(i), bound, at);
                assertEquals(Math.max(0, e + skip.getFloat(i)), yFused.getFloat(i), bound, "relu(conv + residual) " + at);
                assertEquals(1 / (1 + Math.exp(-noBias)), ySquashed.getFloat(i), 1e-5, "sigmoid(conv), no bias " + at);
                assertEquals(Math.clamp(e, -0.5, 0.5), yClipped.getFloat(i), bound, "clip(conv) " + at);
            }
        }
    }

    @Test
    void convolutionMatchesDoublesOnRandomGeometries() {
        Random r = new Random(41);
        try (Parallel par = new Parallel(2)) {
            for (int i = 0; i < 80; i++) {
                Case c = randomCase(r);
                check(c, r, i % 2 == 0 ? Parallel.SERIAL : par);
                check(c.depthwise(), r, i % 2 == 0 ? par : Parallel.SERIAL);
            }
        }
    }

    /** Pixel counts at each tile's edges, layers big enough to be spread over threads, and wide depthwise maps. */
    @Test
    void convolutionMatchesDoublesAtTileEdges() {
        Random r = new Random(42);
        long[] one = {1, 1}, none = {0, 0, 0, 0}, pad1 = {1, 1, 1, 1};
        try (Parallel par = new Parallel(2)) {
            for (int pixels : new int[] {1, 2, 5, 6, 7, 8, 11, 12, 13, 23, 24, 25, 49}) {
                for (int filters : new int[] {B, 2 * B, 3 * B, 4 * B, 4 * B + 1, 7 * B}) {
                    check(new Case(new long[] {1, 3, 1, pixels}, filters, one, one, one, none), r, par);
                    check(new Case(new long[] {1, filters, 1, pixels}, filters, one, one, one, none).depthwise(), r, par);
                }
            }
            check(new Case(new long[] {2, 2 * B, 30, 31}, 5 * B, new long[] {3, 3}, one, one, pad1), r, par);
            // small maps of many filters, split by pixels between the threads: 196 and 49 pixels cut where no tile ends
            check(new Case(new long[] {1, 6 * B, 14, 14}, 36 * B, one, one, one, none), r, par);
            check(new Case(new long[] {1, 10 * B, 7, 7}, 20 * B + 3, one, one, one, none), r, par);
            // depthwise on maps wider than BlockedConv's bordered copies: windows cut by the padding taken in place
            check(new Case(new long[] {1, B + 3, 9, 45}, B + 3, new long[] {3, 3}, one, one, pad1).depthwise(), r, par);
            check(new Case(new long[] {1, B, 8, 70}, B, new long[] {3, 3}, new long[] {2, 2}, one, new long[] {0, 1, 1, 0}).depthwise(), r, par);
            // 3×3 at strides 1 and 2 over rows of 1 to 15 pixels (bordered copies): under 8 one tile whose pixels past the row are
            // dropped, from 8 the last whole tile of a row stepping back over the first
            for (int width : new int[] {1, 5, 7, 8, 9, 14, 15}) {
                check(new Case(new long[] {1, B + 3, 5, width}, B + 3, new long[] {3, 3}, one, one, pad1).depthwise(), r, par);
                check(new Case(new long[] {1, B, 6, 2 * width}, B, new long[] {3, 3}, new long[] {2, 2}, one, pad1).depthwise(), r, par);
            }
        }
    }

    /** Which one-group layers run blocked: all with 32 registers; with 16, a megabyte of weights or more only over maps of 8×8 or fewer. */
    @Test
    void bigLayersOverLargeMapsStayPlainOnSixteenRegisters() {
        long[] classifier = {1000, 512, 1, 1}, expand = {256, 64, 3, 3};
        assertTrue(BlockedConv.suits(expand, 169));
        assertTrue(BlockedConv.suits(classifier, 64));
        assertEquals(Gemm.WIDE_REGISTERS, BlockedConv.suits(classifier, 65));
        assertEquals(Gemm.WIDE_REGISTERS, BlockedConv.suits(classifier, 169));
    }

    /** Weights saved with a compiled model and read back give the same output. */
    @Test
    void storedWeightsAreUsedAsPacked() {
        Random r = new Random(43);
        Tensor x = RandomTensors.uniform(r, 1, 5, 9, 9), w = RandomTensors.uniform(r, 3 * B + 2, 5, 3, 3);
        Conv.Params p = new Conv.Params(null, null, null, new long[] {1, 1, 1, 1}, Windows.AutoPad.NOTSET, 1, null, null);
        BlockedConv.Weights packed = BlockedConv.pack(w, PackedForm.Stored.NONE);
        Map<String, PackedForm.Part> parts = packed.parts();
        PackedForm.Part part = parts.values().iterator().next();
        BlockedConv.Weights restored = BlockedConv.pack(w, (name, layout, length) ->
                parts.containsKey(name) && layout.equals(parts.get(name).layout()) && length == part.data().length ? part.data().clone() : null);
        long before = Gemm.packings();
        ExecContext ctx = ExecContext.singleThreaded();
        Tensor a = BlockedConv.conv(x, false, w, packed, null, null, Activation.NONE, p, ctx);
        Tensor b = BlockedConv.conv(x, false, w, restored, null, null, Activation.NONE, p, ctx);
        assertEquals(before, Gemm.packings(), "nothing packed again");
        assertArrayEquals(a.toFloatArray(), b.toFloatArray());
    }

    @Test
    void badInputsAreReported() {
        Tensor w = Tensor.allocate(DType.FLOAT, 4, 3, 3, 3);
        Conv.Params p = new Conv.Params(null, null, null, null, Windows.AutoPad.NOTSET, 1, null, null);
        ExecContext ctx = ExecContext.singleThreaded();
        assertThrows(OnnxrunException.class, () -> BlockedConv.conv(Tensor.allocate(DType.FLOAT, 1, 2, 5, 5), false, w, null, null, null,
                Activation.NONE, p, ctx), "channels");
        assertThrows(OnnxrunException.class, () -> BlockedConv.conv(Tensor.allocate(DType.FLOAT, 1, 1, 5, 5, B + 1), true, w, null, null, null,
                Activation.NONE, p, ctx), "block lanes");
        Conv.Params depthwise = new Conv.Params(null, null, null, null, Windows.AutoPad.NOTSET, 4, null, null);
        assertThrows(OnnxrunException.class, () -> BlockedConv.conv(Tensor.allocate(DType.FLOAT, 1, 4, 5, 5), false, Tensor.allocate(DType.FLOAT, 4, 1, 3, 3),
                null, null, null, Activation.NONE, depthwise, ctx), "depthwise of plain X");
        assertThrows(OnnxrunException.class, () -> Blocked.unblock(Tensor.allocate(DType.FLOAT, 1, 2, 5, 5, B), B, ctx), "blocks for the channels");
    }

    /** Max and average pooling (padding counted or not, ceil mode) of a blocked tensor, unblocked, equal the plain kernel's. */
    @Test
    void poolingMatchesPlain() {
        Random r = new Random(44);
        ExecContext ctx = ExecContext.singleThreaded();
        for (int i = 0; i < 60; i++) {
            Case c = randomCase(r);
            long[] pads = c.pads().clone();
            for (int d = 0; d < 4; d++) pads[d] = Math.min(pads[d], c.kernel()[d % 2] - 1); // ONNX pads are smaller than the window
            boolean ceil = r.nextBoolean(), includePad = r.nextBoolean();
            Pooling.Params p = new Pooling.Params(c.kernel(), c.strides(), c.dilations(), pads, Windows.AutoPad.NOTSET, ceil, includePad, 2, false);
            Tensor x = RandomTensors.uniform(r, c.x());
            for (Pooling.Kind kind : new Pooling.Kind[] {Pooling.Kind.MAX, Pooling.Kind.AVERAGE}) {
                Tensor expected = Pooling.pool(x, kind, p, false, ctx)[0];
                Tensor actual = Blocked.unblock(Blocked.pool(block(x), kind, p, ctx), c.x()[1], ctx);
                assertArrayEquals(expected.shape(), actual.shape(), c.toString());
                for (long j = 0; j < expected.size(); j++) {
                    assertEquals(expected.getFloat(j), actual.getFloat(j), 1e-5, kind + " " + c + " ceil " + ceil + " at " + j);
                }
            }
        }
        Tensor x = RandomTensors.uniform(r, 2, B + 3, 5, 7);
        for (Pooling.Kind kind : new Pooling.Kind[] {Pooling.Kind.MAX, Pooling.Kind.AVERAGE}) {
            Tensor expected = Pooling.global(x, kind, 2, ctx);
            Tensor actual = Blocked.unblock(Blocked.global(block(x), kind, ctx), B + 3, ctx);
            assertArrayEquals(expected.shape(), actual.shape());
            for (long j = 0; j < expected.size(); j++) assertEquals(expected.getFloat(j), actual.getFloat(j), 1e-5, "global " + kind + " at " + j);
        }
    }
}
