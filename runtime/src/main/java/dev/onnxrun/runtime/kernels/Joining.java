package dev.onnxrun.runtime.kernels;

import dev.onnxrun.runtime.ExecContext;
import dev.onnxrun.runtime.OnnxrunException;
import dev.onnxrun.runtime.Shapes;
import dev.onnxrun.runtime.Tensor;

/** Concat and Split: joining tensors along an axis and cutting one apart. */
public final class Joining {
    private Joining() {}

    /** Joins {@code parts} along {@code axis} into ctx's output 0; every other dim must agree. */
    public static Tensor concat(Tensor[] parts, long axis, ExecContext ctx) {
        if (parts.length == 0) throw OnnxrunException.invalidInput("Concat: no inputs");
        Tensor first = parts[0];
        int rank = first.rank();
        int a = Shapes.axis(axis, rank);
        long[] outShape = first.shape();
        long total = 0;
        for (Tensor t : parts) {
            if (t.rank() != rank || t.dtype() != first.dtype()) {
                throw OnnxrunException.invalidInput("Concat: input " + t.describe() + " does not match " + first.describe());
            }
            for (int d = 0; d < rank; d++) {
                if (d != a && t.dim(d) != outShape[d]) {
                    throw OnnxrunException.invalidInput("Concat: input " + t.describe() + " differs from "
                            + first.describe() + " outside axis " + a);
                }
            }
            total += t.dim(a);
        }
        outShape[a] = total;
        Tensor out = ctx.output(0, first.dtype(), outShape);
        long outer = Shapes.size(java.util.Arrays.copyOf(outShape, a));
        long inner = Shapes.size(java.util.Arrays.copyOfRange(outShape, a + 1, rank));
        long outBlock = total * inner;
        long offset = 0;
        for (Tensor t : parts) {
            long block = t.dim(a) * inner;
            if (block > 0 && !(outer == 1 && liesIn(t, out, offset))) {
                for (long o = 0; o < outer; o++) out.copyFrom(t, o * block, o * outBlock + offset, block);
            }
            offset += block;
        }
        return out;
    }

    /** Whether {@code t}'s elements already lie in {@code out} from element {@code at} on: the memory plan had them made there. */
    private static boolean liesIn(Tensor t, Tensor out, long at) {
        java.lang.foreign.MemorySegment part = t.segment(), whole = out.segment();
        return part != null && whole != null && part.heapBase().orElse(null) == whole.heapBase().orElse(null)
                && part.address() == whole.address() + at * out.dtype().byteSize();
    }

    /** Cuts {@code x} along {@code axis} into pieces of the given sizes, which must sum to the dim. */
    public static Tensor[] split(Tensor x, long axis, long[] sizes) {
        int rank = x.rank();
        int a = Shapes.axis(axis, rank);
        long sum = 0;
        for (long s : sizes) {
            if (s < 0) throw OnnxrunException.invalidInput("Split: negative split size " + s);
            sum += s;
        }
        if (sum != x.dim(a)) {
            throw OnnxrunException.invalidInput("Split: sizes " + Shapes.toString(sizes) + " do not sum to dim "
                    + x.dim(a) + " of axis " + a);
        }
        long[] shape = x.shape();
        long outer = Shapes.size(java.util.Arrays.copyOf(shape, a));
        long inner = Shapes.size(java.util.Arrays.copyOfRange(shape, a + 1, rank));
        long inBlock = x.dim(a) * inner;
        Tensor[] out = new Tensor[sizes.length];
        long offset = 0;
        for (int i = 0; i < sizes.length; i++) {
            long[] s = shape.clone();
            s[a] = sizes[i];
            out[i] = Tensor.allocate(x.dtype(), s);
            long block = sizes[i] * inner;
            if (block > 0) {
                for (long o = 0; o < outer; o++) out[i].copyFrom(x, o * inBlock + offset, o * block, block);
            }
            offset += block;
        }
        return out;
    }

    /** Split sizes for {@code parts} pieces: ceil(dim/parts) each, the last one taking the rest (opset 18). */
    public static long[] evenSizes(long dim, int parts, boolean allowUneven) {
        if (parts <= 0) throw OnnxrunException.invalidInput("Split: number of outputs must be positive");
        if (!allowUneven && dim % parts != 0) {
            throw OnnxrunException.invalidInput("Split: dim " + dim + " is not divisible into " + parts + " equal parts");
        }
        long chunk = (dim + parts - 1) / parts;
        long[] sizes = new long[parts];
        long left = dim;
        for (int i = 0; i < parts; i++) {
            sizes[i] = Math.min(chunk, left);
            left -= sizes[i];
        }
        return sizes;
    }
}
