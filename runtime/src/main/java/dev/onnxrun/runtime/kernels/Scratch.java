package dev.onnxrun.runtime.kernels;

/**
 * Per-thread scratch arrays that kernels reuse from call to call, so large intermediates are
 * neither allocated nor zeroed on every run. Contents are whatever the last user left: callers
 * write before they read. Each slot is one buffer; a kernel uses a different slot for each
 * buffer it holds at once, and must not call into another kernel using the same slot meanwhile.
 */
final class Scratch {
    private Scratch() {}

    /** Winograd's transformed input and its products; the convolution GEMM's accumulator tiles; a block of depthwise channels, padded. */
    static final int WINOGRAD_INPUT = 0, WINOGRAD_PRODUCTS = 1, CONV_TILES = 2, DEPTHWISE_GRID = 3;
    private static final int SLOTS = 4;

    private static final ThreadLocal<float[][]> BUFFERS = ThreadLocal.withInitial(() -> new float[SLOTS][]);

    /** This thread's buffer for {@code slot}, at least {@code n} floats long. */
    static float[] floats(int slot, int n) {
        float[][] buffers = BUFFERS.get();
        if (buffers[slot] == null || buffers[slot].length < n) buffers[slot] = new float[n];
        return buffers[slot];
    }
}
