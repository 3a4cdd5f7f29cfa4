package dev.onnxrun.runtime.kernels;

import dev.onnxrun.runtime.DType;
import dev.onnxrun.runtime.ExecContext;
import dev.onnxrun.runtime.OutputMemory;
import dev.onnxrun.runtime.Parallel;
import dev.onnxrun.runtime.Shapes;
import dev.onnxrun.runtime.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * Output memory as a session's arena gives it: float32 outputs are slices at an odd offset of a
 * larger array filled with NaN, so a kernel that ignores the offset or assumes zeroed memory
 * shows it in its results.
 */
final class ArenaSlices {
    private ArenaSlices() {}

    static ExecContext context(Parallel parallel) {
        OutputMemory memory = (output, dtype, shape) -> {
            if (dtype != DType.FLOAT) return Tensor.allocate(dtype, shape);
            int size = Math.toIntExact(Shapes.size(shape)), offset = 37 + 19 * output;
            float[] arena = new float[offset + size + 11];
            Arrays.fill(arena, Float.NaN);
            return Tensor.wrap(DType.FLOAT, MemorySegment.ofArray(arena).asSlice((long) offset * Float.BYTES, (long) size * Float.BYTES), shape);
        };
        return new ExecContext(ExecContext.Scope.EMPTY, parallel, memory);
    }

    /** A copy of float tensor {@code t} lying at an odd offset inside a larger NaN-filled array, as an input from an arena does. */
    static Tensor slice(Tensor t) {
        float[] values = t.toFloatArray(), arena = new float[values.length + 41];
        Arrays.fill(arena, Float.NaN);
        System.arraycopy(values, 0, arena, 23, values.length);
        return Tensor.wrap(DType.FLOAT, MemorySegment.ofArray(arena).asSlice(23L * Float.BYTES, (long) values.length * Float.BYTES), t.shape());
    }
}
