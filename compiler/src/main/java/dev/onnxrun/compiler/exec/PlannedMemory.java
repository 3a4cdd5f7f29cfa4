package dev.onnxrun.compiler.exec;

import dev.onnxrun.runtime.DType;
import dev.onnxrun.runtime.OutputMemory;
import dev.onnxrun.runtime.Tensor;
import dev.onnxrun.runtime.Value;
import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * A {@link MemoryPlan} laid over a plan's steps for one set of input shapes: for each step's
 * outputs, the arena slice (offset and bytes) that holds it, or -1 when the plan leaves the value
 * to the heap. Immutable; {@link #bind} makes the per-run allocator.
 */
final class PlannedMemory {
    private final long arenaBytes;
    private final long[][] offsets;
    private final long[][] bytes;

    private PlannedMemory(long arenaBytes, long[][] offsets, long[][] bytes) {
        this.arenaBytes = arenaBytes;
        this.offsets = offsets;
        this.bytes = bytes;
    }

    static PlannedMemory of(MemoryPlan plan, List<Plan.Step> steps) {
        long[][] offsets = new long[steps.size()][], bytes = new long[steps.size()][];
        for (int i = 0; i < steps.size(); i++) {
            String[] outs = steps.get(i).outputs();
            offsets[i] = new long[outs.length];
            bytes[i] = new long[outs.length];
            for (int j = 0; j < outs.length; j++) {
                offsets[i][j] = outs[j].isEmpty() ? -1 : plan.offsetOf(outs[j]);
                bytes[i][j] = outs[j].isEmpty() ? 0 : plan.bytesAt(outs[j]);
            }
        }
        return new PlannedMemory(plan.arenaBytes(), offsets, bytes);
    }

    long arenaBytes() { return arenaBytes; }

    /** The allocator of one run over {@code arena}. */
    Run bind(float[] arena) { return new Run(arena); }

    /** Hands each step's kernel its planned slices and checks what the kernel returned. */
    final class Run implements OutputMemory {
        private final float[] arena;
        private final MemorySegment segment;
        private int step;

        private Run(float[] arena) {
            this.arena = arena;
            this.segment = MemorySegment.ofArray(arena);
        }

        void step(int step) { this.step = step; }

        @Override
        public Tensor allocate(int output, DType dtype, long[] shape) {
            if (dtype == DType.FLOAT && output < offsets[step].length && offsets[step][output] >= 0) {
                long need = dev.onnxrun.runtime.Shapes.size(shape) * Float.BYTES;
                if (need <= bytes[step][output]) return Tensor.wrap(DType.FLOAT, segment.asSlice(offsets[step][output], need), shape);
            }
            return Tensor.allocate(dtype, shape);
        }

        /**
         * {@code value} as output {@code output} of the running step may keep it: unchanged when it
         * lies outside the arena or inside its own planned slice; a heap copy when it lies in some
         * other part of the arena (a kernel that returned a view of an input), since that memory
         * is reused once the input dies.
         */
        Value settle(int output, Value value) {
            if (!inArena(value)) return value;
            MemorySegment s = ((Tensor) value).segment();
            long start = s.address(), end = start + s.byteSize();
            long slot = output < offsets[step].length ? offsets[step][output] : -1;
            if (slot >= 0 && start >= slot && end <= slot + bytes[step][output]) return value;
            return ((Tensor) value).copy();
        }

        /** A graph output must outlive the run: a heap copy if it lies in the arena. */
        Value escape(Value value) {
            return inArena(value) ? ((Tensor) value).copy() : value;
        }

        private boolean inArena(Value value) {
            return value instanceof Tensor t && t.segment() != null && t.segment().heapBase().orElse(null) == arena;
        }
    }
}
