package dev.onnxrun.runtime.kernels;

import java.util.Arrays;

/**
 * Per-thread scratch arrays that kernels reuse from call to call, so large intermediates are
 * neither allocated nor zeroed on every run (a run of a compiled model allocates nothing big).
 * Contents are whatever the last user left: callers write before they read, except where
 * {@link #laidOut} keeps a window layout's padding. Each slot is one buffer; a kernel uses a
 * different slot for each buffer it holds at once, and must not call into another kernel using
 * the same slot meanwhile.
 */
final class Scratch {
    private Scratch() {}

    /** Winograd's transformed input and its products; the convolution GEMM's accumulator tiles. */
    static final int WINOGRAD_INPUT = 0, WINOGRAD_PRODUCTS = 1, CONV_TILES = 2;
    /** A convolution's whole input laid out by its window planes (held by the calling thread). */
    static final int CONV_INPUT = 3;
    /** One channel laid out by window planes, in the tasks of depthwise, Winograd and pooling kernels (or copied with room around it, {@link DepthwiseRows}). */
    static final int WINDOW_PLANE = 4;
    /** Pooling's per-row reductions and their phases. */
    static final int POOL_ROWS = 5, POOL_PHASES = 6;
    /** The GEMM's packed blocks of A and B (held by the calling thread). */
    static final int GEMM_PACKED_A = 7, GEMM_PACKED_B = 8;
    /**
     * A GEMM task's partial tile (the convolution's zero-padded last panel, the few-row product's
     * staged sums, {@link ConvByFilters}' transposed tiles); Winograd's per-task transform buffers.
     */
    static final int EDGE_TILE = 9, TRANSFORM_A = 10, TRANSFORM_B = 11;
    /** A recurrent layer's input projection for all steps (held by the calling thread). */
    static final int RECURRENT_INPUT = 12;
    /** A block of depthwise channels, padded (in the tasks of the channel-blocked depthwise kernel). */
    static final int DEPTHWISE_GRID = 13;
    /** The last, partial vector of an activation applied to an array. */
    static final int ACTIVATION_TAIL = 14;
    /** A scalar operand of an elementwise op, as a vector's worth of copies. */
    static final int BROADCAST_A = 15, BROADCAST_B = 16;
    /** Packed panels of B's rows, copied from rows read in place (the convolution GEMM's tasks, Winograd's). */
    static final int B_PANEL = 17;
    /** A blocked convolution's bias, zero-padded to whole blocks (held by the calling thread). */
    static final int BLOCKED_BIAS = 18;
    private static final int SLOTS = 19;

    private static final ThreadLocal<Buffers> BUFFERS = ThreadLocal.withInitial(Buffers::new);

    /** One thread's buffers, and for each the layout whose padding it holds. */
    private static final class Buffers {
        final float[][] floats = new float[SLOTS][];
        final WindowPlanes[] layout = new WindowPlanes[SLOTS];
        final float[] padding = new float[SLOTS];
        final int[] prepared = new int[SLOTS];
    }

    /** This thread's buffer for {@code slot}, at least {@code n} floats long. */
    static float[] floats(int slot, int n) {
        Buffers b = BUFFERS.get();
        b.layout[slot] = null; // its user overwrites it freely
        return grown(b, slot, n);
    }

    /**
     * This thread's buffer for {@code slot}, at least {@code n} floats, holding {@code padding}
     * wherever {@link WindowPlanes#fill} with {@code layout} does not write. The buffer is filled
     * only when it last served another layout, padding value or a shorter length: {@link
     * WindowPlanes#of} hands out one instance per geometry, so a model's runs fill it once.
     */
    static float[] laidOut(int slot, WindowPlanes layout, int n, float padding) {
        Buffers b = BUFFERS.get();
        float[] buffer = grown(b, slot, n);
        boolean same = b.layout[slot] == layout && Float.compare(b.padding[slot], padding) == 0 && b.prepared[slot] >= n;
        if (!same) {
            Arrays.fill(buffer, 0, n, padding);
            b.layout[slot] = layout;
            b.padding[slot] = padding;
            b.prepared[slot] = n;
        }
        return buffer;
    }

    private static float[] grown(Buffers b, int slot, int n) {
        if (b.floats[slot] == null || b.floats[slot].length < n) {
            b.floats[slot] = new float[n];
            b.layout[slot] = null;
        }
        return b.floats[slot];
    }
}
