package dev.onnxrun.runtime.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.onnxrun.runtime.DType;
import dev.onnxrun.runtime.ExecContext;
import dev.onnxrun.runtime.Parallel;
import dev.onnxrun.runtime.Tensor;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The float32 convolution kernels against the double-precision path (a plain im2col over the
 * gather map), and the threaded paths of the convolution and pooling kernels against the serial ones.
 */
class ConvTest {
    /** One case: input shape, filters, kernel, strides, dilations, pads (begin then end), group. */
    private record Case(long[] x, long filters, long[] kernel, long[] strides, long[] dilations, long[] pads, long group) {
        Conv.Params params() { return new Conv.Params(kernel, strides, dilations, pads, Windows.AutoPad.NOTSET, group, null, null); }

        long[] w() {
            long[] w = new long[x.length];
            w[0] = filters;
            w[1] = x[1] / group;
            System.arraycopy(kernel, 0, w, 2, kernel.length);
            return w;
        }

        @Override
        public String toString() {
            return "X" + Arrays.toString(x) + " filters " + filters + " kernel " + Arrays.toString(kernel) + " strides " + Arrays.toString(strides)
                    + " dilations " + Arrays.toString(dilations) + " pads " + Arrays.toString(pads) + " group " + group;
        }
    }

    private static long[] l(long... v) { return v; }

    /** Random geometries over 1 to 3 spatial axes: odd sizes, strides, dilations, uneven pads, groups, depthwise with multipliers. */
    private static Case randomCase(Random r) {
        int rank = r.nextInt(10) < 7 ? 2 : r.nextBoolean() ? 1 : 3;
        int groupKind = r.nextInt(4); // 0, 1: one group; 2: grouped; 3: depthwise
        long group = groupKind < 2 ? 1 : 1 + r.nextInt(4);
        long channels = groupKind == 3 ? group : group * (1 + r.nextInt(groupKind == 2 ? 5 : 20));
        long filters = group * (1 + r.nextInt(groupKind == 3 ? 3 : 14));
        long[] x = new long[rank + 2], kernel = new long[rank], strides = new long[rank], dilations = new long[rank], pads = new long[2 * rank];
        x[0] = 1 + r.nextInt(2);
        x[1] = channels;
        for (int d = 0; d < rank; d++) {
            kernel[d] = 1 + r.nextInt(rank == 3 ? 3 : 5);
            strides[d] = 1 + r.nextInt(3);
            dilations[d] = r.nextInt(4) == 0 ? 2 : 1;
            pads[d] = r.nextInt((int) kernel[d] + 1);
            pads[rank + d] = r.nextInt((int) kernel[d] + 1);
            long span = (kernel[d] - 1) * dilations[d] + 1;
            x[2 + d] = Math.max(1, span - pads[d] - pads[rank + d]) + r.nextInt(rank == 3 ? 6 : 30);
        }
        return new Case(x, filters, kernel, strides, dilations, pads, group);
    }

    private static void checkAgainstDoubles(Case c, Random r, Parallel par) {
        Tensor x = RandomTensors.uniform(r, c.x()), w = RandomTensors.uniform(r, c.w()), b = RandomTensors.uniform(r, c.filters());
        Tensor expected = Conv.conv(Cast.cast(x, DType.DOUBLE, false), Cast.cast(w, DType.DOUBLE, false), Cast.cast(b, DType.DOUBLE, false),
                c.params(), ExecContext.singleThreaded());
        Tensor skip = RandomTensors.uniform(r, expected.shape());
        Activation relu = new Activation(Activation.Kind.RELU, 0, 0);
        for (Conv.PackedWeights packed : new Conv.PackedWeights[] {null, Conv.pack(w, c.params())}) {
            // input, residual and output as arena slices: offsets into larger arrays holding NaN elsewhere
            Tensor plain = Conv.conv(ArenaSlices.slice(x), w, packed, b, null, Activation.NONE, c.params(), ArenaSlices.context(par));
            Tensor fused = Conv.conv(ArenaSlices.slice(x), w, packed, b, ArenaSlices.slice(skip), relu, c.params(), ArenaSlices.context(par));
            assertArrayEquals(expected.shape(), plain.shape(), c.toString());
            for (long i = 0; i < expected.size(); i++) {
                double e = expected.getDouble(i), bound = 1e-4 * Math.max(1, Math.abs(e));
                assertEquals(e, plain.getFloat(i), bound, c + " at " + i);
                assertEquals(Math.max(0, e + skip.getFloat(i)), fused.getFloat(i), bound, c + " fused at " + i);
            }
        }
    }

    @Test
    void floatKernelsMatchDoublesOnRandomGeometries() {
        Random r = new Random(21);
        try (Parallel par = new Parallel(2)) {
            for (int i = 0; i < 150; i++) checkAgainstDoubles(randomCase(r), r, i % 2 == 0 ? Parallel.SERIAL : par);
        }
    }

    /** Shapes at the GEMM's tile and block edges, the input read in place up to its last float, and wide layers. */
    @Test
    void floatKernelsMatchDoublesAtTileEdges() {
        Random r = new Random(22);
        int nr = Gemm.NR, mr = Gemm.MR, kc = Gemm.KC;
        Case[] cases = {
            // pointwise, read in place: columns just below, at and above a tile; filters at micro-tile edges
            new Case(l(1, 7, 1, nr - 1), mr - 1, l(1, 1), l(1, 1), l(1, 1), l(0, 0, 0, 0), 1),
            new Case(l(1, 7, 1, nr), mr, l(1, 1), l(1, 1), l(1, 1), l(0, 0, 0, 0), 1),
            new Case(l(2, 9, 3, nr + 1), mr + 1, l(1, 1), l(1, 1), l(1, 1), l(0, 0, 0, 0), 1),
            // depth at the edges of a depth block
            new Case(l(1, kc, 5, 7), 13, l(1, 1), l(1, 1), l(1, 1), l(0, 0, 0, 0), 1),
            new Case(l(1, kc + 1, 5, 7), 13, l(1, 1), l(1, 1), l(1, 1), l(0, 0, 0, 0), 1),
            new Case(l(1, (kc + 9) / 9, 9, 9), 2 * mr + 1, l(3, 3), l(1, 1), l(1, 1), l(1, 1, 1, 1), 1),
            // 3×3 without padding, read in place (the last tile runs past the input)
            new Case(l(1, 5, 11, 13), 7, l(3, 3), l(1, 1), l(1, 1), l(0, 0, 0, 0), 1),
            // many filters and columns: several column blocks and row panels, threads split both
            new Case(l(1, 16, 40, 37), 70, l(3, 3), l(1, 1), l(1, 1), l(1, 1, 1, 1), 1),
            new Case(l(1, 64, 7, 7), 100, l(3, 3), l(1, 1), l(1, 1), l(1, 1, 1, 1), 1),
            new Case(l(1, 8, 23, 29), 9, l(1, 1), l(2, 2), l(1, 1), l(0, 0, 0, 0), 1),
            // depthwise, strides 1 and 2 on a wide map, and with a multiplier
            new Case(l(1, 6, 33, 70), 6, l(3, 3), l(2, 2), l(1, 1), l(1, 1, 1, 1), 6),
            new Case(l(1, 6, 17, 35), 12, l(3, 3), l(1, 1), l(1, 1), l(1, 1, 1, 1), 6),
            // depthwise, stride 2, rows narrower than two vectors: each row's even and odd halves stored masked
            new Case(l(1, 5, 28, 27), 5, l(3, 3), l(2, 2), l(1, 1), l(1, 1, 1, 1), 5),
            // depthwise on narrow maps (channel blocks): channels beyond a block's edge, batches, stride 2 with uneven pads,
            // dilations and a wide kernel, rows one pixel wide
            new Case(l(2, 37, 7, 7), 37, l(3, 3), l(1, 1), l(1, 1), l(1, 1, 1, 1), 37),
            new Case(l(1, 20, 14, 13), 20, l(3, 3), l(2, 2), l(1, 1), l(1, 0, 1, 1), 20),
            new Case(l(1, 17, 9, 5), 17, l(5, 3), l(1, 1), l(2, 2), l(4, 2, 3, 1), 17),
            new Case(l(1, 3, 4, 1), 3, l(3, 1), l(1, 1), l(1, 1), l(1, 0, 1, 0), 3),
        };
        try (Parallel par = new Parallel(2)) {
            for (Case c : cases) {
                checkAgainstDoubles(c, r, Parallel.SERIAL);
                checkAgainstDoubles(c, r, par);
            }
        }
    }

    /**
     * Deep layers that {@link ConvByFilters} takes (checked, so the cases keep covering it): a
     * partial filter panel, stride 2 with batches, groups, tiles of whole output rows (14 and 7
     * outputs a row, stride 1 and 2, so tiles in pairs and a single one left over; a 37×14 map
     * spread over two tasks' chunks) and of
     * consecutive columns (9 a row), and a 1×1 convolution reading its input in place, also where
     * the input ends its array (the last tile would read past it).
     */
    @Test
    void filterVectorizedFormMatchesDoubles() {
        Random r = new Random(25);
        Case[] cases = {
            new Case(l(1, 128, 9, 11), 120, l(3, 3), l(1, 1), l(1, 1), l(0, 0, 0, 0), 1),
            new Case(l(2, 128, 14, 13), 64, l(3, 3), l(2, 2), l(1, 1), l(1, 0, 1, 1), 1),
            new Case(l(1, 128, 9, 11), 128, l(3, 3), l(1, 1), l(1, 1), l(1, 1, 1, 1), 2),
            new Case(l(1, 64, 7, 7), 120, l(3, 3), l(1, 1), l(1, 1), l(1, 1, 1, 1), 1),
            new Case(l(1, 128, 14, 14), 128, l(3, 3), l(1, 1), l(1, 1), l(1, 1, 1, 1), 2),
            new Case(l(2, 64, 14, 14), 64, l(3, 3), l(2, 2), l(1, 1), l(1, 1, 1, 1), 1),
            new Case(l(1, 64, 37, 14), 128, l(3, 3), l(1, 1), l(1, 1), l(1, 1, 1, 1), 2),
            new Case(l(1, 512, 7, 7), 64, l(1, 1), l(1, 1), l(1, 1), l(0, 0, 0, 0), 1),
        };
        checkTakenForm(cases, r, (g, c) -> Conv.byFilters(g, (int) c.group(), (int) c.x()[1], (int) c.filters()));
        try (Parallel par = new Parallel(2)) {
            Case c = cases[cases.length - 1];
            Tensor x = RandomTensors.uniform(r, c.x()), w = RandomTensors.uniform(r, c.w());
            Tensor expected = Conv.conv(Cast.cast(x, DType.DOUBLE, false), Cast.cast(w, DType.DOUBLE, false), null, c.params(), ExecContext.singleThreaded());
            Tensor actual = Conv.conv(x, w, null, c.params(), new ExecContext(ExecContext.Scope.EMPTY, par));
            for (long i = 0; i < expected.size(); i++) assertEquals(expected.getDouble(i), actual.getFloat(i), 1e-4 * Math.max(1, Math.abs(expected.getDouble(i))), "at " + i);
        }
    }

    /**
     * The column-vectorized GEMM over panels of outputs alone ({@link WindowPlanes#outputPanels}:
     * rows carry padding columns): three depth blocks and a partial filter panel on a 13×13 map,
     * a shallow layer whose whole tiles take the epilogue in registers (batch 2), groups, three
     * spatial axes, and stride 2 with rows of 3 outputs.
     */
    @Test
    void outputPanelFormMatchesDoubles() {
        Random r = new Random(29);
        Case[] cases = {
            new Case(l(1, 64, 13, 13), 28, l(3, 3), l(1, 1), l(1, 1), l(1, 1, 1, 1), 1),
            new Case(l(2, 4, 27, 27), 20, l(3, 3), l(1, 1), l(1, 1), l(1, 1, 1, 1), 1),
            new Case(l(1, 8, 13, 13), 24, l(3, 3), l(1, 1), l(1, 1), l(1, 1, 1, 1), 2),
            new Case(l(1, 3, 5, 6, 7), 8, l(3, 3, 3), l(1, 1, 1), l(1, 1, 1), l(1, 1, 1, 1, 1, 1), 1),
            new Case(l(1, 3, 40, 5), 10, l(3, 3), l(2, 2), l(1, 1), l(1, 1, 1, 1), 1),
        };
        checkTakenForm(cases, r, (g, c) -> !Conv.byFilters(g, (int) c.group(), (int) c.x()[1], (int) c.filters())
                && WindowPlanes.of(g).outputPanels(Gemm.NR) != null);
    }

    /**
     * Asserts that each case is a direct (not Winograd) convolution that {@code taken} accepts,
     * so the cases keep covering the form they were written for, then checks it on one thread and on two.
     * The cases were chosen for 16-lane vectors (AVX-512); with 8 (the AVX2 run of these tests) the
     * kernel picks its forms by other panel widths, and only the results are checked.
     */
    private static void checkTakenForm(Case[] cases, Random r, java.util.function.BiPredicate<Windows.Geometry, Case> taken) {
        try (Parallel par = new Parallel(2)) {
            for (Case c : cases) {
                Windows.Geometry g = Conv.convGeometry(c.x(), c.w(), c.params());
                if (Gemm.NR == 32) assertTrue(Conv.winogradTiling(g, (int) c.group(), (int) c.x()[1], (int) c.filters()) == null && taken.test(g, c), c.toString());
                checkAgainstDoubles(c, r, Parallel.SERIAL);
                checkAgainstDoubles(c, r, par);
            }
        }
    }

    /**
     * The column-vectorized GEMM with its epilogue in registers ({@link Gemm#microKernelOut}: at
     * most 64 deep, a clamp): tiles of consecutive outputs go straight to Y, the others (across a
     * row's end, past the last output, a last panel of at most six filters) through the scratch
     * tile; a last panel of seven to eleven takes the full-size kernel and stores its filters alone.
     * A 1×1 convolution read in place, a padded 3×3 (rows of 37 outputs) and a stride-2 3×3;
     * with Relu6, with no activation, and with a residual and Relu ({@link #checkAgainstDoubles}).
     */
    @Test
    void columnFormEpilogueInRegistersMatchesDoubles() {
        Random r = new Random(27);
        Case[] cases = {
            new Case(l(1, 16, 20, 20), 28, l(1, 1), l(1, 1), l(1, 1), l(0, 0, 0, 0), 1),
            new Case(l(2, 4, 9, 37), 24, l(3, 3), l(1, 1), l(1, 1), l(1, 1, 1, 1), 1),
            new Case(l(1, 3, 70, 70), 16, l(3, 3), l(2, 2), l(1, 1), l(0, 0, 0, 0), 1),
            // a last panel of 8 and of 11 filters: the full-size kernel, its missing rows not stored
            new Case(l(1, 16, 20, 20), 20, l(1, 1), l(1, 1), l(1, 1), l(0, 0, 0, 0), 1),
            new Case(l(2, 3, 40, 40), 23, l(3, 3), l(2, 2), l(1, 1), l(1, 1, 1, 1), 1),
        };
        Activation relu6 = new Activation(Activation.Kind.CLIP, 0f, 6f);
        try (Parallel par = new Parallel(2)) {
            for (Case c : cases) {
                Windows.Geometry g = Conv.convGeometry(c.x(), c.w(), c.params());
                int channels = (int) c.x()[1], filters = (int) c.filters();
                assertTrue(Conv.winogradTiling(g, 1, channels, filters) == null && !Conv.byFilters(g, 1, channels, filters), c.toString());
                checkAgainstDoubles(c, r, par);
                Tensor x = RandomTensors.uniform(r, c.x()), w = RandomTensors.uniform(r, c.w()), b = RandomTensors.uniform(r, c.filters());
                Tensor expected = Conv.conv(Cast.cast(x, DType.DOUBLE, false), Cast.cast(w, DType.DOUBLE, false), Cast.cast(b, DType.DOUBLE, false),
                        c.params(), ExecContext.singleThreaded());
                for (Parallel p : new Parallel[] {Parallel.SERIAL, par}) {
                    Tensor clipped = Conv.conv(ArenaSlices.slice(x), w, Conv.pack(w, c.params()), b, null, relu6, c.params(), ArenaSlices.context(p));
                    for (long j = 0; j < expected.size(); j++) {
                        assertEquals(Math.min(6, Math.max(0, expected.getDouble(j))), clipped.getFloat(j), 1e-4, c + " Relu6 at " + j);
                    }
                }
            }
        }
    }

    /**
     * The 3×3 depthwise kernels ({@link DepthwiseRows}, checked to apply), strides 1 and 2: rows
     * shorter than, as long as and longer than a vector (or two, at stride 2), one to a few rows,
     * every pad of 0 or 1, batches; with a clamp applied in registers (Relu6, no residual) as well
     * as the general epilogue.
     */
    @Test
    void depthwiseRowsMatchDoubles() {
        Random r = new Random(26);
        int vl = jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.length();
        long[][] planes = {{1, 1}, {2, 7}, {3, vl - 1}, {14, 14}, {5, vl}, {4, vl + 1}, {9, 2 * vl + 3}, {6, 4 * vl + 1}};
        Activation relu6 = new Activation(Activation.Kind.CLIP, 0f, 6f);
        try (Parallel par = new Parallel(2)) {
            for (int i = 0; i < planes.length; i++) {
                for (long stride = 1; stride <= 2; stride++) {
                    for (int pads = 0; pads < 16; pads += 1 + i % 3) {
                        long[] pad = {pads & 1, pads >> 1 & 1, pads >> 2 & 1, pads >> 3 & 1};
                        if (planes[i][0] + pad[0] + pad[2] < 3 || planes[i][1] + pad[1] + pad[3] < 3) continue;
                        long channels = 1 + r.nextInt(6);
                        Case c = new Case(l(1 + i % 2, channels, planes[i][0], planes[i][1]), channels, l(3, 3), l(stride, stride), l(1, 1), pad,
                                channels);
                        assertTrue(DepthwiseRows.applies(Conv.convGeometry(c.x(), c.w(), c.params()), 1), c.toString());
                        checkAgainstDoubles(c, r, i % 2 == 0 ? Parallel.SERIAL : par);
                        Tensor x = RandomTensors.uniform(r, c.x()), w = RandomTensors.uniform(r, c.w()), b = RandomTensors.uniform(r, channels);
                        Tensor expected = Conv.conv(Cast.cast(x, DType.DOUBLE, false), Cast.cast(w, DType.DOUBLE, false),
                                Cast.cast(b, DType.DOUBLE, false), c.params(), ExecContext.singleThreaded());
                        Tensor clipped = Conv.conv(ArenaSlices.slice(x), w, null, b, null, relu6, c.params(), ArenaSlices.context(par));
                        for (long j = 0; j < expected.size(); j++) {
                            assertEquals(Math.min(6, Math.max(0, expected.getDouble(j))), clipped.getFloat(j), 1e-4, c + " Relu6 at " + j);
                        }
                    }
                }
            }
        }
    }

    private static Conv.Params params(long group, long... pads) {
        return new Conv.Params(null, new long[] {1, 1}, null, pads, Windows.AutoPad.NOTSET, group, null, null);
    }

    /** Both Winograd tilings, forced, against the double path: map sizes that leave partial tiles, uneven pads, batches, the epilogue. */
    @Test
    void winogradMatchesDoubles() {
        Random r = new Random(24);
        long[][] shapes = {{1, 8, 8, 8}, {2, 9, 13, 7}, {1, 17, 5, 30}, {1, 20, 3, 3}, {1, 33, 14, 14}, {1, 4, 6, 70}};
        long[][] pads = {{1, 1, 1, 1}, {0, 0, 0, 0}, {2, 0, 1, 2}};
        Activation relu6 = new Activation(Activation.Kind.CLIP, 0f, 6f);
        try (Parallel par = new Parallel(2)) {
            for (long[] shape : shapes) {
                for (long[] pad : pads) {
                    Case c = new Case(shape, 3 + r.nextInt(20), l(3, 3), l(1, 1), l(1, 1), pad, 1);
                    Tensor x = RandomTensors.uniform(r, c.x()), w = RandomTensors.uniform(r, c.w()), b = RandomTensors.uniform(r, c.filters());
                    Tensor expected = Conv.conv(Cast.cast(x, DType.DOUBLE, false), Cast.cast(w, DType.DOUBLE, false),
                            Cast.cast(b, DType.DOUBLE, false), c.params(), ExecContext.singleThreaded());
                    Tensor skip = RandomTensors.uniform(r, expected.shape());
                    Windows.Geometry g = Conv.convGeometry(x.shape(), w.shape(), c.params());
                    int channels = (int) shape[1], filters = (int) c.filters();
                    for (Winograd.Tiling tiling : Winograd.Tiling.values()) {
                        // operands at offsets into larger arrays (as arena slices are), NaN around them
                        FloatArrays.Slice xs = FloatArrays.slice(ArenaSlices.slice(x)), rs = FloatArrays.slice(ArenaSlices.slice(skip));
                        FloatArrays.Slice ys = FloatArrays.slice(ArenaSlices.context(par).output(0, DType.FLOAT, expected.shape()));
                        ConvFloat.Problem pr = new ConvFloat.Problem(xs.array(), xs.offset(), ys.array(), ys.offset(), b.toFloatArray(),
                                rs.array(), rs.offset() - ys.offset(), relu6, null, (int) shape[0], channels, filters, 1, (int) g.inSize(), (int) g.outSize());
                        Winograd.conv(pr, g, tiling, Winograd.packWeights(tiling, w.toFloatArray(), filters, channels), par);
                        for (int i = 0; i < expected.size(); i++) {
                            double e = Math.min(6, Math.max(0, expected.getDouble(i) + skip.getFloat(i)));
                            assertEquals(e, ys.array()[ys.offset() + i], 1e-4 * Math.max(1, Math.abs(e)), tiling + " " + c + " at " + i);
                        }
                    }
                }
            }
        }
    }

    /** Max and average pooling (with and without counting padding, ceil mode) against the double path on random geometries. */
    @Test
    void floatPoolingMatchesDoubles() {
        Random r = new Random(23);
        for (int i = 0; i < 120; i++) {
            Case c = randomCase(r);
            Tensor x = RandomTensors.uniform(r, c.x());
            boolean ceil = r.nextBoolean(), includePad = r.nextBoolean();
            // ONNX pads must be smaller than the window
            long[] pads = c.pads().clone();
            for (int d = 0; d < pads.length; d++) pads[d] = Math.min(pads[d], c.kernel()[d % c.kernel().length] - 1);
            Pooling.Params p = new Pooling.Params(c.kernel(), c.strides(), c.dilations(), pads, Windows.AutoPad.NOTSET, ceil, includePad, 2, false);
            for (Pooling.Kind kind : new Pooling.Kind[] {Pooling.Kind.MAX, Pooling.Kind.AVERAGE}) {
                Tensor expected = Pooling.pool(Cast.cast(x, DType.DOUBLE, false), kind, p, false, ExecContext.singleThreaded())[0];
                Tensor actual = Pooling.pool(x, kind, p, false, ArenaSlices.context(Parallel.SERIAL))[0];
                assertArrayEquals(expected.shape(), actual.shape(), c.toString());
                for (long j = 0; j < expected.size(); j++) {
                    assertEquals(expected.getDouble(j), actual.getFloat(j), 1e-5, kind + " " + c + " ceil " + ceil + " at " + j);
                }
            }
        }
    }

    /**
     * The 3-wide, stride-2 max pool (ResNet's and SqueezeNet's), which reduces row by row and
     * splits columns in registers: widths below, at and past one and two vectors, with and
     * without padding, in ceil mode (windows past the input's end) or not, against the double path.
     */
    @Test
    void threeWideStrideTwoMaxPoolMatchesDoubles() {
        Random r = new Random(31);
        for (int width : new int[] {5, 16, 17, 33, 56, 111, 112}) {
            for (long pad : new long[] {0, 1}) {
                for (boolean ceil : new boolean[] {false, true}) {
                    Tensor x = RandomTensors.uniform(r, 2, 3, width / 2 + 3, width);
                    Pooling.Params p = new Pooling.Params(new long[] {3, 3}, new long[] {2, 2}, null, new long[] {pad, pad, pad, pad},
                            Windows.AutoPad.NOTSET, ceil, false, 2, false);
                    Tensor expected = Pooling.pool(Cast.cast(x, DType.DOUBLE, false), Pooling.Kind.MAX, p, false, ExecContext.singleThreaded())[0];
                    Tensor actual = Pooling.pool(ArenaSlices.slice(x), Pooling.Kind.MAX, p, false, ArenaSlices.context(Parallel.SERIAL))[0];
                    assertArrayEquals(expected.shape(), actual.shape());
                    for (long j = 0; j < expected.size(); j++) {
                        assertEquals(expected.getDouble(j), actual.getFloat(j), 0, "width " + width + " pad " + pad + " ceil " + ceil + " at " + j);
                    }
                }
            }
        }
    }

    @Test
    void threadedMatchesSerial() {
        Random r = new Random(14);
        Tensor x = RandomTensors.uniform(r, 2, 16, 40, 40);
        try (Parallel par = new Parallel(3)) {
            Tensor w = RandomTensors.uniform(r, 24, 8, 3, 3), b = RandomTensors.uniform(r, 24);
            Conv.Params grouped = params(2, 1, 1, 1, 1);
            assertArrayEquals(Conv.conv(x, w, b, grouped, ExecContext.singleThreaded()).toFloatArray(),
                    Conv.conv(x, w, b, grouped, new ExecContext(ExecContext.Scope.EMPTY, par)).toFloatArray());
            Tensor dw = RandomTensors.uniform(r, 16, 1, 3, 3);
            Conv.Params depthwise = params(16, 1, 1, 1, 1);
            assertArrayEquals(Conv.conv(x, dw, null, depthwise, ExecContext.singleThreaded()).toFloatArray(),
                    Conv.conv(x, dw, null, depthwise, new ExecContext(ExecContext.Scope.EMPTY, par)).toFloatArray());
            Tensor wt = RandomTensors.uniform(r, 16, 4, 2, 2);
            Conv.Params transposed = params(1, 0, 0, 0, 0);
            assertArrayEquals(Conv.convTranspose(x, wt, null, transposed, Parallel.SERIAL).toFloatArray(),
                    Conv.convTranspose(x, wt, null, transposed, par).toFloatArray());
            Pooling.Params pool = new Pooling.Params(new long[] {3, 3}, new long[] {2, 2}, null, new long[] {1, 1, 1, 1},
                    Windows.AutoPad.NOTSET, true, false, 2, false);
            for (Pooling.Kind kind : Pooling.Kind.values()) {
                assertArrayEquals(Pooling.pool(x, kind, pool, false, ExecContext.singleThreaded())[0].toFloatArray(),
                        Pooling.pool(x, kind, pool, false, ArenaSlices.context(par))[0].toFloatArray());
            }
        }
    }

    /** ConvTranspose's float32 path (tap lines added into the output) against its double path, over strides, dilations, pads and groups. */
    @Test
    void transposedFloatPathMatchesTheDoublePath() {
        Random r = new Random(15);
        // {groups, stride, dilation, pad begin, pad end, output padding, rank}
        int[][] cases = {{1, 1, 1, 0, 0, 0, 2}, {2, 2, 1, 1, 0, 1, 2}, {1, 3, 2, 2, 1, 0, 2}, {3, 2, 1, 0, 1, 1, 1}, {1, 1, 2, 1, 1, 0, 3}};
        try (Parallel par = new Parallel(2)) {
            for (int[] c : cases) {
                int rank = c[6], groups = c[0];
                long[] xShape = new long[rank + 2], wShape = new long[rank + 2];
                long[] strides = new long[rank], dilations = new long[rank], pads = new long[2 * rank], outputPadding = new long[rank];
                xShape[0] = 2;
                xShape[1] = 2L * groups;
                wShape[0] = xShape[1];
                wShape[1] = 3;
                for (int d = 0; d < rank; d++) {
                    xShape[d + 2] = 4 + r.nextInt(rank == 3 ? 2 : 7);
                    wShape[d + 2] = 2 + r.nextInt(2);
                    strides[d] = c[1];
                    dilations[d] = c[2];
                    pads[d] = c[3];
                    pads[rank + d] = c[4];
                    outputPadding[d] = c[5];
                }
                Conv.Params p = new Conv.Params(null, strides, dilations, pads, Windows.AutoPad.NOTSET, groups, outputPadding, null);
                Tensor x = RandomTensors.uniform(r, xShape), w = RandomTensors.uniform(r, wShape), b = RandomTensors.uniform(r, 3L * groups);
                Tensor fast = Conv.convTranspose(x, w, b, p, par);
                Tensor reference = Conv.convTranspose(RandomTensors.asDouble(x), RandomTensors.asDouble(w), RandomTensors.asDouble(b), p, Parallel.SERIAL);
                assertArrayEquals(reference.shape(), fast.shape());
                for (long i = 0; i < reference.size(); i++) {
                    assertEquals(reference.getDouble(i), fast.getDouble(i), 1e-5, java.util.Arrays.toString(c) + " at " + i);
                }
            }
        }
    }
}
