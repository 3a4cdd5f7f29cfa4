package dev.onnxrun.runtime.kernels;

import dev.onnxrun.runtime.OnnxrunException;
import dev.onnxrun.runtime.Shapes;
import java.util.Arrays;
import java.util.Locale;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Geometry of sliding windows over the spatial axes, shared by convolutions and pooling: output
 * sizes and padding from the ONNX attributes, and gather maps from window positions to elements.
 */
public final class Windows {
    private Windows() {}

    /** The ONNX {@code auto_pad} attribute. */
    public enum AutoPad {
        NOTSET, SAME_UPPER, SAME_LOWER, VALID;

        public static AutoPad parse(String s) {
            try {
                return valueOf(s.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw OnnxrunException.invalidModel("unknown auto_pad '" + s + "'");
            }
        }
    }

    /**
     * Resolved window geometry over n spatial axes: input and output sizes, the window (kernel,
     * strides, dilations) and the padding added before and after each axis.
     */
    public record Geometry(long[] in, long[] out, long[] kernel, long[] strides, long[] dilations,
                           long[] padBegin, long[] padEnd) {
        public int rank() { return in.length; }

        public long inSize() { return Shapes.size(in); }

        public long outSize() { return Shapes.size(out); }

        public long kernelSize() { return Shapes.size(kernel); }

        /** Extent of a dilated window along axis {@code d}. */
        long span(int d) { return (kernel[d] - 1) * dilations[d] + 1; }
    }

    /** The attribute value, or {@code fill} repeated n times when absent; checks its length. */
    public static long[] orFill(long[] values, int n, long fill, String name) {
        if (values == null) {
            long[] out = new long[n];
            Arrays.fill(out, fill);
            return out;
        }
        if (values.length != n) {
            throw OnnxrunException.invalidModel(name + " has " + values.length + " values, expected " + n);
        }
        return values.clone();
    }

    /**
     * Geometry of a convolution or pooling window over input sizes {@code in}. {@code pads} holds
     * n begin values then n end values (null for none); with {@code ceilMode} partial windows at
     * the end count, but never one starting beyond the input and its begin padding.
     */
    public static Geometry forward(long[] in, long[] kernel, long[] strides, long[] dilations, long[] pads,
                                   AutoPad autoPad, boolean ceilMode) {
        int n = in.length;
        checkWindow(kernel, strides, dilations);
        long[] p = orFill(pads, 2 * n, 0, "pads");
        long[] begin = Arrays.copyOfRange(p, 0, n), end = Arrays.copyOfRange(p, n, 2 * n);
        long[] out = new long[n];
        for (int d = 0; d < n; d++) {
            long span = (kernel[d] - 1) * dilations[d] + 1;
            switch (autoPad) {
                case SAME_UPPER, SAME_LOWER -> {
                    out[d] = ceilDiv(in[d], strides[d]);
                    long total = Math.max(0, (out[d] - 1) * strides[d] + span - in[d]);
                    begin[d] = autoPad == AutoPad.SAME_UPPER ? total / 2 : total - total / 2;
                    end[d] = total - begin[d];
                }
                case VALID -> {
                    begin[d] = end[d] = 0;
                    out[d] = in[d] < span ? 0 : (in[d] - span) / strides[d] + 1;
                }
                case NOTSET -> {
                    if (begin[d] < 0 || end[d] < 0) throw OnnxrunException.invalidModel("negative pads " + Arrays.toString(p));
                    long room = in[d] + begin[d] + end[d] - span;
                    if (room < 0) {
                        out[d] = 0;
                    } else {
                        out[d] = (ceilMode ? ceilDiv(room, strides[d]) : room / strides[d]) + 1;
                        if (ceilMode && (out[d] - 1) * strides[d] >= in[d] + begin[d]) out[d]--;
                    }
                }
            }
        }
        return new Geometry(in.clone(), out, kernel.clone(), strides.clone(), dilations.clone(), begin, end);
    }

    /**
     * Geometry of a transposed convolution from input sizes {@code in}: output sizes from
     * {@code outputShape} when given (padding then derived from it), else from the pads.
     * In the result, {@code in} and {@code out} are the transposed convolution's own input and
     * output, and the window walks the input scattering into the output.
     */
    public static Geometry transposed(long[] in, long[] kernel, long[] strides, long[] dilations, long[] pads,
                                      long[] outputPadding, long[] outputShape, AutoPad autoPad) {
        int n = in.length;
        checkWindow(kernel, strides, dilations);
        long[] p = orFill(pads, 2 * n, 0, "pads");
        long[] outPad = orFill(outputPadding, n, 0, "output_padding");
        long[] begin = Arrays.copyOfRange(p, 0, n), end = Arrays.copyOfRange(p, n, 2 * n);
        long[] out = new long[n];
        for (int d = 0; d < n; d++) {
            long span = (kernel[d] - 1) * dilations[d] + 1;
            long full = strides[d] * (in[d] - 1) + outPad[d] + span;
            if (outputShape != null || autoPad == AutoPad.SAME_UPPER || autoPad == AutoPad.SAME_LOWER) {
                out[d] = outputShape != null ? outputShape[outputShape.length - n + d] : in[d] * strides[d];
                long total = full - out[d];
                // floor division: an output_shape larger than the full result gives negative padding at the end
                long half = Math.floorDiv(total, 2);
                if (autoPad == AutoPad.SAME_UPPER) {
                    begin[d] = half;
                    end[d] = total - half;
                } else {
                    begin[d] = total - half;
                    end[d] = half;
                }
            } else {
                if (autoPad == AutoPad.VALID) begin[d] = end[d] = 0;
                out[d] = full - begin[d] - end[d];
            }
            if (out[d] < 0) throw OnnxrunException.invalidInput("ConvTranspose output size " + out[d] + " is negative");
        }
        return new Geometry(in.clone(), out, kernel.clone(), strides.clone(), dilations.clone(), begin, end);
    }

    private static void checkWindow(long[] kernel, long[] strides, long[] dilations) {
        for (int d = 0; d < kernel.length; d++) {
            if (kernel[d] < 1 || strides[d] < 1 || dilations[d] < 1) {
                throw OnnxrunException.invalidModel("kernel " + Arrays.toString(kernel) + ", strides " + Arrays.toString(strides)
                        + " and dilations " + Arrays.toString(dilations) + " must be positive");
            }
        }
    }

    static long ceilDiv(long a, long b) { return Math.floorDiv(a + b - 1, b); }

    /**
     * The window positions {@code [lo, hi)} along {@code axis} at which kernel tap {@code k}
     * lands inside the input rather than in padding: a contiguous range, which lets 2-D kernels
     * run their inner loops without bounds tests.
     */
    static int[] validPositions(Geometry g, int axis, long k) {
        long shift = k * g.dilations()[axis] - g.padBegin()[axis], stride = g.strides()[axis];
        long lo = Math.max(0, ceilDiv(-shift, stride));
        long hi = Math.min(g.out()[axis], Math.floorDiv(g.in()[axis] - 1 - shift, stride) + 1);
        return new int[] {(int) lo, (int) Math.max(lo, hi)};
    }

    /**
     * The gather map of one kernel tap in runs, for kernels that copy or add whole stretches: a
     * line is the window positions that differ only in the last axis, and along every line the
     * tap lands inside {@code target} for positions [lo, hi), {@code step} elements apart.
     * {@code starts[l]} is where position lo of line l (row-major over the other axes of the
     * positions) lands in {@code target}, or -1 when the line falls outside it on another axis.
     */
    public record TapLines(int[] starts, int lo, int hi, int step, int length) {}

    /** The {@link TapLines} of kernel tap {@code tap} (row-major over the kernel), positions and target as in {@link #gatherMap}. */
    public static TapLines tapLines(long[] positions, long[] target, Geometry g, int tap) {
        int n = positions.length, last = n - 1;
        long[] k = new long[n];
        unravel(tap, g.kernel(), k);
        long shift = k[last] * g.dilations()[last] - g.padBegin()[last], step = g.strides()[last];
        long lo = Math.max(0, ceilDiv(-shift, step));
        long hi = Math.max(lo, Math.min(positions[last], Math.floorDiv(target[last] - 1 - shift, step) + 1));
        long[] targetStrides = Shapes.strides(target);
        int lines = Math.toIntExact(Shapes.size(positions) / Math.max(1, positions[last]));
        int[] starts = new int[lines];
        for (int l = 0; l < lines; l++) {
            long rem = l, at = shift + lo * step;
            boolean inside = true;
            for (int d = last - 1; d >= 0; d--) {
                long c = rem % positions[d] * g.strides()[d] - g.padBegin()[d] + k[d] * g.dilations()[d];
                rem /= positions[d];
                if (c < 0 || c >= target[d]) inside = false;
                at += c * targetStrides[d];
            }
            starts[l] = inside ? Math.toIntExact(at) : -1;
        }
        return new TapLines(starts, (int) lo, (int) hi, (int) step, (int) positions[last]);
    }

    /**
     * Gathers one tap's elements of a plane: {@code rows[rowsAt + p] = plane[planeAt + (where
     * position p lands)]} for the positions p that land inside; the others are left as they are.
     */
    static void gatherLines(float[] plane, int planeAt, TapLines t, float[] rows, int rowsAt) {
        int count = t.hi() - t.lo();
        for (int l = 0; l < t.starts().length; l++) {
            if (t.starts()[l] < 0) continue;
            int from = planeAt + t.starts()[l], to = rowsAt + l * t.length() + t.lo();
            if (t.step() == 1) addOrCopy(plane, from, rows, to, count, false);
            else for (int j = 0; j < count; j++) rows[to + j] = plane[from + j * t.step()];
        }
    }

    /** The adjoint of {@link #gatherLines}: {@code plane[planeAt + (where p lands)] += rows[rowsAt + p]}. */
    static void addLines(float[] rows, int rowsAt, TapLines t, float[] plane, int planeAt) {
        int count = t.hi() - t.lo();
        for (int l = 0; l < t.starts().length; l++) {
            if (t.starts()[l] < 0) continue;
            int from = rowsAt + l * t.length() + t.lo(), to = planeAt + t.starts()[l];
            if (t.step() == 1) addOrCopy(rows, from, plane, to, count, true);
            else for (int j = 0; j < count; j++) plane[to + j * t.step()] += rows[from + j];
        }
    }

    /** Lines are short (feature map rows): 8 and 4 lanes leave short scalar tails, and no call per line as System.arraycopy costs. */
    private static final VectorSpecies<Float> WIDE = FloatVector.SPECIES_256, NARROW = FloatVector.SPECIES_128;

    /** {@code dst[dstAt + j] (+)= src[srcAt + j]} for j in [0, n). */
    private static void addOrCopy(float[] src, int srcAt, float[] dst, int dstAt, int n, boolean add) {
        int j = 0;
        for (; j + WIDE.length() <= n; j += WIDE.length()) {
            FloatVector v = FloatVector.fromArray(WIDE, src, srcAt + j);
            (add ? v.add(FloatVector.fromArray(WIDE, dst, dstAt + j)) : v).intoArray(dst, dstAt + j);
        }
        if (j + NARROW.length() <= n) {
            FloatVector v = FloatVector.fromArray(NARROW, src, srcAt + j);
            (add ? v.add(FloatVector.fromArray(NARROW, dst, dstAt + j)) : v).intoArray(dst, dstAt + j);
            j += NARROW.length();
        }
        for (; j < n; j++) dst[dstAt + j] = add ? dst[dstAt + j] + src[srcAt + j] : src[srcAt + j];
    }

    /**
     * The gather map of a window walk: for kernel position {@code kk} and window position
     * {@code o} (both row-major flat indices, over the kernel and {@code positions}), entry
     * {@code kk * prod(positions) + o} is the row-major offset within {@code target} of element
     * {@code o*stride - padBegin + k*dilation}, or -1 when that falls outside {@code target}.
     * For a convolution the positions are the output and the target the input; a transposed
     * convolution swaps them.
     */
    public static int[] gatherMap(long[] positions, long[] target, Geometry g) {
        int n = positions.length;
        long posCount = Shapes.size(positions), kCount = g.kernelSize();
        if (kCount * posCount > Integer.MAX_VALUE - 8 || Shapes.size(target) > Integer.MAX_VALUE) {
            throw new OnnxrunException(OnnxrunException.Kind.LIMIT, "window of " + kCount + " over " + posCount
                    + " positions is too large");
        }
        int[] map = new int[(int) (kCount * posCount)];
        if (posCount == 0) return map;
        long[] targetStrides = Shapes.strides(target);
        long[] k = new long[n];
        long[] o = new long[n];
        int last = n - 1;
        long lastCount = n == 0 ? 1 : positions[last];
        for (int kk = 0; kk < kCount; kk++) {
            unravel(kk, g.kernel(), k);
            long outer = posCount / lastCount;
            for (long ob = 0; ob < outer; ob++) {
                // all axes but the last: a base offset, or invalid
                long rem = ob, base = 0;
                boolean valid = true;
                for (int d = last - 1; d >= 0; d--) {
                    o[d] = rem % positions[d];
                    rem /= positions[d];
                    long c = o[d] * g.strides()[d] - g.padBegin()[d] + k[d] * g.dilations()[d];
                    if (c < 0 || c >= target[d]) valid = false;
                    base += c * targetStrides[d];
                }
                int at = (int) (kk * posCount + ob * lastCount);
                if (n == 0) {
                    map[at] = 0;
                    continue;
                }
                long step = g.strides()[last], first = -g.padBegin()[last] + k[last] * g.dilations()[last];
                for (int j = 0; j < lastCount; j++) {
                    long c = first + j * step;
                    map[at + j] = valid && c >= 0 && c < target[last] ? (int) (base + c) : -1;
                }
            }
        }
        return map;
    }

    static void unravel(long index, long[] shape, long[] into) {
        for (int d = shape.length - 1; d >= 0; d--) {
            into[d] = index % shape[d];
            index /= shape[d];
        }
    }
}
