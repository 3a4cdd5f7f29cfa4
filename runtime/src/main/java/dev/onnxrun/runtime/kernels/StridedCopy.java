package dev.onnxrun.runtime.kernels;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;

import dev.onnxrun.runtime.DType;
import dev.onnxrun.runtime.ExecContext;
import dev.onnxrun.runtime.OnnxrunException;
import dev.onnxrun.runtime.Shapes;
import dev.onnxrun.runtime.Tensor;
import dev.onnxrun.runtime.Parallel;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * Copies elements between strided views of tensors, moving their bits unchanged. Transpose,
 * Slice, Expand, Tile, Pad and friends are all a strided view of their input made contiguous.
 */
public final class StridedCopy {
    private StridedCopy() {}

    /** Copies one element from a source index to a destination index (same element type). */
    @FunctionalInterface
    public interface ElementMover {
        void move(long srcIndex, long dstIndex);
    }

    /** The cheapest way to move single elements from {@code src} to {@code dst}: raw bits by element width. */
    public static ElementMover mover(Tensor src, Tensor dst) {
        if (src.dtype() != dst.dtype()) {
            throw new IllegalArgumentException("dtype mismatch " + src.dtype() + " vs " + dst.dtype());
        }
        if (src.dtype() == DType.STRING) return (s, d) -> dst.setString(d, src.getString(s));
        MemorySegment a = src.segment();
        MemorySegment b = dst.segment();
        return switch (src.dtype().byteSize()) {
            case 1 -> (s, d) -> b.set(JAVA_BYTE, d, a.get(JAVA_BYTE, s));
            case 2 -> (s, d) -> b.set(JAVA_SHORT_UNALIGNED, d * 2, a.get(JAVA_SHORT_UNALIGNED, s * 2));
            case 4 -> (s, d) -> b.set(JAVA_INT_UNALIGNED, d * 4, a.get(JAVA_INT_UNALIGNED, s * 4));
            case 8 -> (s, d) -> b.set(JAVA_LONG_UNALIGNED, d * 8, a.get(JAVA_LONG_UNALIGNED, s * 8));
            default -> (s, d) -> dst.copyFrom(src, s, d, 1);
        };
    }

    /**
     * For every index tuple of {@code shape}: {@code dst[dstOffset + idx·dstStrides] = src[srcOffset + idx·srcStrides]}.
     * Strides are in elements and may be zero (broadcast) or negative (reversed slices).
     */
    public static void copy(Tensor src, long srcOffset, long[] srcStrides, long[] shape,
                            Tensor dst, long dstOffset, long[] dstStrides) {
        copy(src, srcOffset, srcStrides, shape, dst, dstOffset, dstStrides, Parallel.SERIAL);
    }

    /** As {@link #copy(Tensor, long, long[], long[], Tensor, long, long[])}, splitting rows across {@code parallel}. */
    public static void copy(Tensor src, long srcOffset, long[] srcStrides, long[] shape,
                            Tensor dst, long dstOffset, long[] dstStrides, Parallel parallel) {
        long n = Shapes.size(shape);
        if (n == 0) return;
        if (shape.length == 0) {
            dst.copyFrom(src, srcOffset, dstOffset, 1);
            return;
        }
        Layout l = Layout.coalesced(shape, srcStrides, dstStrides);
        long rows = n / l.shape[l.shape.length - 1];
        ElementMover mover = l.contiguousRows() ? null : mover(src, dst);
        // from the elementwise threshold up (the encoder's 32K-element head transposes ran alone at 2^16,
        // 3 % slower at two threads: their input comes from both cores' caches)
        Work.pool(parallel, n).forRange(rows, (from, to) -> copyRows(src, srcOffset, dst, dstOffset, l, mover, from, to));
    }

    /** Shape and strides with adjacent dims merged wherever both sides walk them as one. */
    private record Layout(long[] shape, long[] src, long[] dst) {
        static Layout coalesced(long[] shape, long[] src, long[] dst) {
            int rank = shape.length;
            long[] sh = new long[rank];
            long[] ss = new long[rank];
            long[] ds = new long[rank];
            int r = 0;
            for (int k = 0; k < rank; k++) {
                if (shape[k] == 1 && rank > 1) continue; // a unit dim never moves the offsets
                if (r > 0 && ss[r - 1] == src[k] * shape[k] && ds[r - 1] == dst[k] * shape[k]) {
                    sh[r - 1] *= shape[k];
                    ss[r - 1] = src[k];
                    ds[r - 1] = dst[k];
                } else {
                    sh[r] = shape[k];
                    ss[r] = src[k];
                    ds[r] = dst[k];
                    r++;
                }
            }
            if (r == 0) return new Layout(new long[] {1}, new long[] {1}, new long[] {1});
            return new Layout(Arrays.copyOf(sh, r), Arrays.copyOf(ss, r), Arrays.copyOf(ds, r));
        }

        boolean contiguousRows() {
            return src[src.length - 1] == 1 && dst[dst.length - 1] == 1;
        }
    }

    /** Copies rows [from, to) of the layout, a row being its innermost dim. */
    private static void copyRows(Tensor src, long srcOffset, Tensor dst, long dstOffset, Layout l, ElementMover mover,
                                 long from, long to) {
        int last = l.shape.length - 1;
        long inner = l.shape[last];
        long srcStep = l.src[last];
        long dstStep = l.dst[last];
        long[] counter = new long[last + 1];
        long s = srcOffset;
        long d = dstOffset;
        long rest = from;
        for (int k = last - 1; k >= 0; k--) {
            counter[k] = rest % l.shape[k];
            rest /= l.shape[k];
            s += counter[k] * l.src[k];
            d += counter[k] * l.dst[k];
        }
        // 4-byte elements (float, int32) are moved here directly: through the mover each element
        // is a call to one of several lambdas, which C2 cannot inline at this shared call site.
        MemorySegment words = mover != null && src.dtype() != DType.STRING && src.dtype().byteSize() == 4 ? src.segment() : null;
        MemorySegment wordsOut = words != null ? dst.segment() : null;
        // Float rows read down a column (attention's K transposed): TILE rows side by side, so each
        // step reads TILE neighbouring source floats, one cache line, instead of one float per line
        // at a stride that maps every line to the same few cache sets.
        float[] floatsIn = words != null && words.heapBase().orElse(null) instanceof float[] a ? a : null;
        float[] floatsOut = floatsIn != null && wordsOut.heapBase().orElse(null) instanceof float[] a ? a : null;
        boolean tiled = floatsOut != null && last >= 1 && l.src[last - 1] == 1 && srcStep != 1;
        for (long row = from; row < to; ) {
            int rows = 1;
            if (tiled) {
                rows = (int) Math.min(Math.min(TILE, l.shape[last - 1] - counter[last - 1]), to - row);
                copyTile(floatsIn, (int) (words.address() / Float.BYTES + s), (int) srcStep, floatsOut,
                        (int) (wordsOut.address() / Float.BYTES + d), (int) dstStep, (int) l.dst[last - 1], rows, (int) inner);
            } else if (mover == null) {
                dst.copyFrom(src, s, d, inner);
            } else if (words != null) {
                long ss = s * 4, dd = d * 4, srcBytes = srcStep * 4, dstBytes = dstStep * 4;
                for (long i = 0; i < inner; i++, ss += srcBytes, dd += dstBytes) wordsOut.set(JAVA_INT_UNALIGNED, dd, words.get(JAVA_INT_UNALIGNED, ss));
            } else {
                long ss = s;
                long dd = d;
                for (long i = 0; i < inner; i++, ss += srcStep, dd += dstStep) mover.move(ss, dd);
            }
            row += rows;
            for (int r = 0; r < rows; r++) {
                for (int k = last - 1; k >= 0; k--) {
                    counter[k]++;
                    s += l.src[k];
                    d += l.dst[k];
                    if (counter[k] < l.shape[k]) break;
                    s -= l.src[k] * l.shape[k];
                    d -= l.dst[k] * l.shape[k];
                    counter[k] = 0;
                }
            }
        }
    }

    /** Rows side by side in a tiled copy: 16 floats, one 64-byte cache line of the source. */
    private static final int TILE = 16;

    /**
     * {@code rows} rows of {@code inner} floats: row r, element i moves from
     * {@code in[inAt + r + i·inStep]} to {@code out[outAt + r·outRowStep + i·outStep]}.
     */
    private static void copyTile(float[] in, int inAt, int inStep, float[] out, int outAt, int outStep, int outRowStep,
                                 int rows, int inner) {
        for (int i = 0; i < inner; i++) {
            int from = inAt + i * inStep, to = outAt + i * outStep;
            for (int r = 0; r < rows; r++) out[to + r * outRowStep] = in[from + r];
        }
    }

    /** A new contiguous tensor holding the strided view {@code (offset, strides, shape)} of {@code src}. */
    public static Tensor materialize(Tensor src, long offset, long[] strides, long[] shape) {
        return materialize(src, offset, strides, shape, Parallel.SERIAL);
    }

    public static Tensor materialize(Tensor src, long offset, long[] strides, long[] shape, Parallel parallel) {
        Tensor out = Tensor.allocate(src.dtype(), shape);
        copy(src, offset, strides, shape, out, 0, Shapes.strides(shape), parallel);
        return out;
    }

    /** Permutes the axes: output axis {@code i} is input axis {@code perm[i]}. */
    public static Tensor transpose(Tensor x, int[] perm, Parallel parallel) {
        return transpose(x, perm, ExecContext.on(parallel));
    }

    /** {@link #transpose(Tensor, int[], Parallel)} into ctx's output 0. */
    public static Tensor transpose(Tensor x, int[] perm, ExecContext ctx) {
        int rank = x.rank();
        if (perm.length != rank) {
            throw OnnxrunException.invalidInput("Transpose: perm has " + perm.length + " entries for rank " + rank);
        }
        long[] inStrides = Shapes.strides(x.shape());
        long[] shape = new long[rank];
        long[] strides = new long[rank];
        for (int i = 0; i < rank; i++) {
            shape[i] = x.dim(perm[i]);
            strides[i] = inStrides[perm[i]];
        }
        Tensor out = ctx.output(0, x.dtype(), shape);
        copy(x, 0, strides, shape, out, 0, Shapes.strides(shape), ctx.parallel());
        return out;
    }

    /** Numpy-style broadcast of {@code x} to {@code shape} (Expand): the result is the broadcast of both shapes. */
    public static Tensor expand(Tensor x, long[] shape, Parallel parallel) {
        long[] out = Shapes.broadcast(x.shape(), shape);
        return materialize(x, 0, Shapes.broadcastStrides(x.shape(), out), out, parallel);
    }

    /** Repeats {@code x} {@code repeats[i]} times along each axis. */
    public static Tensor tile(Tensor x, long[] repeats, Parallel parallel) {
        int rank = x.rank();
        if (repeats.length != rank) {
            throw OnnxrunException.invalidInput("Tile: " + repeats.length + " repeats for input of rank " + rank);
        }
        long[] inStrides = Shapes.strides(x.shape());
        // Walk (repeat, dim) pairs: the repeat axis has stride 0, so row-major order matches the output.
        long[] viewShape = new long[2 * rank];
        long[] viewStrides = new long[2 * rank];
        long[] outShape = new long[rank];
        for (int i = 0; i < rank; i++) {
            if (repeats[i] < 0) throw OnnxrunException.invalidInput("Tile: negative repeat " + repeats[i] + " for axis " + i);
            viewShape[2 * i] = repeats[i];
            viewShape[2 * i + 1] = x.dim(i);
            viewStrides[2 * i + 1] = inStrides[i];
            outShape[i] = repeats[i] * x.dim(i);
        }
        Shapes.size(viewShape); // rejects overflow before allocating
        Tensor out = Tensor.allocate(x.dtype(), outShape);
        copy(x, 0, viewStrides, viewShape, out, 0, Shapes.strides(viewShape), parallel);
        return out;
    }

    /**
     * Slices {@code x}: for each listed axis, elements start, start+step, ... before end, with ONNX clamping
     * (starts/ends clamp to the dim; negative values count from the end; steps may be negative).
     */
    public static Tensor slice(Tensor x, long[] starts, long[] ends, long[] axes, long[] steps, Parallel parallel) {
        int rank = x.rank();
        int n = starts.length;
        if (ends.length != n || (axes != null && axes.length != n) || (steps != null && steps.length != n)) {
            throw OnnxrunException.invalidInput("Slice: starts, ends, axes and steps must have the same length");
        }
        long[] inStrides = Shapes.strides(x.shape());
        long[] shape = x.shape();
        long[] strides = inStrides.clone();
        long offset = 0;
        boolean[] seen = new boolean[rank];
        for (int i = 0; i < n; i++) {
            int axis = Shapes.axis(axes == null ? i : axes[i], rank);
            if (seen[axis]) throw OnnxrunException.invalidInput("Slice: axis " + axis + " is repeated");
            seen[axis] = true;
            long step = steps == null ? 1 : steps[i];
            if (step == 0) throw OnnxrunException.invalidInput("Slice: step for axis " + axis + " is 0");
            long[] range = sliceRange(x.dim(axis), starts[i], ends[i], step);
            shape[axis] = range[1];
            strides[axis] = inStrides[axis] * step;
            if (range[1] > 0) offset += range[0] * inStrides[axis];
        }
        return materialize(x, offset, strides, shape, parallel);
    }

    /** The first index and the element count that Slice takes from an axis of size {@code dim}. */
    public static long[] sliceRange(long dim, long start, long end, long step) {
        start = start < 0 ? start + dim : start;
        end = end < 0 ? end + dim : end;
        if (step > 0) {
            start = clamp(start, 0, dim);
            end = clamp(end, 0, dim);
            return new long[] {start, end > start ? (end - start - 1) / step + 1 : 0};
        }
        start = clamp(start, 0, dim - 1);
        end = clamp(end, -1, dim - 1);
        return new long[] {start, start > end ? (start - end - 1) / -step + 1 : 0};
    }

    /** Clamps with saturation, so that huge INT64_MAX-style bounds behave. */
    static long clamp(long v, long lo, long hi) {
        return Math.max(lo, Math.min(hi, v));
    }
}
