package dev.onnxrun.runtime.kernels;

import dev.onnxrun.runtime.Parallel;

/** Picks whether a kernel's loop is worth spreading over the pool. */
final class Work {
    private Work() {}

    /**
     * Below this many element operations, handing work to other threads costs more than it saves.
     * Workers spin through a model run ({@link Parallel#running}), so a hand-over costs a few
     * microseconds: at 2<sup>16</sup> mobilenet_v2's small layers ran on one thread, and
     * 2<sup>14</sup> measured 4–6 % faster at two threads.
     */
    static final long PARALLEL_THRESHOLD = 1L << 14;

    /** {@code parallel} for loops doing {@code operations} element operations in all, else the serial pool. */
    static Parallel pool(Parallel parallel, long operations) {
        return operations < PARALLEL_THRESHOLD ? Parallel.SERIAL : parallel;
    }
}
