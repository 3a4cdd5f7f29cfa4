package dev.onnxrun.runtime.kernels;

import dev.onnxrun.runtime.DType;
import dev.onnxrun.runtime.Tensor;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/** Array views of float32 tensors for kernels whose fast paths work on Java arrays. */
public final class FloatArrays {
    private FloatArrays() {}

    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;

    /**
     * The elements of a float32 tensor as an array: its own backing array when the tensor is a
     * whole heap float array (no copy), else a copy. Callers must treat the result as read-only.
     */
    public static float[] read(Tensor t) {
        if (t.dtype() != DType.FLOAT) throw new IllegalArgumentException("not a float tensor: " + t.describe());
        MemorySegment s = t.segment();
        if (s.heapBase().orElse(null) instanceof float[] arr && s.address() == 0 && arr.length == t.size()) return arr;
        return t.toFloatArray();
    }

    /** A float32 tensor's elements in a Java array, element 0 at {@code offset}. */
    public record Slice(float[] array, int offset) {}

    /**
     * The elements of a float32 tensor where they are, when it lies in a heap float array (a whole
     * array or a slice of a session's arena; no copy), else a copy. Read-only unless the tensor
     * is the kernel's own output.
     */
    public static Slice slice(Tensor t) {
        if (t.dtype() != DType.FLOAT) throw new IllegalArgumentException("not a float tensor: " + t.describe());
        MemorySegment s = t.segment();
        if (s.heapBase().orElse(null) instanceof float[] arr) return new Slice(arr, (int) (s.address() / Float.BYTES));
        return new Slice(t.toFloatArray(), 0);
    }

    /** The elements of any numeric tensor as doubles (a copy). */
    public static double[] doubles(Tensor t) {
        if (t.dtype() == DType.FLOAT) {
            float[] f = read(t);
            double[] out = new double[f.length];
            for (int i = 0; i < f.length; i++) out[i] = f[i];
            return out;
        }
        if (t.dtype() == DType.DOUBLE) {
            MemorySegment s = t.segment();
            if (s.heapBase().orElse(null) instanceof double[] arr && s.address() == 0 && arr.length == t.size()) return arr.clone();
        }
        return t.toDoubleArray();
    }

    /**
     * out[at + i] += scale · v[vAt + i] for i in [0, n), in vector lanes, the last partial vector
     * in scalars (a masked access past the end of an array takes the Vector API's slow path).
     */
    static void addScaled(float[] v, int vAt, float scale, float[] out, int at, int n) {
        int i = 0;
        for (int upper = SPECIES.loopBound(n); i < upper; i += SPECIES.length()) {
            FloatVector.fromArray(SPECIES, v, vAt + i).fma(FloatVector.broadcast(SPECIES, scale), FloatVector.fromArray(SPECIES, out, at + i))
                    .intoArray(out, at + i);
        }
        for (; i < n; i++) out[at + i] += scale * v[vAt + i];
    }

    /** A float32 tensor over {@code data} (no copy). */
    public static Tensor tensor(float[] data, long... shape) {
        return Tensor.of(data, shape);
    }

    /** A tensor of {@code dtype} holding {@code values} rounded to it. */
    public static Tensor fromDoubles(DType dtype, double[] values, long... shape) {
        if (dtype == DType.DOUBLE) return Tensor.of(values, shape);
        if (dtype == DType.FLOAT) {
            float[] f = new float[values.length];
            for (int i = 0; i < f.length; i++) f[i] = (float) values[i];
            return Tensor.of(f, shape);
        }
        Tensor out = Tensor.allocate(dtype, shape);
        for (int i = 0; i < values.length; i++) out.setDouble(i, values[i]);
        return out;
    }
}
