package dev.onnxrun.runtime.kernels;

import dev.onnxrun.runtime.DType;
import dev.onnxrun.runtime.ExecContext;
import dev.onnxrun.runtime.OnnxrunException;
import dev.onnxrun.runtime.Parallel;
import dev.onnxrun.runtime.Tensor;
import java.util.Arrays;
import java.util.Map;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Float32 2-D convolution whose output is channel-blocked ({@link Blocked}: [N, C/B, H, W, B]):
 * one group, from an input blocked or plain [N, C, H, W]; or depthwise, from a blocked input.
 * Vectors run along a block's B filters. In the one-group kernel each step (input channel, tap)
 * broadcasts one input value per output pixel, so neither the input nor the output is packed or
 * transposed: a tile's accumulators are the output's own vectors. ONNX Runtime runs CNNs this way
 * (NCHWc): inside squeezenet1_1 its convolutions took 20–35 % less time than the same layers
 * alone on NCHW tensors.
 *
 * <p>Padding: where the one-group kernel's taps reach outside the input, the input is first
 * copied with zero borders (in its own layout), so every tile reads in bounds without tests.
 * Filters are taken four blocks at a time ({@link #tile4}, a range's last one or two pixels
 * {@link #tile4Short}); a last group of one to three blocks takes the narrower tiles, one block
 * as two 8-lane halves ({@link #tile1}). With AVX2's 16 registers, smaller tiles
 * ({@link #narrowTiles}). AVX-512's tiles leave the clamp to {@link #clampTile}.
 * Where a tile's pixels lie one vector after another in the input (1×1 layers, stride-1 rows),
 * its "adjacent" form reads them at constant offsets from one index, so C2 checks one range a
 * step rather than one per pixel and keeps no pixel positions in registers. The depthwise kernel
 * reads its input in place ({@link #depthwise}).
 */
public final class BlockedConv {
    private BlockedConv() {}

    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final int VL = SPECIES.length();
    /** Half a 16-lane block, for {@link #tile1}. */
    private static final VectorSpecies<Float> HALF = FloatVector.SPECIES_256;
    private static final int HL = HALF.length();
    /**
     * Filter blocks per group of packed weights: {@link #tile4}'s, or on 16-register machines
     * {@link #tilePair}'s, so that its weights lie a constant stride apart, step after step.
     */
    private static final int GROUP_BLOCKS = Gemm.WIDE_REGISTERS ? 4 : 2;
    /** Tasks' chunks of output pixels start at multiples of this: of every tile's pixels (6 and 12; AVX2's 4 and 8). */
    private static final int CHUNK_GRANULE = Gemm.WIDE_REGISTERS ? 12 : 8;
    /**
     * Threads split a layer with up to this many floats of weights by output pixels, however few
     * the pixels (see {@link #run}): two threads over four 1×1 layers of 96↔576 channels on
     * 14×14, which shared out the filter groups, 0.53–0.67 → 0.47–0.49 ms; 160↔960 channels
     * 1.44 → 1.35–1.38; mobilenet_v2 (its 14×14 and some 7×7 layers) 1.22–1.26 → 1.09–1.14 ×
     * ONNX Runtime's time. Larger weights (resnet's 3×3 layers of 256 and 512 channels, 2.4 and
     * 9.4 MB) each thread would read whole.
     */
    private static final int BY_PIXELS_WEIGHTS = 1 << 18;

    /**
     * Depthwise layers on maps up to this wide copy each plane with zero borders first, so that
     * no window is cut by the padding: on a 14×14 map 52 of 196 pixels are border pixels, which
     * the in-place form takes one at a time. Standalone, one thread, mobilenet_v2's 3×3 layers:
     * 576 channels over 14×14 0.12–0.13 → 0.09 ms, 960 over 7×7 0.058–0.068 → 0.046–0.053;
     * 192 over 28×28 0.10 either way.
     */
    private static final int BORDERED_WIDTH = 16;

    /**
     * Whether this CPU suits blocked convolutions: 16-lane vectors and 32 registers (AVX-512), for
     * {@link #tile4}'s 29 vectors, or 8 lanes and 16 registers (AVX2), for {@link #narrowTiles}.
     * Narrower vectors (SSE, NEON) keep the plain layout.
     */
    public static boolean suited() { return VL >= 8; }

    /**
     * Whether a one-group convolution of weights [F, C, kH, kW] onto {@code outPixels} output
     * pixels should run blocked. With 16 registers, layers of a megabyte of weights or more ran
     * slower blocked than plain over larger maps (8 lanes, -XX:UseAVX=2 on a Zen 4, one thread:
     * squeezenet1_1's 512→1000 classifier over 13×13 2.36 against 2.25 ms), faster over 7×7 maps,
     * where the plain GEMM rounds 49 pixels up to whole panels (mobilenet_v2's 320→1280 0.52
     * against 0.69 ms, its 960→320 0.38 against 0.51); with 32 registers no such limit was found.
     */
    public static boolean suits(long[] wShape, long outPixels) {
        return Gemm.WIDE_REGISTERS || wShape[0] * wShape[1] * wShape[2] * wShape[3] < NARROW_MAX_WEIGHTS || outPixels <= NARROW_SMALL_MAP;
    }

    /** Output pixels up to which a layer runs blocked on 16-register machines whatever its weights: an 8×8 map. */
    private static final long NARROW_SMALL_MAP = 64;

    /** Weights (floats) from which a layer stays plain on 16-register machines: a megabyte. */
    private static final long NARROW_MAX_WEIGHTS = 1 << 18;

    /**
     * Constant weights [F, C, kH, kW] packed for {@link #conv}: per group of {@link #GROUP_BLOCKS}
     * filter blocks, per step (channel, tap) in W's order, the step's weights of the group's
     * filters, a block after another (zeros past the last filter). Saved with a compiled model as
     * the part "blocked".
     */
    public static final class Weights implements PackedForm {
        private static final String PART = "blocked", LAYOUT = "blocked-conv v1 group=" + GROUP_BLOCKS + " " + Gemm.PANEL_LAYOUT;
        private final Tensor source;
        private final float[] packed;
        private final int filters, steps;
        /** The plan of the last input shape, reused while X keeps it. */
        private volatile Plan plan;

        private Weights(Tensor source, float[] packed, int filters, int steps) {
            this.source = source;
            this.packed = packed;
            this.filters = filters;
            this.steps = steps;
        }

        @Override
        public Map<String, PackedForm.Part> parts() { return Map.of(PART, new PackedForm.Part(LAYOUT, packed)); }
    }

    /** W packed for {@link #conv}, or taken from {@code stored} where it holds this layout; null when W is not float32 of rank 4. */
    public static Weights pack(Tensor w, PackedForm.Stored stored) {
        if (w.dtype() != DType.FLOAT || w.rank() != 4) return null;
        int filters = Math.toIntExact(w.dim(0)), steps = Math.toIntExact(w.dim(1) * w.dim(2) * w.dim(3));
        long size = (long) Blocked.blocks(filters) * VL * steps;
        float[] saved = stored.take(Weights.PART, Weights.LAYOUT, size);
        if (saved != null) return new Weights(w, saved, filters, steps);
        float[] ws = FloatArrays.read(w), packed = new float[Math.toIntExact(size)];
        int blocks = Blocked.blocks(filters);
        for (int f = 0; f < filters; f++) {
            int block = f / VL, group = block / GROUP_BLOCKS, inGroup = Math.min(GROUP_BLOCKS, blocks - group * GROUP_BLOCKS);
            int at = group * GROUP_BLOCKS * VL * steps + (block % GROUP_BLOCKS) * VL + f % VL;
            for (int p = 0; p < steps; p++) packed[at + p * inGroup * VL] = ws[f * steps + p];
        }
        Gemm.countPacking();
        return new Weights(w, packed, filters, steps);
    }

    /**
     * Where a convolution of one input shape reads: the input as the tiles see it (padded or in
     * place), and the offsets of each step and each output pixel in it.
     */
    private record Plan(long[] xShape, boolean blocked, Windows.Geometry g, int rows, int cols, boolean padded, int[] stepAt, int[] pixelAt) {
        boolean fits(Tensor x, boolean xBlocked) { return xBlocked == blocked && Conv.sameShape(x, xShape); }

        /** Floats per plane (a channel, or a block of them) of the input as the tiles read it. */
        int planeSize() { return rows * cols * (blocked ? VL : 1); }

        static Plan of(Tensor x, boolean blocked, int channels, Windows.Geometry g) {
            int h = (int) g.in()[0], w = (int) g.in()[1], oh = (int) g.out()[0], ow = (int) g.out()[1];
            int kh = (int) g.kernel()[0], kw = (int) g.kernel()[1], sh = (int) g.strides()[0], sw = (int) g.strides()[1];
            int dh = (int) g.dilations()[0], dw = (int) g.dilations()[1], top = (int) g.padBegin()[0], left = (int) g.padBegin()[1];
            // rows and columns the taps reach, from the first padding row or column on
            int rows = Math.max(h + top, reach(g, 0)), cols = Math.max(w + left, reach(g, 1));
            boolean padded = top > 0 || left > 0 || rows > h || cols > w;
            if (!padded) {
                rows = h;
                cols = w;
            }
            int lanes = blocked ? VL : 1, taps = kh * kw;
            int[] stepAt = new int[channels * taps];
            for (int c = 0; c < channels; c++) {
                int plane = blocked ? (c / VL) * rows * cols * VL + c % VL : c * rows * cols;
                for (int ky = 0; ky < kh; ky++) {
                    for (int kx = 0; kx < kw; kx++) stepAt[c * taps + ky * kw + kx] = plane + (ky * dh * cols + kx * dw) * lanes;
                }
            }
            int pixels = oh * ow;
            int[] pixelAt = new int[Math.max(1, Gemm.roundUp(pixels, CHUNK_GRANULE))];
            for (int q = 0; q < pixelAt.length; q++) {
                int last = Math.min(q, pixels - 1); // a last tile's missing pixels repeat the last one, and are not stored
                pixelAt[q] = (last / ow * sh * cols + last % ow * sw) * lanes;
            }
            return new Plan(x.shape(), blocked, g, rows, cols, padded, stepAt, pixelAt);
        }
    }

    /**
     * Y = act(conv(X, W) + B + R), Y blocked [N, ⌈F/B⌉, OH, OW, B] ({@link Blocked}); X plain
     * [N, C, H, W] or, with {@code xBlocked}, blocked; R (optional) blocked as Y. The lanes of Y's
     * last block past F hold act(0 + R). {@code packed} (optional) is W as {@link #pack} made it.
     */
    public static Tensor conv(Tensor x, boolean xBlocked, Tensor w, Weights packed, Tensor bias, Tensor residual, Activation act,
                              Conv.Params p, ExecContext ctx) {
        boolean depthwise = p.group() > 1 && p.group() == w.dim(0) && w.rank() == 4 && w.dim(1) == 1;
        if (x.dtype() != DType.FLOAT || w.dtype() != DType.FLOAT || w.rank() != 4 || p.group() != 1 && !(depthwise && xBlocked)) {
            throw OnnxrunException.invalidInput("blocked convolution needs float32 X and W [F, C, kH, kW], and one group or (X blocked) one channel per group;"
                    + " got X " + x.describe() + ", W " + w.describe() + ", group " + p.group() + (xBlocked ? " (X blocked)" : ""));
        }
        long channels = depthwise ? w.dim(0) : w.dim(1);
        long[] plain = xBlocked ? Blocked.plainShape(x, channels) : x.shape();
        if (plain.length != 4 || plain[1] != channels) {
            throw OnnxrunException.invalidInput("X " + x.describe() + " does not fit W " + w.describe() + (xBlocked ? " (X blocked)" : ""));
        }
        Weights wts = packed != null && packed.source == w ? packed : pack(w, PackedForm.Stored.NONE);
        Plan plan = wts.plan;
        if (plan == null || !plan.fits(x, xBlocked)) {
            Windows.Geometry g = Conv.convGeometry(plain, w.shape(), p);
            if (!Conv.kernelMatches(w, g)) {
                throw OnnxrunException.invalidInput("W " + w.describe() + " does not match kernel_shape " + Arrays.toString(g.kernel()));
            }
            wts.plan = plan = Plan.of(x, xBlocked, depthwise ? 0 : (int) channels, g); // depthwise takes its taps itself
        }
        int batch = (int) plain[0], filters = wts.filters, blocks = Blocked.blocks(filters), oh = (int) plan.g().out()[0], ow = (int) plan.g().out()[1];
        if (bias != null && bias.dtype() != DType.FLOAT) throw OnnxrunException.invalidInput("BlockedConv bias " + bias.describe() + " must be float32");
        Conv.checkBias(bias, filters, "BlockedConv");
        long[] yShape = {batch, blocks, oh, ow, VL};
        Tensor y = ctx.output(0, DType.FLOAT, yShape);
        if (residual != null && (residual.dtype() != DType.FLOAT || !Conv.sameShape(residual, yShape))) {
            throw OnnxrunException.invalidInput("residual " + residual.describe() + " must be float32" + Arrays.toString(yShape));
        }
        if (y.size() == 0) return y;
        float[] b = Scratch.floats(Scratch.BLOCKED_BIAS, blocks * VL);
        Arrays.fill(b, 0, blocks * VL, 0f);
        if (bias != null) System.arraycopy(FloatArrays.read(bias), 0, b, 0, filters);
        Parallel parallel = ctx.parallel();
        int planes = xBlocked ? Blocked.blocks(channels) : (int) channels;
        FloatArrays.Slice xs = FloatArrays.slice(x), ys = FloatArrays.slice(y), rs = residual == null ? null : FloatArrays.slice(residual);
        float[] r = rs == null ? null : rs.array();
        int rShift = rs == null ? 0 : rs.offset() - ys.offset();
        if (depthwise) {
            depthwise(xs.array(), xs.offset(), plan.g(), wts, b, ys.array(), ys.offset(), batch, blocks, r, rShift, act, parallel);
            return y;
        }
        float[] t = plan.padded() ? padded(xs.array(), xs.offset(), plan, batch * planes, parallel) : xs.array();
        int tAt = plan.padded() ? 0 : xs.offset(), imageIn = planes * plan.planeSize();
        run(t, tAt, imageIn, plan, wts, b, ys.array(), ys.offset(), batch, blocks, oh * ow, r, rShift, act, parallel);
        return y;
    }

    /** The tiles of every (image, chunk of output pixels, group of filter blocks), spread over the pool. */
    private static void run(float[] t, int tAt, int imageIn, Plan plan, Weights wts, float[] bias, float[] y, int yAt, int batch, int blocks,
                            int pixels, float[] residual, int residualShift, Activation act, Parallel parallel) {
        int steps = wts.steps, groups = (blocks + GROUP_BLOCKS - 1) / GROUP_BLOCKS;
        int[] stepAt = plan.stepAt(), pixelAt = plan.pixelAt();
        float[] w = wts.packed;
        boolean threaded = parallel.threads() > 1 && (long) batch * wts.filters * steps * pixels >= ConvFloat.PARALLEL_THRESHOLD;
        // Where the weights are fewer than the input's floats, or a megabyte at most, threads take whole chunks of pixels (each
        // chunk's filter groups one after another), each reading all the weights and its part of the input: the pool keeps a
        // thread on the same share of each layer, so that part is what the thread wrote in the layer before (Parallel).
        // Elsewhere they share out the filter groups.
        Windows.Geometry g = plan.g();
        boolean byPixels = threaded && (wts.filters * g.kernel()[0] * g.kernel()[1] <= g.in()[0] * g.in()[1] || w.length <= BY_PIXELS_WEIGHTS);
        int chunks = chunkCount(threaded ? 4L * parallel.threads() : 1, (long) batch * groups, pixels, byPixels ? parallel.threads() : 1);
        int blockApart = pixels * VL;
        boolean fused = residual == null && act.isClamp(); // else the tiles add the bias alone, and act.apply the rest
        // AVX-512's tiles store sums and bias, then clampTile clamps where there are bounds; AVX2's clamp in their epilogues
        float low = fused ? act.clampLow() : Float.NEGATIVE_INFINITY, high = fused ? act.clampHigh() : Float.POSITIVE_INFINITY;
        boolean bounded = low != Float.NEGATIVE_INFINITY || high != Float.POSITIVE_INFINITY;
        Parallel.RangeBody body = (from, to) -> {
            float[] edge = Scratch.floats(Scratch.EDGE_TILE, 24 * VL); // a last partial tile's output: 12 × 2 vectors (or 12 × 1)
            for (long unit = from; unit < to; unit++) {
                int group = (int) (unit % groups), chunk = (int) (unit / groups % chunks), image = (int) (unit / groups / chunks);
                int q0 = chunkStart(chunk, chunks, pixels), q1 = chunkStart(chunk + 1, chunks, pixels);
                int first = group * GROUP_BLOCKS, nb = Math.min(GROUP_BLOCKS, blocks - first);
                int wAt = first * VL * steps, wStep = nb * VL, base = tAt + image * imageIn, at = yAt + (image * blocks + first) * blockApart;
                if (!Gemm.WIDE_REGISTERS) {
                    narrowTiles(steps, t, base, stepAt, pixelAt, q0, q1, nb, w, wAt, y, at, blockApart, bias, first * VL, low, high, edge);
                } else {
                    if (nb == 4) {
                        for (int q = q0; q < q1; q += 6) {
                            int count = Math.min(6, q1 - q);
                            if (count > 2) tile4(steps, t, base, stepAt, pixelAt, q, w, wAt, wStep, y, at + q * VL, blockApart, bias, first * VL, count);
                            else tile4Short(steps, t, base, stepAt, pixelAt, q, w, wAt, wStep, y, at + q * VL, blockApart, bias, first * VL, count);
                            if (bounded) clampTile(y, at + q * VL, blockApart, count, 4, low, high);
                        }
                    }
                    if (nb == 2 || nb == 3) {
                        for (int q = q0; q < q1; q += 12) {
                            float[] out = q + 12 <= q1 ? y : edge;
                            int outAt = out == y ? at + q * VL : 0, apart = out == y ? blockApart : 12 * VL;
                            if (adjacent(pixelAt, q, 12)) {
                                tile2Adjacent(steps, t, base + pixelAt[q], stepAt, w, wAt, wStep, out, outAt, apart, bias, first * VL);
                            } else {
                                tile2(steps, t, base, stepAt, pixelAt, q, w, wAt, wStep, out, outAt, apart, bias, first * VL);
                            }
                            if (out == edge) fromEdge(edge, 12, 2, y, at + q * VL, blockApart, q1 - q);
                            if (bounded) clampTile(y, at + q * VL, blockApart, Math.min(12, q1 - q), 2, low, high);
                        }
                    }
                    if (nb == 1 || nb == 3) {
                        int k = nb - 1; // the group's last block
                        for (int q = q0; q < q1; q += 12) {
                            float[] out = q + 12 <= q1 ? y : edge;
                            int outAt = out == y ? at + k * blockApart + q * VL : 0;
                            if (adjacent(pixelAt, q, 12)) {
                                tile1Adjacent(steps, t, base + pixelAt[q], stepAt, w, wAt + k * VL, wStep, out, outAt, bias, (first + k) * VL);
                            } else {
                                tile1(steps, t, base, stepAt, pixelAt, q, w, wAt + k * VL, wStep, out, outAt, bias, (first + k) * VL);
                            }
                            if (out == edge) fromEdge(edge, 12, 1, y, at + k * blockApart + q * VL, blockApart, q1 - q);
                            if (bounded) clampTile(y, at + k * blockApart + q * VL, blockApart, Math.min(12, q1 - q), 1, low, high);
                        }
                    }
                }
                if (!fused) {
                    for (int k = 0; k < nb; k++) act.apply(y, at + k * blockApart + q0 * VL, at + k * blockApart + q1 * VL, residual, residualShift);
                }
            }
        };
        long units = (long) batch * groups * chunks;
        if (threaded) parallel.forRange(units, body);
        else body.run(0, units);
    }

    /**
     * The tiles of 16-register machines (AVX2) over pixels [q0, q1) of a group of {@code nb}
     * blocks: {@link #tilePair} on a pair, {@link #tileSingle} on a last odd block, a last partial
     * tile through {@code edge}; pixels one vector after another in the input (a 1×1 or a stride-1
     * convolution's, within a row) by the adjacent forms. AVX-512's tiles (24 accumulators) would
     * spill.
     */
    private static void narrowTiles(int steps, float[] t, int base, int[] stepAt, int[] pixelAt, int q0, int q1, int nb, float[] w, int wAt,
                                    float[] y, int at, int blockApart, float[] bias, int bAt, float low, float high, float[] edge) {
        int pixels = nb == 2 ? 4 : 8;
        for (int q = q0; q < q1; q += pixels) {
            boolean whole = q + pixels <= q1, adjacent = adjacent(pixelAt, q, pixels);
            float[] out = whole ? y : edge;
            int outAt = whole ? at + q * VL : 0, apart = whole ? blockApart : pixels * VL;
            if (nb == 2 && adjacent) tilePairAdjacent(steps, t, base + pixelAt[q], stepAt, w, wAt, out, outAt, apart, bias, bAt, low, high);
            else if (nb == 2) tilePair(steps, t, base, stepAt, pixelAt, q, w, wAt, out, outAt, apart, bias, bAt, low, high);
            else if (adjacent) tileSingleAdjacent(steps, t, base + pixelAt[q], stepAt, w, wAt, out, outAt, bias, bAt, low, high);
            else tileSingle(steps, t, base, stepAt, pixelAt, q, w, wAt, out, outAt, bias, bAt, low, high);
            if (!whole) fromEdge(edge, pixels, nb, y, at + q * VL, blockApart, q1 - q);
        }
    }

    /**
     * The pixels [0, pixels) of an AVX-512 tile just stored in {@code blocks} planes
     * {@code blockApart} apart from y[at], clamped to [low, high] while they are in L1, by compares
     * and blends ({@link FloatFastPaths#clamp}). In the tiles' own epilogues Math.max/min cost
     * their fix-ups for NaN and signed zeros, several instructions a vector, which a shallow layer
     * feels (mobilenet_v2's 16→96 1×1 layer with ReLU6 0.577 → 0.529 ms this way), and blends
     * there ran 3–7 times slower (a tile-shaped standalone loop); layers without bounds
     * (projections, residual sums) skip the pass. AVX2's tiles, of 8 vectors, keep max and min:
     * a pass per tile made mobilenet_v2 2–3 % slower at 8 lanes.
     */
    private static void clampTile(float[] y, int at, int blockApart, int pixels, int blocks, float low, float high) {
        for (int b = 0; b < blocks; b++) {
            for (int i = 0, o = at + b * blockApart; i < pixels; i++, o += VL) {
                FloatFastPaths.clamp(FloatVector.fromArray(SPECIES, y, o), low, high).intoArray(y, o);
            }
        }
    }

    /** Whether pixels q to q + n − 1 lie one vector after another in the input. */
    private static boolean adjacent(int[] pixelAt, int q, int n) {
        for (int i = 1; i < n; i++) if (pixelAt[q + i] != pixelAt[q] + i * VL) return false;
        return true;
    }

    /**
     * {@link #tile2} for 4 pixels × 2 filter blocks: 8 accumulators, for AVX2's 16 registers. A
     * group holds two blocks here, so step p's weights lie at {@code w[wAt + 2p·VL]}: a constant
     * stride, whose bounds C2 checks once before the loop.
     */
    private static void tilePair(int steps, float[] x, int base, int[] stepAt, int[] pixelAt, int q, float[] w, int wAt,
                                 float[] y, int yAt, int blockApart, float[] bias, int bAt, float low, float high) {
        int p0 = base + pixelAt[q], p1 = base + pixelAt[q + 1], p2 = base + pixelAt[q + 2], p3 = base + pixelAt[q + 3];
        FloatVector zero = FloatVector.zero(SPECIES);
        FloatVector c0_0 = zero, c0_1 = zero, c1_0 = zero, c1_1 = zero, c2_0 = zero, c2_1 = zero, c3_0 = zero, c3_1 = zero;
        for (int p = 0; p < steps; p++) {
            int s = stepAt[p], wo = wAt + p * 2 * VL;
            FloatVector w0 = FloatVector.fromArray(SPECIES, w, wo), w1 = FloatVector.fromArray(SPECIES, w, wo + VL);
            FloatVector v;
            v = FloatVector.broadcast(SPECIES, x[p0 + s]); c0_0 = v.fma(w0, c0_0); c0_1 = v.fma(w1, c0_1);
            v = FloatVector.broadcast(SPECIES, x[p1 + s]); c1_0 = v.fma(w0, c1_0); c1_1 = v.fma(w1, c1_1);
            v = FloatVector.broadcast(SPECIES, x[p2 + s]); c2_0 = v.fma(w0, c2_0); c2_1 = v.fma(w1, c2_1);
            v = FloatVector.broadcast(SPECIES, x[p3 + s]); c3_0 = v.fma(w0, c3_0); c3_1 = v.fma(w1, c3_1);
        }
        FloatVector lo = FloatVector.broadcast(SPECIES, low), hi = FloatVector.broadcast(SPECIES, high);
        FloatVector b0 = FloatVector.fromArray(SPECIES, bias, bAt), b1 = FloatVector.fromArray(SPECIES, bias, bAt + VL);
        c0_0.add(b0).max(lo).min(hi).intoArray(y, yAt); c0_1.add(b1).max(lo).min(hi).intoArray(y, yAt + blockApart);
        c1_0.add(b0).max(lo).min(hi).intoArray(y, yAt + VL); c1_1.add(b1).max(lo).min(hi).intoArray(y, yAt + blockApart + VL);
        c2_0.add(b0).max(lo).min(hi).intoArray(y, yAt + 2 * VL); c2_1.add(b1).max(lo).min(hi).intoArray(y, yAt + blockApart + 2 * VL);
        c3_0.add(b0).max(lo).min(hi).intoArray(y, yAt + 3 * VL); c3_1.add(b1).max(lo).min(hi).intoArray(y, yAt + blockApart + 3 * VL);
    }

    /**
     * {@link #tilePair} for 4 pixels one vector after another from {@code x[p]}: their offsets a
     * constant apart, C2 checks one range a step for the four loads, not one each (mobilenet_v2
     * at 8 lanes, one thread, with {@link #tileSingleAdjacent} and the constant weight stride:
     * 11.0 → 9.9 ms).
     */
    private static void tilePairAdjacent(int steps, float[] x, int p, int[] stepAt, float[] w, int wAt,
                                         float[] y, int yAt, int blockApart, float[] bias, int bAt, float low, float high) {
        FloatVector zero = FloatVector.zero(SPECIES);
        FloatVector c0_0 = zero, c0_1 = zero, c1_0 = zero, c1_1 = zero, c2_0 = zero, c2_1 = zero, c3_0 = zero, c3_1 = zero;
        for (int step = 0; step < steps; step++) {
            int s = p + stepAt[step], wo = wAt + step * 2 * VL;
            FloatVector w0 = FloatVector.fromArray(SPECIES, w, wo), w1 = FloatVector.fromArray(SPECIES, w, wo + VL);
            FloatVector v;
            v = FloatVector.broadcast(SPECIES, x[s]); c0_0 = v.fma(w0, c0_0); c0_1 = v.fma(w1, c0_1);
            v = FloatVector.broadcast(SPECIES, x[s + VL]); c1_0 = v.fma(w0, c1_0); c1_1 = v.fma(w1, c1_1);
            v = FloatVector.broadcast(SPECIES, x[s + 2 * VL]); c2_0 = v.fma(w0, c2_0); c2_1 = v.fma(w1, c2_1);
            v = FloatVector.broadcast(SPECIES, x[s + 3 * VL]); c3_0 = v.fma(w0, c3_0); c3_1 = v.fma(w1, c3_1);
        }
        FloatVector lo = FloatVector.broadcast(SPECIES, low), hi = FloatVector.broadcast(SPECIES, high);
        FloatVector b0 = FloatVector.fromArray(SPECIES, bias, bAt), b1 = FloatVector.fromArray(SPECIES, bias, bAt + VL);
        c0_0.add(b0).max(lo).min(hi).intoArray(y, yAt); c0_1.add(b1).max(lo).min(hi).intoArray(y, yAt + blockApart);
        c1_0.add(b0).max(lo).min(hi).intoArray(y, yAt + VL); c1_1.add(b1).max(lo).min(hi).intoArray(y, yAt + blockApart + VL);
        c2_0.add(b0).max(lo).min(hi).intoArray(y, yAt + 2 * VL); c2_1.add(b1).max(lo).min(hi).intoArray(y, yAt + blockApart + 2 * VL);
        c3_0.add(b0).max(lo).min(hi).intoArray(y, yAt + 3 * VL); c3_1.add(b1).max(lo).min(hi).intoArray(y, yAt + blockApart + 3 * VL);
    }

    /** {@link #tilePair} for 8 pixels × 1 filter block (a group of one): step p's weights at {@code w[wAt + p·VL]}. */
    private static void tileSingle(int steps, float[] x, int base, int[] stepAt, int[] pixelAt, int q, float[] w, int wAt,
                                   float[] y, int yAt, float[] bias, int bAt, float low, float high) {
        int p0 = base + pixelAt[q], p1 = base + pixelAt[q + 1], p2 = base + pixelAt[q + 2], p3 = base + pixelAt[q + 3];
        int p4 = base + pixelAt[q + 4], p5 = base + pixelAt[q + 5], p6 = base + pixelAt[q + 6], p7 = base + pixelAt[q + 7];
        FloatVector zero = FloatVector.zero(SPECIES);
        FloatVector c0 = zero, c1 = zero, c2 = zero, c3 = zero, c4 = zero, c5 = zero, c6 = zero, c7 = zero;
        for (int p = 0; p < steps; p++) {
            int s = stepAt[p];
            FloatVector w0 = FloatVector.fromArray(SPECIES, w, wAt + p * VL);
            c0 = FloatVector.broadcast(SPECIES, x[p0 + s]).fma(w0, c0);
            c1 = FloatVector.broadcast(SPECIES, x[p1 + s]).fma(w0, c1);
            c2 = FloatVector.broadcast(SPECIES, x[p2 + s]).fma(w0, c2);
            c3 = FloatVector.broadcast(SPECIES, x[p3 + s]).fma(w0, c3);
            c4 = FloatVector.broadcast(SPECIES, x[p4 + s]).fma(w0, c4);
            c5 = FloatVector.broadcast(SPECIES, x[p5 + s]).fma(w0, c5);
            c6 = FloatVector.broadcast(SPECIES, x[p6 + s]).fma(w0, c6);
            c7 = FloatVector.broadcast(SPECIES, x[p7 + s]).fma(w0, c7);
        }
        FloatVector lo = FloatVector.broadcast(SPECIES, low), hi = FloatVector.broadcast(SPECIES, high), b0 = FloatVector.fromArray(SPECIES, bias, bAt);
        c0.add(b0).max(lo).min(hi).intoArray(y, yAt); c1.add(b0).max(lo).min(hi).intoArray(y, yAt + VL);
        c2.add(b0).max(lo).min(hi).intoArray(y, yAt + 2 * VL); c3.add(b0).max(lo).min(hi).intoArray(y, yAt + 3 * VL);
        c4.add(b0).max(lo).min(hi).intoArray(y, yAt + 4 * VL); c5.add(b0).max(lo).min(hi).intoArray(y, yAt + 5 * VL);
        c6.add(b0).max(lo).min(hi).intoArray(y, yAt + 6 * VL); c7.add(b0).max(lo).min(hi).intoArray(y, yAt + 7 * VL);
    }

    /** {@link #tileSingle} for 8 pixels one vector after another from {@code x[p]} ({@link #tilePairAdjacent}'s reason). */
    private static void tileSingleAdjacent(int steps, float[] x, int p, int[] stepAt, float[] w, int wAt,
                                           float[] y, int yAt, float[] bias, int bAt, float low, float high) {
        FloatVector zero = FloatVector.zero(SPECIES);
        FloatVector c0 = zero, c1 = zero, c2 = zero, c3 = zero, c4 = zero, c5 = zero, c6 = zero, c7 = zero;
        for (int step = 0; step < steps; step++) {
            int s = p + stepAt[step];
            FloatVector w0 = FloatVector.fromArray(SPECIES, w, wAt + step * VL);
            c0 = FloatVector.broadcast(SPECIES, x[s]).fma(w0, c0);
            c1 = FloatVector.broadcast(SPECIES, x[s + VL]).fma(w0, c1);
            c2 = FloatVector.broadcast(SPECIES, x[s + 2 * VL]).fma(w0, c2);
            c3 = FloatVector.broadcast(SPECIES, x[s + 3 * VL]).fma(w0, c3);
            c4 = FloatVector.broadcast(SPECIES, x[s + 4 * VL]).fma(w0, c4);
            c5 = FloatVector.broadcast(SPECIES, x[s + 5 * VL]).fma(w0, c5);
            c6 = FloatVector.broadcast(SPECIES, x[s + 6 * VL]).fma(w0, c6);
            c7 = FloatVector.broadcast(SPECIES, x[s + 7 * VL]).fma(w0, c7);
        }
        FloatVector lo = FloatVector.broadcast(SPECIES, low), hi = FloatVector.broadcast(SPECIES, high), b0 = FloatVector.fromArray(SPECIES, bias, bAt);
        c0.add(b0).max(lo).min(hi).intoArray(y, yAt); c1.add(b0).max(lo).min(hi).intoArray(y, yAt + VL);
        c2.add(b0).max(lo).min(hi).intoArray(y, yAt + 2 * VL); c3.add(b0).max(lo).min(hi).intoArray(y, yAt + 3 * VL);
        c4.add(b0).max(lo).min(hi).intoArray(y, yAt + 4 * VL); c5.add(b0).max(lo).min(hi).intoArray(y, yAt + 5 * VL);
        c6.add(b0).max(lo).min(hi).intoArray(y, yAt + 6 * VL); c7.add(b0).max(lo).min(hi).intoArray(y, yAt + 7 * VL);
    }

    /** The first {@code count} pixels of an edge tile of {@code pixels} pixels × {@code blocks} blocks, to Y. */
    private static void fromEdge(float[] edge, int pixels, int blocks, float[] y, int yAt, int blockApart, int count) {
        for (int b = 0; b < blocks; b++) System.arraycopy(edge, b * pixels * VL, y, yAt + b * blockApart, count * VL);
    }

    /**
     * Chunks the output pixels are cut into: few enough that {@code units} (images × filter groups)
     * make {@code wanted} tasks, and at least {@code parts}; at most one per {@link #CHUNK_GRANULE}.
     */
    private static int chunkCount(long wanted, long units, int pixels, int parts) {
        int finest = (pixels + CHUNK_GRANULE - 1) / CHUNK_GRANULE;
        return (int) Math.min(finest, Math.max(parts, (wanted + units - 1) / units));
    }

    /**
     * The first pixel of chunk {@code chunk} of {@code chunks} ({@code pixels} for chunk
     * {@code chunks}): the chunks as even as whole {@link #CHUNK_GRANULE}s allow. (In chunks of a
     * fixed size, a multiple of 24, a 14×14 map of 196 pixels was cut 120 + 76 for two threads, or
     * 72 + 72 + 52.)
     */
    private static int chunkStart(int chunk, int chunks, int pixels) {
        return chunk >= chunks ? pixels : (int) ((long) pixels * chunk / chunks) / CHUNK_GRANULE * CHUNK_GRANULE;
    }

    /**
     * Depthwise (X blocked): each block of channels against its own filters ({@link #pack}'s
     * layout serves, a tap being a step), a chunk of output rows per task. X is read in place:
     * where a window reaches the padding the pixel takes {@link #depthwisePixel} over the taps
     * inside, elsewhere {@link #depthwiseTile} eight pixels at a time. (A zero-bordered copy of the
     * whole input, as the one-group kernel makes, doubled these memory-bound layers' time:
     * mobilenet_v2's 144-channel 3×3 over 56×56 ran 0.38 ms, against 0.19 plain.) Only on narrow
     * maps ({@link #BORDERED_WIDTH}) is each plane copied, within the task, with zero borders.
     */
    private static void depthwise(float[] x, int xAt, Windows.Geometry g, Weights wts, float[] bias, float[] y, int yAt, int batch, int blocks,
                                  float[] residual, int residualShift, Activation act, Parallel parallel) {
        int h = (int) g.in()[0], w = (int) g.in()[1], oh = (int) g.out()[0], ow = (int) g.out()[1];
        int kh = (int) g.kernel()[0], kw = (int) g.kernel()[1], sh = (int) g.strides()[0], sw = (int) g.strides()[1];
        int dh = (int) g.dilations()[0], dw = (int) g.dilations()[1], top = (int) g.padBegin()[0], left = (int) g.padBegin()[1];
        // rows and columns the windows span; on narrow maps each plane is copied with zero borders to span them
        int spanRows = reach(g, 0), spanCols = reach(g, 1);
        boolean bordered = ow <= BORDERED_WIDTH && (top > 0 || left > 0 || spanRows > h || spanCols > w);
        int rowLength = bordered ? spanCols : w, padTop = bordered ? 0 : top, padLeft = bordered ? 0 : left;
        int[] rowTaps = Blocked.inside(oh, sh, padTop, dh, kh, bordered ? spanRows : h);
        int[] colTaps = Blocked.inside(ow, sw, padLeft, dw, kw, rowLength), inner = Blocked.innerRange(colTaps, kw);
        // 3×3 windows at stride 1 or 2 take whole tiles of 8 pixels, the last of a row stepping back over pixels done already;
        // rows of fewer than 8 (bordered maps) one such tile, whose pixels past the row read past it and are dropped
        boolean threeTaps = kh == 3 && kw == 3 && dw == 1 && (sw == 1 || sw == 2);
        boolean threeByThree = threeTaps && inner[1] - inner[0] >= 8, shortThree = threeTaps && bordered && ow < 8;
        int taps = kh * kw, planeIn = h * w * VL, blockApart = oh * ow * VL, rowStep = dh * rowLength * VL, colStep = dw * VL;
        int copyRows = Math.min(h, spanRows - top), copyCols = Math.min(w, spanCols - left), borderedSize = spanRows * spanCols * VL;
        int overread = shortThree ? (8 - ow) * sw * VL : 0; // how far the last row's short tile reads past the bordered plane
        int[] tapAt = new int[taps];
        for (int k = 0; k < taps; k++) tapAt[k] = k / kw * rowStep + k % kw * colStep;
        float[] wp = wts.packed;
        // memory-bound, unlike the one-group kernel: threads pay off from the plain depthwise kernels' threshold (576 channels over
        // 14×14 below the one-group kernel's ran 0.095 ms at two threads, against 0.092 at one)
        boolean threaded = parallel.threads() > 1 && (long) batch * blocks * VL * taps * oh * ow >= Work.PARALLEL_THRESHOLD;
        // rows cut into a chunk per thread or more, each chunk's blocks one after another, so that a thread's share of the rows is
        // that of the layer before (run); not on bordered maps, whose planes each task copies whole
        long planes = (long) batch * blocks, wanted = threaded ? 4L * parallel.threads() : 1;
        int byRows = threaded && !bordered ? parallel.threads() : 1;
        int rowChunks = (int) Math.min(oh, Math.max(byRows, (wanted + planes - 1) / planes)), chunkRows = (oh + rowChunks - 1) / rowChunks;
        int chunks = (oh + chunkRows - 1) / chunkRows;
        boolean fused = residual == null && act.isClamp();
        float low = fused ? act.clampLow() : Float.NEGATIVE_INFINITY, high = fused ? act.clampHigh() : Float.POSITIVE_INFINITY;
        Parallel.RangeBody body = (from, to) -> {
            for (long unit = from; unit < to; unit++) {
                int block = (int) (unit % blocks), chunk = (int) (unit / blocks % chunks), image = (int) (unit / blocks / chunks);
                int first = block / GROUP_BLOCKS * GROUP_BLOCKS, wStep = Math.min(GROUP_BLOCKS, blocks - first) * VL;
                int wAt = first * VL * taps + (block - first) * VL, src = xAt + (image * blocks + block) * planeIn;
                int at = yAt + (image * blocks + block) * blockApart, y0 = chunk * chunkRows, y1 = Math.min(oh, y0 + chunkRows);
                float[] in = x, tile = shortThree ? Scratch.floats(Scratch.EDGE_TILE, 8 * VL) : null;
                if (bordered) {
                    in = Scratch.floats(Scratch.WINDOW_PLANE, borderedSize + overread);
                    copyBordered(x, src, copyRows, w * VL, copyCols * VL, in, 0, borderedSize, (top * spanCols + left) * VL, spanCols * VL);
                    src = 0;
                }
                for (int oy = y0; oy < y1; oy++) {
                    int origin = src + (oy * sh - padTop) * rowLength * VL - padLeft * VL, ky0 = rowTaps[2 * oy], ky1 = rowTaps[2 * oy + 1], out = at + oy * ow * VL;
                    if (shortThree) { // a bordered row: every window whole
                        depthwise3(sw, in, origin, rowStep, wp, wAt, wStep, tile, 0, bias, block * VL, low, high);
                        System.arraycopy(tile, 0, y, out, ow * VL);
                        continue;
                    }
                    boolean whole = ky0 == 0 && ky1 == kh;
                    for (int ox = 0; ox < ow; ox++) {
                        if (whole && ox == inner[0] && inner[1] > ox) {
                            for (; ox < inner[1]; ox += 8) {
                                if (threeByThree) {
                                    int tileAt = Math.min(ox, inner[1] - 8);
                                    depthwise3(sw, in, origin + tileAt * sw * VL, rowStep, wp, wAt, wStep, y, out + tileAt * VL, bias, block * VL, low, high);
                                    continue;
                                }
                                depthwiseTile(taps, in, origin + ox * sw * VL, sw * VL, tapAt, wp, wAt, wStep, y, out + ox * VL, bias, block * VL, low, high,
                                        Math.min(8, inner[1] - ox));
                            }
                            ox = inner[1] - 1;
                            continue;
                        }
                        depthwisePixel(in, origin + ox * sw * VL, ky0, ky1, rowStep, colTaps[2 * ox], colTaps[2 * ox + 1], colStep, kw, wp, wAt, wStep,
                                y, out + ox * VL, bias, block * VL, low, high);
                    }
                }
                if (!fused) act.apply(y, at + y0 * ow * VL, at + y1 * ow * VL, residual, residualShift);
            }
        };
        long units = planes * chunks;
        if (threaded) parallel.forRange(units, body);
        else body.run(0, units);
    }

    /** One depthwise output pixel whose window reaches the padding: taps [ky0, ky1) × [kx0, kx1), tap (ky, kx) at {@code x[origin + ky·rowStep + kx·colStep]}. */
    private static void depthwisePixel(float[] x, int origin, int ky0, int ky1, int rowStep, int kx0, int kx1, int colStep, int kw, float[] w, int wAt,
                                       int wStep, float[] y, int out, float[] bias, int bAt, float low, float high) {
        FloatVector acc = FloatVector.zero(SPECIES);
        for (int ky = ky0; ky < ky1; ky++) {
            for (int kx = kx0; kx < kx1; kx++) {
                acc = FloatVector.fromArray(SPECIES, x, origin + ky * rowStep + kx * colStep).fma(FloatVector.fromArray(SPECIES, w, wAt + (ky * kw + kx) * wStep), acc);
            }
        }
        acc.add(FloatVector.fromArray(SPECIES, bias, bAt)).max(low).min(high).intoArray(y, out);
    }

    /** X copied, plane by plane, into the plan's zero-bordered rows and columns. */
    private static float[] padded(float[] x, int xAt, Plan plan, int planes, Parallel parallel) {
        int h = (int) plan.g().in()[0], w = (int) plan.g().in()[1], top = (int) plan.g().padBegin()[0], left = (int) plan.g().padBegin()[1];
        int lanes = plan.blocked() ? VL : 1, planeSize = plan.planeSize(), cols = plan.cols();
        float[] t = Scratch.floats(Scratch.CONV_INPUT, planes * planeSize);
        Work.pool(parallel, (long) planes * planeSize).forRange(planes, (from, to) -> {
            for (int plane = (int) from; plane < to; plane++) {
                copyBordered(x, xAt + plane * h * w * lanes, h, w * lanes, w * lanes, t, plane * planeSize, planeSize, (top * cols + left) * lanes, cols * lanes);
            }
        });
        return t;
    }

    /**
     * One plane into {@code t[at, at + size)}, zeros around it: the first {@code length} floats of
     * each of its {@code rows} rows ({@code rowStride} apart from {@code x[src]}) to
     * {@code t[at + firstAt + r·tRowStride]}.
     */
    private static void copyBordered(float[] x, int src, int rows, int rowStride, int length, float[] t, int at, int size, int firstAt, int tRowStride) {
        Arrays.fill(t, at, at + size, 0f);
        for (int r = 0; r < rows; r++) System.arraycopy(x, src + r * rowStride, t, at + firstAt + r * tRowStride, length);
    }

    /** Rows (d = 0) or columns (d = 1) of the input the windows span, from the first padding one on: (out − 1)·stride + the dilated window. */
    private static int reach(Windows.Geometry g, int d) { return Math.toIntExact((g.out()[d] - 1) * g.strides()[d] + g.span(d)); }

    /**
     * One tile: 6 output pixels × 4 filter blocks (24 accumulators, 4 weight vectors and a
     * broadcast: 29 of AVX-512's 32 registers). Step p adds the input value at
     * {@code x[base + pixelAt[q + i] + stepAt[p]]}, broadcast, times the step's weight vector of
     * each block ({@code w[wAt + p·wStep + b·VL]}). Then the bias added and the first
     * {@code count} pixels stored: pixel i of block b at {@code y[yAt + b·blockApart + i·VL]}
     * (a clamp, where the layer has one, follows: {@link #clampTile}).
     * Written out in full so the accumulators stay in registers. Of the shapes tried in a
     * prototype (6 × 4, 12 × 2, 24 × 1) this one ran fastest, 0.54 against 0.66 and 0.78 ms on a
     * 16→64-channel 3×3 over 55×55 (one thread): each step's broadcasts cost more than its vector
     * loads.
     */
    private static void tile4(int steps, float[] x, int base, int[] stepAt, int[] pixelAt, int q, float[] w, int wAt, int wStep,
                              float[] y, int yAt, int blockApart, float[] bias, int bAt, int count) {
        int p0 = base + pixelAt[q], p1 = base + pixelAt[q + 1], p2 = base + pixelAt[q + 2], p3 = base + pixelAt[q + 3], p4 = base + pixelAt[q + 4], p5 = base + pixelAt[q + 5];
        FloatVector zero = FloatVector.zero(SPECIES);
        FloatVector c0_0 = zero, c0_1 = zero, c0_2 = zero, c0_3 = zero, c1_0 = zero, c1_1 = zero;
        FloatVector c1_2 = zero, c1_3 = zero, c2_0 = zero, c2_1 = zero, c2_2 = zero, c2_3 = zero;
        FloatVector c3_0 = zero, c3_1 = zero, c3_2 = zero, c3_3 = zero, c4_0 = zero, c4_1 = zero;
        FloatVector c4_2 = zero, c4_3 = zero, c5_0 = zero, c5_1 = zero, c5_2 = zero, c5_3 = zero;
        for (int p = 0; p < steps; p++) {
            int s = stepAt[p], wo = wAt + p * wStep;
            FloatVector w0 = FloatVector.fromArray(SPECIES, w, wo), w1 = FloatVector.fromArray(SPECIES, w, wo + VL);
            FloatVector w2 = FloatVector.fromArray(SPECIES, w, wo + 2 * VL), w3 = FloatVector.fromArray(SPECIES, w, wo + 3 * VL);
            FloatVector v;
            v = FloatVector.broadcast(SPECIES, x[p0 + s]); c0_0 = v.fma(w0, c0_0); c0_1 = v.fma(w1, c0_1); c0_2 = v.fma(w2, c0_2); c0_3 = v.fma(w3, c0_3);
            v = FloatVector.broadcast(SPECIES, x[p1 + s]); c1_0 = v.fma(w0, c1_0); c1_1 = v.fma(w1, c1_1); c1_2 = v.fma(w2, c1_2); c1_3 = v.fma(w3, c1_3);
            v = FloatVector.broadcast(SPECIES, x[p2 + s]); c2_0 = v.fma(w0, c2_0); c2_1 = v.fma(w1, c2_1); c2_2 = v.fma(w2, c2_2); c2_3 = v.fma(w3, c2_3);
            v = FloatVector.broadcast(SPECIES, x[p3 + s]); c3_0 = v.fma(w0, c3_0); c3_1 = v.fma(w1, c3_1); c3_2 = v.fma(w2, c3_2); c3_3 = v.fma(w3, c3_3);
            v = FloatVector.broadcast(SPECIES, x[p4 + s]); c4_0 = v.fma(w0, c4_0); c4_1 = v.fma(w1, c4_1); c4_2 = v.fma(w2, c4_2); c4_3 = v.fma(w3, c4_3);
            v = FloatVector.broadcast(SPECIES, x[p5 + s]); c5_0 = v.fma(w0, c5_0); c5_1 = v.fma(w1, c5_1); c5_2 = v.fma(w2, c5_2); c5_3 = v.fma(w3, c5_3);
        }
        FloatVector b0 = FloatVector.fromArray(SPECIES, bias, bAt), b1 = FloatVector.fromArray(SPECIES, bias, bAt + VL), b2 = FloatVector.fromArray(SPECIES, bias, bAt + 2 * VL), b3 = FloatVector.fromArray(SPECIES, bias, bAt + 3 * VL);
        c0_0.add(b0).intoArray(y, yAt); c0_1.add(b1).intoArray(y, yAt + blockApart); c0_2.add(b2).intoArray(y, yAt + 2 * blockApart); c0_3.add(b3).intoArray(y, yAt + 3 * blockApart);
        if (count > 1) { c1_0.add(b0).intoArray(y, yAt + VL); c1_1.add(b1).intoArray(y, yAt + blockApart + VL); c1_2.add(b2).intoArray(y, yAt + 2 * blockApart + VL); c1_3.add(b3).intoArray(y, yAt + 3 * blockApart + VL); }
        if (count > 2) { c2_0.add(b0).intoArray(y, yAt + 2 * VL); c2_1.add(b1).intoArray(y, yAt + blockApart + 2 * VL); c2_2.add(b2).intoArray(y, yAt + 2 * blockApart + 2 * VL); c2_3.add(b3).intoArray(y, yAt + 3 * blockApart + 2 * VL); }
        if (count > 3) { c3_0.add(b0).intoArray(y, yAt + 3 * VL); c3_1.add(b1).intoArray(y, yAt + blockApart + 3 * VL); c3_2.add(b2).intoArray(y, yAt + 2 * blockApart + 3 * VL); c3_3.add(b3).intoArray(y, yAt + 3 * blockApart + 3 * VL); }
        if (count > 4) { c4_0.add(b0).intoArray(y, yAt + 4 * VL); c4_1.add(b1).intoArray(y, yAt + blockApart + 4 * VL); c4_2.add(b2).intoArray(y, yAt + 2 * blockApart + 4 * VL); c4_3.add(b3).intoArray(y, yAt + 3 * blockApart + 4 * VL); }
        if (count > 5) { c5_0.add(b0).intoArray(y, yAt + 5 * VL); c5_1.add(b1).intoArray(y, yAt + blockApart + 5 * VL); c5_2.add(b2).intoArray(y, yAt + 2 * blockApart + 5 * VL); c5_3.add(b3).intoArray(y, yAt + 3 * blockApart + 5 * VL); }
    }

    /**
     * {@link #tile4} for a range's last one or two pixels ({@code count}), 2 pixels × 4 blocks: a
     * whole tile4 there computed six pixels for one, and the 7×7 maps of mobilenet_v2's and
     * ResNet's last layers end in one (49 pixels), as do squeezenet1_1's 13×13 (169).
     */
    private static void tile4Short(int steps, float[] x, int base, int[] stepAt, int[] pixelAt, int q, float[] w, int wAt, int wStep,
                                   float[] y, int yAt, int blockApart, float[] bias, int bAt, int count) {
        int p0 = base + pixelAt[q], p1 = base + pixelAt[q + 1];
        FloatVector zero = FloatVector.zero(SPECIES);
        FloatVector c0_0 = zero, c0_1 = zero, c0_2 = zero, c0_3 = zero, c1_0 = zero, c1_1 = zero, c1_2 = zero, c1_3 = zero;
        for (int p = 0; p < steps; p++) {
            int s = stepAt[p], wo = wAt + p * wStep;
            FloatVector w0 = FloatVector.fromArray(SPECIES, w, wo), w1 = FloatVector.fromArray(SPECIES, w, wo + VL);
            FloatVector w2 = FloatVector.fromArray(SPECIES, w, wo + 2 * VL), w3 = FloatVector.fromArray(SPECIES, w, wo + 3 * VL);
            FloatVector v;
            v = FloatVector.broadcast(SPECIES, x[p0 + s]); c0_0 = v.fma(w0, c0_0); c0_1 = v.fma(w1, c0_1); c0_2 = v.fma(w2, c0_2); c0_3 = v.fma(w3, c0_3);
            v = FloatVector.broadcast(SPECIES, x[p1 + s]); c1_0 = v.fma(w0, c1_0); c1_1 = v.fma(w1, c1_1); c1_2 = v.fma(w2, c1_2); c1_3 = v.fma(w3, c1_3);
        }
        FloatVector b0 = FloatVector.fromArray(SPECIES, bias, bAt), b1 = FloatVector.fromArray(SPECIES, bias, bAt + VL), b2 = FloatVector.fromArray(SPECIES, bias, bAt + 2 * VL), b3 = FloatVector.fromArray(SPECIES, bias, bAt + 3 * VL);
        c0_0.add(b0).intoArray(y, yAt); c0_1.add(b1).intoArray(y, yAt + blockApart); c0_2.add(b2).intoArray(y, yAt + 2 * blockApart); c0_3.add(b3).intoArray(y, yAt + 3 * blockApart);
        if (count > 1) { c1_0.add(b0).intoArray(y, yAt + VL); c1_1.add(b1).intoArray(y, yAt + blockApart + VL); c1_2.add(b2).intoArray(y, yAt + 2 * blockApart + VL); c1_3.add(b3).intoArray(y, yAt + 3 * blockApart + VL); }
    }

    /**
     * {@link #tile4} for 12 pixels × 2 filter blocks, storing every pixel ({@link #run} gives a
     * last partial tile a scratch output). With a test of how many pixels are wanted, as tile4
     * has, 16→16 and 32→32-channel 3×3 layers over 32×32 and 16×16 (this tile and
     * {@link #tile1}) ran at 18–22 GFLOP/s, against 62–88 without, one thread; without it
     * tile4, though faster alone, left mobilenet_v2 some 4 % slower (alternated, pinned to a core).
     */
    private static void tile2(int steps, float[] x, int base, int[] stepAt, int[] pixelAt, int q, float[] w, int wAt, int wStep,
                              float[] y, int yAt, int blockApart, float[] bias, int bAt) {
        int p0 = base + pixelAt[q], p1 = base + pixelAt[q + 1], p2 = base + pixelAt[q + 2], p3 = base + pixelAt[q + 3], p4 = base + pixelAt[q + 4], p5 = base + pixelAt[q + 5];
        int p6 = base + pixelAt[q + 6], p7 = base + pixelAt[q + 7], p8 = base + pixelAt[q + 8], p9 = base + pixelAt[q + 9], p10 = base + pixelAt[q + 10], p11 = base + pixelAt[q + 11];
        FloatVector zero = FloatVector.zero(SPECIES);
        FloatVector c0_0 = zero, c0_1 = zero, c1_0 = zero, c1_1 = zero, c2_0 = zero, c2_1 = zero;
        FloatVector c3_0 = zero, c3_1 = zero, c4_0 = zero, c4_1 = zero, c5_0 = zero, c5_1 = zero;
        FloatVector c6_0 = zero, c6_1 = zero, c7_0 = zero, c7_1 = zero, c8_0 = zero, c8_1 = zero;
        FloatVector c9_0 = zero, c9_1 = zero, c10_0 = zero, c10_1 = zero, c11_0 = zero, c11_1 = zero;
        for (int p = 0; p < steps; p++) {
            int s = stepAt[p], wo = wAt + p * wStep;
            FloatVector w0 = FloatVector.fromArray(SPECIES, w, wo), w1 = FloatVector.fromArray(SPECIES, w, wo + VL);
            FloatVector v;
            v = FloatVector.broadcast(SPECIES, x[p0 + s]); c0_0 = v.fma(w0, c0_0); c0_1 = v.fma(w1, c0_1);
            v = FloatVector.broadcast(SPECIES, x[p1 + s]); c1_0 = v.fma(w0, c1_0); c1_1 = v.fma(w1, c1_1);
            v = FloatVector.broadcast(SPECIES, x[p2 + s]); c2_0 = v.fma(w0, c2_0); c2_1 = v.fma(w1, c2_1);
            v = FloatVector.broadcast(SPECIES, x[p3 + s]); c3_0 = v.fma(w0, c3_0); c3_1 = v.fma(w1, c3_1);
            v = FloatVector.broadcast(SPECIES, x[p4 + s]); c4_0 = v.fma(w0, c4_0); c4_1 = v.fma(w1, c4_1);
            v = FloatVector.broadcast(SPECIES, x[p5 + s]); c5_0 = v.fma(w0, c5_0); c5_1 = v.fma(w1, c5_1);
            v = FloatVector.broadcast(SPECIES, x[p6 + s]); c6_0 = v.fma(w0, c6_0); c6_1 = v.fma(w1, c6_1);
            v = FloatVector.broadcast(SPECIES, x[p7 + s]); c7_0 = v.fma(w0, c7_0); c7_1 = v.fma(w1, c7_1);
            v = FloatVector.broadcast(SPECIES, x[p8 + s]); c8_0 = v.fma(w0, c8_0); c8_1 = v.fma(w1, c8_1);
            v = FloatVector.broadcast(SPECIES, x[p9 + s]); c9_0 = v.fma(w0, c9_0); c9_1 = v.fma(w1, c9_1);
            v = FloatVector.broadcast(SPECIES, x[p10 + s]); c10_0 = v.fma(w0, c10_0); c10_1 = v.fma(w1, c10_1);
            v = FloatVector.broadcast(SPECIES, x[p11 + s]); c11_0 = v.fma(w0, c11_0); c11_1 = v.fma(w1, c11_1);
        }
        FloatVector b0 = FloatVector.fromArray(SPECIES, bias, bAt), b1 = FloatVector.fromArray(SPECIES, bias, bAt + VL);
        c0_0.add(b0).intoArray(y, yAt); c0_1.add(b1).intoArray(y, yAt + blockApart);
        c1_0.add(b0).intoArray(y, yAt + VL); c1_1.add(b1).intoArray(y, yAt + blockApart + VL);
        c2_0.add(b0).intoArray(y, yAt + 2 * VL); c2_1.add(b1).intoArray(y, yAt + blockApart + 2 * VL);
        c3_0.add(b0).intoArray(y, yAt + 3 * VL); c3_1.add(b1).intoArray(y, yAt + blockApart + 3 * VL);
        c4_0.add(b0).intoArray(y, yAt + 4 * VL); c4_1.add(b1).intoArray(y, yAt + blockApart + 4 * VL);
        c5_0.add(b0).intoArray(y, yAt + 5 * VL); c5_1.add(b1).intoArray(y, yAt + blockApart + 5 * VL);
        c6_0.add(b0).intoArray(y, yAt + 6 * VL); c6_1.add(b1).intoArray(y, yAt + blockApart + 6 * VL);
        c7_0.add(b0).intoArray(y, yAt + 7 * VL); c7_1.add(b1).intoArray(y, yAt + blockApart + 7 * VL);
        c8_0.add(b0).intoArray(y, yAt + 8 * VL); c8_1.add(b1).intoArray(y, yAt + blockApart + 8 * VL);
        c9_0.add(b0).intoArray(y, yAt + 9 * VL); c9_1.add(b1).intoArray(y, yAt + blockApart + 9 * VL);
        c10_0.add(b0).intoArray(y, yAt + 10 * VL); c10_1.add(b1).intoArray(y, yAt + blockApart + 10 * VL);
        c11_0.add(b0).intoArray(y, yAt + 11 * VL); c11_1.add(b1).intoArray(y, yAt + blockApart + 11 * VL);
    }

    /** {@link #tile2} for 12 pixels one vector after another from {@code x[p]}, at constant offsets (one range check a step, as {@link #tilePairAdjacent}). */
    private static void tile2Adjacent(int steps, float[] x, int p, int[] stepAt, float[] w, int wAt, int wStep,
                                      float[] y, int yAt, int blockApart, float[] bias, int bAt) {
        FloatVector zero = FloatVector.zero(SPECIES);
        FloatVector c0_0 = zero, c0_1 = zero, c1_0 = zero, c1_1 = zero, c2_0 = zero, c2_1 = zero;
        FloatVector c3_0 = zero, c3_1 = zero, c4_0 = zero, c4_1 = zero, c5_0 = zero, c5_1 = zero;
        FloatVector c6_0 = zero, c6_1 = zero, c7_0 = zero, c7_1 = zero, c8_0 = zero, c8_1 = zero;
        FloatVector c9_0 = zero, c9_1 = zero, c10_0 = zero, c10_1 = zero, c11_0 = zero, c11_1 = zero;
        for (int step = 0; step < steps; step++) {
            int s = p + stepAt[step], wo = wAt + step * wStep;
            FloatVector w0 = FloatVector.fromArray(SPECIES, w, wo), w1 = FloatVector.fromArray(SPECIES, w, wo + VL);
            FloatVector v;
            v = FloatVector.broadcast(SPECIES, x[s]); c0_0 = v.fma(w0, c0_0); c0_1 = v.fma(w1, c0_1);
            v = FloatVector.broadcast(SPECIES, x[s + VL]); c1_0 = v.fma(w0, c1_0); c1_1 = v.fma(w1, c1_1);
            v = FloatVector.broadcast(SPECIES, x[s + 2 * VL]); c2_0 = v.fma(w0, c2_0); c2_1 = v.fma(w1, c2_1);
            v = FloatVector.broadcast(SPECIES, x[s + 3 * VL]); c3_0 = v.fma(w0, c3_0); c3_1 = v.fma(w1, c3_1);
            v = FloatVector.broadcast(SPECIES, x[s + 4 * VL]); c4_0 = v.fma(w0, c4_0); c4_1 = v.fma(w1, c4_1);
            v = FloatVector.broadcast(SPECIES, x[s + 5 * VL]); c5_0 = v.fma(w0, c5_0); c5_1 = v.fma(w1, c5_1);
            v = FloatVector.broadcast(SPECIES, x[s + 6 * VL]); c6_0 = v.fma(w0, c6_0); c6_1 = v.fma(w1, c6_1);
            v = FloatVector.broadcast(SPECIES, x[s + 7 * VL]); c7_0 = v.fma(w0, c7_0); c7_1 = v.fma(w1, c7_1);
            v = FloatVector.broadcast(SPECIES, x[s + 8 * VL]); c8_0 = v.fma(w0, c8_0); c8_1 = v.fma(w1, c8_1);
            v = FloatVector.broadcast(SPECIES, x[s + 9 * VL]); c9_0 = v.fma(w0, c9_0); c9_1 = v.fma(w1, c9_1);
            v = FloatVector.broadcast(SPECIES, x[s + 10 * VL]); c10_0 = v.fma(w0, c10_0); c10_1 = v.fma(w1, c10_1);
            v = FloatVector.broadcast(SPECIES, x[s + 11 * VL]); c11_0 = v.fma(w0, c11_0); c11_1 = v.fma(w1, c11_1);
        }
        FloatVector b0 = FloatVector.fromArray(SPECIES, bias, bAt), b1 = FloatVector.fromArray(SPECIES, bias, bAt + VL);
        c0_0.add(b0).intoArray(y, yAt); c0_1.add(b1).intoArray(y, yAt + blockApart);
        c1_0.add(b0).intoArray(y, yAt + VL); c1_1.add(b1).intoArray(y, yAt + blockApart + VL);
        c2_0.add(b0).intoArray(y, yAt + 2 * VL); c2_1.add(b1).intoArray(y, yAt + blockApart + 2 * VL);
        c3_0.add(b0).intoArray(y, yAt + 3 * VL); c3_1.add(b1).intoArray(y, yAt + blockApart + 3 * VL);
        c4_0.add(b0).intoArray(y, yAt + 4 * VL); c4_1.add(b1).intoArray(y, yAt + blockApart + 4 * VL);
        c5_0.add(b0).intoArray(y, yAt + 5 * VL); c5_1.add(b1).intoArray(y, yAt + blockApart + 5 * VL);
        c6_0.add(b0).intoArray(y, yAt + 6 * VL); c6_1.add(b1).intoArray(y, yAt + blockApart + 6 * VL);
        c7_0.add(b0).intoArray(y, yAt + 7 * VL); c7_1.add(b1).intoArray(y, yAt + blockApart + 7 * VL);
        c8_0.add(b0).intoArray(y, yAt + 8 * VL); c8_1.add(b1).intoArray(y, yAt + blockApart + 8 * VL);
        c9_0.add(b0).intoArray(y, yAt + 9 * VL); c9_1.add(b1).intoArray(y, yAt + blockApart + 9 * VL);
        c10_0.add(b0).intoArray(y, yAt + 10 * VL); c10_1.add(b1).intoArray(y, yAt + blockApart + 10 * VL);
        c11_0.add(b0).intoArray(y, yAt + 11 * VL); c11_1.add(b1).intoArray(y, yAt + blockApart + 11 * VL);
    }

    /**
     * {@link #tile2} for 12 pixels × 1 filter block, the block taken as two 8-lane halves: each
     * broadcast then feeds two FMAs, as in tile2, where a 16-lane tile of 24 pixels × 1 block fed one
     * (a broadcast per FMA costs this Zen 4 some 25 %: that loop ran at 87 GFLOP/s standalone, one
     * thread, data in L1, this one at 116; two 8-lane FMAs a cycle match one 16-lane FMA). Used with
     * 16-lane blocks only: AVX-512 has the 32 registers its 24 accumulators need.
     */
    private static void tile1(int steps, float[] x, int base, int[] stepAt, int[] pixelAt, int q, float[] w, int wAt, int wStep,
                              float[] y, int yAt, float[] bias, int bAt) {
        int p0 = base + pixelAt[q], p1 = base + pixelAt[q + 1], p2 = base + pixelAt[q + 2], p3 = base + pixelAt[q + 3], p4 = base + pixelAt[q + 4], p5 = base + pixelAt[q + 5];
        int p6 = base + pixelAt[q + 6], p7 = base + pixelAt[q + 7], p8 = base + pixelAt[q + 8], p9 = base + pixelAt[q + 9], p10 = base + pixelAt[q + 10], p11 = base + pixelAt[q + 11];
        FloatVector zero = FloatVector.zero(HALF);
        FloatVector c0_0 = zero, c0_1 = zero, c1_0 = zero, c1_1 = zero, c2_0 = zero, c2_1 = zero;
        FloatVector c3_0 = zero, c3_1 = zero, c4_0 = zero, c4_1 = zero, c5_0 = zero, c5_1 = zero;
        FloatVector c6_0 = zero, c6_1 = zero, c7_0 = zero, c7_1 = zero, c8_0 = zero, c8_1 = zero;
        FloatVector c9_0 = zero, c9_1 = zero, c10_0 = zero, c10_1 = zero, c11_0 = zero, c11_1 = zero;
        for (int p = 0; p < steps; p++) {
            int s = stepAt[p], wo = wAt + p * wStep;
            FloatVector w0 = FloatVector.fromArray(HALF, w, wo), w1 = FloatVector.fromArray(HALF, w, wo + HL);
            FloatVector v;
            v = FloatVector.broadcast(HALF, x[p0 + s]); c0_0 = v.fma(w0, c0_0); c0_1 = v.fma(w1, c0_1);
            v = FloatVector.broadcast(HALF, x[p1 + s]); c1_0 = v.fma(w0, c1_0); c1_1 = v.fma(w1, c1_1);
            v = FloatVector.broadcast(HALF, x[p2 + s]); c2_0 = v.fma(w0, c2_0); c2_1 = v.fma(w1, c2_1);
            v = FloatVector.broadcast(HALF, x[p3 + s]); c3_0 = v.fma(w0, c3_0); c3_1 = v.fma(w1, c3_1);
            v = FloatVector.broadcast(HALF, x[p4 + s]); c4_0 = v.fma(w0, c4_0); c4_1 = v.fma(w1, c4_1);
            v = FloatVector.broadcast(HALF, x[p5 + s]); c5_0 = v.fma(w0, c5_0); c5_1 = v.fma(w1, c5_1);
            v = FloatVector.broadcast(HALF, x[p6 + s]); c6_0 = v.fma(w0, c6_0); c6_1 = v.fma(w1, c6_1);
            v = FloatVector.broadcast(HALF, x[p7 + s]); c7_0 = v.fma(w0, c7_0); c7_1 = v.fma(w1, c7_1);
            v = FloatVector.broadcast(HALF, x[p8 + s]); c8_0 = v.fma(w0, c8_0); c8_1 = v.fma(w1, c8_1);
            v = FloatVector.broadcast(HALF, x[p9 + s]); c9_0 = v.fma(w0, c9_0); c9_1 = v.fma(w1, c9_1);
            v = FloatVector.broadcast(HALF, x[p10 + s]); c10_0 = v.fma(w0, c10_0); c10_1 = v.fma(w1, c10_1);
            v = FloatVector.broadcast(HALF, x[p11 + s]); c11_0 = v.fma(w0, c11_0); c11_1 = v.fma(w1, c11_1);
        }
        FloatVector b0 = FloatVector.fromArray(HALF, bias, bAt), b1 = FloatVector.fromArray(HALF, bias, bAt + HL);
        c0_0.add(b0).intoArray(y, yAt); c0_1.add(b1).intoArray(y, yAt + HL);
        c1_0.add(b0).intoArray(y, yAt + VL); c1_1.add(b1).intoArray(y, yAt + VL + HL);
        c2_0.add(b0).intoArray(y, yAt + 2 * VL); c2_1.add(b1).intoArray(y, yAt + 2 * VL + HL);
        c3_0.add(b0).intoArray(y, yAt + 3 * VL); c3_1.add(b1).intoArray(y, yAt + 3 * VL + HL);
        c4_0.add(b0).intoArray(y, yAt + 4 * VL); c4_1.add(b1).intoArray(y, yAt + 4 * VL + HL);
        c5_0.add(b0).intoArray(y, yAt + 5 * VL); c5_1.add(b1).intoArray(y, yAt + 5 * VL + HL);
        c6_0.add(b0).intoArray(y, yAt + 6 * VL); c6_1.add(b1).intoArray(y, yAt + 6 * VL + HL);
        c7_0.add(b0).intoArray(y, yAt + 7 * VL); c7_1.add(b1).intoArray(y, yAt + 7 * VL + HL);
        c8_0.add(b0).intoArray(y, yAt + 8 * VL); c8_1.add(b1).intoArray(y, yAt + 8 * VL + HL);
        c9_0.add(b0).intoArray(y, yAt + 9 * VL); c9_1.add(b1).intoArray(y, yAt + 9 * VL + HL);
        c10_0.add(b0).intoArray(y, yAt + 10 * VL); c10_1.add(b1).intoArray(y, yAt + 10 * VL + HL);
        c11_0.add(b0).intoArray(y, yAt + 11 * VL); c11_1.add(b1).intoArray(y, yAt + 11 * VL + HL);
    }

    /** {@link #tile1} for 12 pixels one vector after another from {@code x[p]}, at constant offsets (one range check a step, as {@link #tilePairAdjacent}). */
    private static void tile1Adjacent(int steps, float[] x, int p, int[] stepAt, float[] w, int wAt, int wStep,
                                      float[] y, int yAt, float[] bias, int bAt) {
        FloatVector zero = FloatVector.zero(HALF);
        FloatVector c0_0 = zero, c0_1 = zero, c1_0 = zero, c1_1 = zero, c2_0 = zero, c2_1 = zero;
        FloatVector c3_0 = zero, c3_1 = zero, c4_0 = zero, c4_1 = zero, c5_0 = zero, c5_1 = zero;
        FloatVector c6_0 = zero, c6_1 = zero, c7_0 = zero, c7_1 = zero, c8_0 = zero, c8_1 = zero;
        FloatVector c9_0 = zero, c9_1 = zero, c10_0 = zero, c10_1 = zero, c11_0 = zero, c11_1 = zero;
        for (int step = 0; step < steps; step++) {
            int s = p + stepAt[step], wo = wAt + step * wStep;
            FloatVector w0 = FloatVector.fromArray(HALF, w, wo), w1 = FloatVector.fromArray(HALF, w, wo + HL);
            FloatVector v;
            v = FloatVector.broadcast(HALF, x[s]); c0_0 = v.fma(w0, c0_0); c0_1 = v.fma(w1, c0_1);
            v = FloatVector.broadcast(HALF, x[s + VL]); c1_0 = v.fma(w0, c1_0); c1_1 = v.fma(w1, c1_1);
            v = FloatVector.broadcast(HALF, x[s + 2 * VL]); c2_0 = v.fma(w0, c2_0); c2_1 = v.fma(w1, c2_1);
            v = FloatVector.broadcast(HALF, x[s + 3 * VL]); c3_0 = v.fma(w0, c3_0); c3_1 = v.fma(w1, c3_1);
            v = FloatVector.broadcast(HALF, x[s + 4 * VL]); c4_0 = v.fma(w0, c4_0); c4_1 = v.fma(w1, c4_1);
            v = FloatVector.broadcast(HALF, x[s + 5 * VL]); c5_0 = v.fma(w0, c5_0); c5_1 = v.fma(w1, c5_1);
            v = FloatVector.broadcast(HALF, x[s + 6 * VL]); c6_0 = v.fma(w0, c6_0); c6_1 = v.fma(w1, c6_1);
            v = FloatVector.broadcast(HALF, x[s + 7 * VL]); c7_0 = v.fma(w0, c7_0); c7_1 = v.fma(w1, c7_1);
            v = FloatVector.broadcast(HALF, x[s + 8 * VL]); c8_0 = v.fma(w0, c8_0); c8_1 = v.fma(w1, c8_1);
            v = FloatVector.broadcast(HALF, x[s + 9 * VL]); c9_0 = v.fma(w0, c9_0); c9_1 = v.fma(w1, c9_1);
            v = FloatVector.broadcast(HALF, x[s + 10 * VL]); c10_0 = v.fma(w0, c10_0); c10_1 = v.fma(w1, c10_1);
            v = FloatVector.broadcast(HALF, x[s + 11 * VL]); c11_0 = v.fma(w0, c11_0); c11_1 = v.fma(w1, c11_1);
        }
        FloatVector b0 = FloatVector.fromArray(HALF, bias, bAt), b1 = FloatVector.fromArray(HALF, bias, bAt + HL);
        c0_0.add(b0).intoArray(y, yAt); c0_1.add(b1).intoArray(y, yAt + HL);
        c1_0.add(b0).intoArray(y, yAt + VL); c1_1.add(b1).intoArray(y, yAt + VL + HL);
        c2_0.add(b0).intoArray(y, yAt + 2 * VL); c2_1.add(b1).intoArray(y, yAt + 2 * VL + HL);
        c3_0.add(b0).intoArray(y, yAt + 3 * VL); c3_1.add(b1).intoArray(y, yAt + 3 * VL + HL);
        c4_0.add(b0).intoArray(y, yAt + 4 * VL); c4_1.add(b1).intoArray(y, yAt + 4 * VL + HL);
        c5_0.add(b0).intoArray(y, yAt + 5 * VL); c5_1.add(b1).intoArray(y, yAt + 5 * VL + HL);
        c6_0.add(b0).intoArray(y, yAt + 6 * VL); c6_1.add(b1).intoArray(y, yAt + 6 * VL + HL);
        c7_0.add(b0).intoArray(y, yAt + 7 * VL); c7_1.add(b1).intoArray(y, yAt + 7 * VL + HL);
        c8_0.add(b0).intoArray(y, yAt + 8 * VL); c8_1.add(b1).intoArray(y, yAt + 8 * VL + HL);
        c9_0.add(b0).intoArray(y, yAt + 9 * VL); c9_1.add(b1).intoArray(y, yAt + 9 * VL + HL);
        c10_0.add(b0).intoArray(y, yAt + 10 * VL); c10_1.add(b1).intoArray(y, yAt + 10 * VL + HL);
        c11_0.add(b0).intoArray(y, yAt + 11 * VL); c11_1.add(b1).intoArray(y, yAt + 11 * VL + HL);
    }

    /**
     * A depthwise tile: 8 output pixels of a row (the first {@code count} stored), one block of
     * channels, each channel against its own filter. Tap k adds the input vector at
     * {@code x[origin + i·step + tapAt[k]]} times the tap's weight vector {@code w[wAt + k·wStep]};
     * then bias, clamp to [low, high] and store. Pixels past {@code count} read the last one's input.
     */
    private static void depthwiseTile(int taps, float[] x, int origin, int step, int[] tapAt, float[] w, int wAt, int wStep,
                                      float[] y, int yAt, float[] bias, int bAt, float low, float high, int count) {
        int last = count - 1;
        int p0 = origin, p1 = origin + Math.min(1, last) * step, p2 = origin + Math.min(2, last) * step, p3 = origin + Math.min(3, last) * step;
        int p4 = origin + Math.min(4, last) * step, p5 = origin + Math.min(5, last) * step, p6 = origin + Math.min(6, last) * step, p7 = origin + Math.min(7, last) * step;
        FloatVector zero = FloatVector.zero(SPECIES);
        FloatVector c0 = zero, c1 = zero, c2 = zero, c3 = zero, c4 = zero, c5 = zero, c6 = zero, c7 = zero;
        for (int k = 0; k < taps; k++) {
            int t = tapAt[k];
            FloatVector wk = FloatVector.fromArray(SPECIES, w, wAt + k * wStep);
            c0 = FloatVector.fromArray(SPECIES, x, p0 + t).fma(wk, c0); c1 = FloatVector.fromArray(SPECIES, x, p1 + t).fma(wk, c1);
            c2 = FloatVector.fromArray(SPECIES, x, p2 + t).fma(wk, c2); c3 = FloatVector.fromArray(SPECIES, x, p3 + t).fma(wk, c3);
            c4 = FloatVector.fromArray(SPECIES, x, p4 + t).fma(wk, c4); c5 = FloatVector.fromArray(SPECIES, x, p5 + t).fma(wk, c5);
            c6 = FloatVector.fromArray(SPECIES, x, p6 + t).fma(wk, c6); c7 = FloatVector.fromArray(SPECIES, x, p7 + t).fma(wk, c7);
        }
        FloatVector lo = FloatVector.broadcast(SPECIES, low), hi = FloatVector.broadcast(SPECIES, high), b = FloatVector.fromArray(SPECIES, bias, bAt);
        c0.add(b).max(lo).min(hi).intoArray(y, yAt);
        if (count > 1) c1.add(b).max(lo).min(hi).intoArray(y, yAt + VL);
        if (count > 2) c2.add(b).max(lo).min(hi).intoArray(y, yAt + 2 * VL);
        if (count > 3) c3.add(b).max(lo).min(hi).intoArray(y, yAt + 3 * VL);
        if (count > 4) c4.add(b).max(lo).min(hi).intoArray(y, yAt + 4 * VL);
        if (count > 5) c5.add(b).max(lo).min(hi).intoArray(y, yAt + 5 * VL);
        if (count > 6) c6.add(b).max(lo).min(hi).intoArray(y, yAt + 6 * VL);
        if (count > 7) c7.add(b).max(lo).min(hi).intoArray(y, yAt + 7 * VL);
    }


    /** 8 whole pixels of a 3×3 depthwise row at stride {@code sw} (1 or 2): {@link #depthwise3Tile} or {@link #depthwise3Stride2Tile}. */
    private static void depthwise3(int sw, float[] x, int origin, int rowStep, float[] w, int wAt, int wStep, float[] y, int yAt, float[] bias, int bAt,
                                   float low, float high) {
        if (sw == 1) depthwise3Tile(x, origin, rowStep, w, wAt, wStep, y, yAt, bias, bAt, low, high);
        else depthwise3Stride2Tile(x, origin, rowStep, w, wAt, wStep, y, yAt, bias, bAt, low, high);
    }

    /**
     * {@link #depthwiseTile} for a 3×3 window at stride 1 and 8 whole pixels: each row's ten
     * input vectors are loaded once and serve their three taps (30 loads for 72 multiply-adds,
     * not 72). The taps add in the same order, so the sums are the same. The clamp is by compares
     * and blends against vector bounds: max and min, with Math.max's fix-ups for NaN and signed
     * zeros, cost as much as the nine taps here (with this tile and {@link #depthwise3Stride2Tile}
     * so, mobilenet_v2's depthwise layers took 1.03–1.05 ms in all against 1.19–1.26, one thread,
     * AVX-512; at 8 lanes within noise). Not {@link FloatFastPaths#clamp}, whose blends with
     * float bounds made the tile three times slower.
     */
    private static void depthwise3Tile(float[] x, int origin, int rowStep, float[] w, int wAt, int wStep, float[] y, int yAt, float[] bias, int bAt,
                                       float low, float high) {
        FloatVector zero = FloatVector.zero(SPECIES);
        FloatVector c0 = zero, c1 = zero, c2 = zero, c3 = zero, c4 = zero, c5 = zero, c6 = zero, c7 = zero;
        for (int ky = 0; ky < 3; ky++) {
            int r = origin + ky * rowStep, t = wAt + 3 * ky * wStep;
            FloatVector w0 = FloatVector.fromArray(SPECIES, w, t), w1 = FloatVector.fromArray(SPECIES, w, t + wStep), w2 = FloatVector.fromArray(SPECIES, w, t + 2 * wStep);
            FloatVector v0 = FloatVector.fromArray(SPECIES, x, r), v1 = FloatVector.fromArray(SPECIES, x, r + VL), v2 = FloatVector.fromArray(SPECIES, x, r + 2 * VL), v3 = FloatVector.fromArray(SPECIES, x, r + 3 * VL), v4 = FloatVector.fromArray(SPECIES, x, r + 4 * VL);
            FloatVector v5 = FloatVector.fromArray(SPECIES, x, r + 5 * VL), v6 = FloatVector.fromArray(SPECIES, x, r + 6 * VL), v7 = FloatVector.fromArray(SPECIES, x, r + 7 * VL), v8 = FloatVector.fromArray(SPECIES, x, r + 8 * VL), v9 = FloatVector.fromArray(SPECIES, x, r + 9 * VL);
            c0 = v0.fma(w0, c0); c0 = v1.fma(w1, c0); c0 = v2.fma(w2, c0);
            c1 = v1.fma(w0, c1); c1 = v2.fma(w1, c1); c1 = v3.fma(w2, c1);
            c2 = v2.fma(w0, c2); c2 = v3.fma(w1, c2); c2 = v4.fma(w2, c2);
            c3 = v3.fma(w0, c3); c3 = v4.fma(w1, c3); c3 = v5.fma(w2, c3);
            c4 = v4.fma(w0, c4); c4 = v5.fma(w1, c4); c4 = v6.fma(w2, c4);
            c5 = v5.fma(w0, c5); c5 = v6.fma(w1, c5); c5 = v7.fma(w2, c5);
            c6 = v6.fma(w0, c6); c6 = v7.fma(w1, c6); c6 = v8.fma(w2, c6);
            c7 = v7.fma(w0, c7); c7 = v8.fma(w1, c7); c7 = v9.fma(w2, c7);
        }
        FloatVector lo = FloatVector.broadcast(SPECIES, low), hi = FloatVector.broadcast(SPECIES, high), b = FloatVector.fromArray(SPECIES, bias, bAt), t;
        t = c0.add(b); t.blend(lo, t.lt(lo)).blend(hi, t.compare(VectorOperators.GT, hi)).intoArray(y, yAt);
        t = c1.add(b); t.blend(lo, t.lt(lo)).blend(hi, t.compare(VectorOperators.GT, hi)).intoArray(y, yAt + VL);
        t = c2.add(b); t.blend(lo, t.lt(lo)).blend(hi, t.compare(VectorOperators.GT, hi)).intoArray(y, yAt + 2 * VL);
        t = c3.add(b); t.blend(lo, t.lt(lo)).blend(hi, t.compare(VectorOperators.GT, hi)).intoArray(y, yAt + 3 * VL);
        t = c4.add(b); t.blend(lo, t.lt(lo)).blend(hi, t.compare(VectorOperators.GT, hi)).intoArray(y, yAt + 4 * VL);
        t = c5.add(b); t.blend(lo, t.lt(lo)).blend(hi, t.compare(VectorOperators.GT, hi)).intoArray(y, yAt + 5 * VL);
        t = c6.add(b); t.blend(lo, t.lt(lo)).blend(hi, t.compare(VectorOperators.GT, hi)).intoArray(y, yAt + 6 * VL);
        t = c7.add(b); t.blend(lo, t.lt(lo)).blend(hi, t.compare(VectorOperators.GT, hi)).intoArray(y, yAt + 7 * VL);
    }

    /**
     * {@link #depthwiseTile} for a 3×3 window at stride 2 and 8 whole pixels: pixel i reads input
     * vectors 2i, 2i + 1 and 2i + 2 of each row, at constant offsets (the generic tile's eight
     * pixel positions and tap table spilled with AVX2's 16 general registers). The taps add in
     * the same order, so the sums are the same.
     */
    private static void depthwise3Stride2Tile(float[] x, int origin, int rowStep, float[] w, int wAt, int wStep, float[] y, int yAt, float[] bias, int bAt,
                                              float low, float high) {
        FloatVector zero = FloatVector.zero(SPECIES);
        FloatVector c0 = zero, c1 = zero, c2 = zero, c3 = zero, c4 = zero, c5 = zero, c6 = zero, c7 = zero;
        for (int ky = 0; ky < 3; ky++) {
            int r = origin + ky * rowStep, t = wAt + 3 * ky * wStep;
            FloatVector w0 = FloatVector.fromArray(SPECIES, w, t), w1 = FloatVector.fromArray(SPECIES, w, t + wStep), w2 = FloatVector.fromArray(SPECIES, w, t + 2 * wStep);
            c0 = stride2Taps(x, r, w0, w1, w2, c0);
            c1 = stride2Taps(x, r + 2 * VL, w0, w1, w2, c1);
            c2 = stride2Taps(x, r + 4 * VL, w0, w1, w2, c2);
            c3 = stride2Taps(x, r + 6 * VL, w0, w1, w2, c3);
            c4 = stride2Taps(x, r + 8 * VL, w0, w1, w2, c4);
            c5 = stride2Taps(x, r + 10 * VL, w0, w1, w2, c5);
            c6 = stride2Taps(x, r + 12 * VL, w0, w1, w2, c6);
            c7 = stride2Taps(x, r + 14 * VL, w0, w1, w2, c7);
        }
        FloatVector lo = FloatVector.broadcast(SPECIES, low), hi = FloatVector.broadcast(SPECIES, high), b = FloatVector.fromArray(SPECIES, bias, bAt), t;
        t = c0.add(b); t.blend(lo, t.lt(lo)).blend(hi, t.compare(VectorOperators.GT, hi)).intoArray(y, yAt);
        t = c1.add(b); t.blend(lo, t.lt(lo)).blend(hi, t.compare(VectorOperators.GT, hi)).intoArray(y, yAt + VL);
        t = c2.add(b); t.blend(lo, t.lt(lo)).blend(hi, t.compare(VectorOperators.GT, hi)).intoArray(y, yAt + 2 * VL);
        t = c3.add(b); t.blend(lo, t.lt(lo)).blend(hi, t.compare(VectorOperators.GT, hi)).intoArray(y, yAt + 3 * VL);
        t = c4.add(b); t.blend(lo, t.lt(lo)).blend(hi, t.compare(VectorOperators.GT, hi)).intoArray(y, yAt + 4 * VL);
        t = c5.add(b); t.blend(lo, t.lt(lo)).blend(hi, t.compare(VectorOperators.GT, hi)).intoArray(y, yAt + 5 * VL);
        t = c6.add(b); t.blend(lo, t.lt(lo)).blend(hi, t.compare(VectorOperators.GT, hi)).intoArray(y, yAt + 6 * VL);
        t = c7.add(b); t.blend(lo, t.lt(lo)).blend(hi, t.compare(VectorOperators.GT, hi)).intoArray(y, yAt + 7 * VL);
    }

    /** One row's three taps of a pixel whose window row starts at {@code x[at]}, added to {@code acc}. */
    private static FloatVector stride2Taps(float[] x, int at, FloatVector w0, FloatVector w1, FloatVector w2, FloatVector acc) {
        acc = FloatVector.fromArray(SPECIES, x, at).fma(w0, acc);
        acc = FloatVector.fromArray(SPECIES, x, at + VL).fma(w1, acc);
        return FloatVector.fromArray(SPECIES, x, at + 2 * VL).fma(w2, acc);
    }

}
