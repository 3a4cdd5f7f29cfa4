package dev.onnxrun.runtime.kernels;

import dev.onnxrun.runtime.Tensor;
import java.util.Random;

/** Random float tensors for kernel tests. */
final class RandomTensors {
    private RandomTensors() {}

    /** A float32 copy of {@code t} lying at an odd offset inside a larger NaN-filled array, as a session's arena hands inputs to kernels. */
    static Tensor sliced(Tensor t) {
        int offset = 13, size = Math.toIntExact(t.size());
        float[] arena = new float[offset + size + 7];
        java.util.Arrays.fill(arena, Float.NaN);
        for (int i = 0; i < size; i++) arena[offset + i] = t.getFloat(i);
        return Tensor.wrap(dev.onnxrun.runtime.DType.FLOAT,
                java.lang.foreign.MemorySegment.ofArray(arena).asSlice((long) offset * Float.BYTES, (long) size * Float.BYTES), t.shape());
    }

    /** A double tensor of the same values (null stays null): the input of a kernel's generic twin. */
    static Tensor asDouble(Tensor f) {
        if (f == null) return null;
        Tensor d = Tensor.allocate(dev.onnxrun.runtime.DType.DOUBLE, f.shape());
        for (long i = 0; i < f.size(); i++) d.setDouble(i, f.getDouble(i));
        return d;
    }

    /** Values uniform in [-1, 1). */
    static Tensor uniform(Random r, long... shape) {
        int n = 1;
        for (long d : shape) n *= (int) d;
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = r.nextFloat() * 2 - 1;
        return Tensor.of(v, shape);
    }
}
