package dev.onnxrun.runtime.kernels;

import dev.onnxrun.runtime.DType;
import dev.onnxrun.runtime.ExecContext;
import dev.onnxrun.runtime.Parallel;
import dev.onnxrun.runtime.Tensor;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** Softmax, LogSoftmax and Hardmax along the middle dimension of an {@link AxisLayout}. */
public final class Softmax {
    private Softmax() {}

    /** The normalization applied to each line. */
    public enum Kind {
        /** exp(x - max) / sum(exp(x - max)). */
        SOFTMAX,
        /** x - max - log(sum(exp(x - max))). */
        LOG_SOFTMAX,
        /** 1 at the first maximum, 0 elsewhere. */
        HARDMAX
    }

    /** Applies {@code kind} to every line of {@code x} along the middle dimension of {@code layout}. */
    public static Tensor apply(Tensor x, AxisLayout layout, Kind kind, ExecContext ctx) {
        Parallel parallel = ctx.parallel();
        if (x.dtype() == DType.FLOAT && layout.inner() == 1 && kind != Kind.HARDMAX && layout.length() > 0) {
            FloatArrays.Slice xs = FloatArrays.slice(x);
            Tensor y = ctx.output(0, DType.FLOAT, x.shape());
            FloatArrays.Slice ys = FloatArrays.slice(y);
            float[] out = ys.array();
            int n = Math.toIntExact(layout.length());
            Work.pool(parallel, x.size()).forRange(layout.lines(), (from, to) -> {
                float[] row = new float[(n + FLOATS.length() - 1) / FLOATS.length() * FLOATS.length()], lanes = new float[FLOATS.length()];
                float[] stats = new float[LINES_AT_ONCE];
                // lines lie one after the other (inner is 1)
                for (long line = from; line < to; line += LINES_AT_ONCE) {
                    int start = Math.toIntExact(layout.lineStart(line)), count = (int) Math.min(LINES_AT_ONCE, to - line);
                    if (n % FLOATS.length() == 0) {
                        normalize(xs.array(), xs.offset() + start, out, ys.offset() + start, n, count, kind, stats, lanes);
                        continue;
                    }
                    for (int l = 0; l < count; l++) paddedLine(xs.array(), xs.offset() + start + l * n, out, ys.offset() + start + l * n, n, kind, row, stats, lanes);
                }
            });
            return y;
        }
        Tensor out = Tensor.allocate(x.dtype(), x.shape());
        if (layout.length() == 0) return out;
        Work.pool(parallel, x.size()).forRange(layout.lines(), (from, to) -> {
            for (long line = from; line < to; line++) line(x, out, layout.lineStart(line), layout.length(), layout.inner(), kind);
        });
        return out;
    }

    private static void line(Tensor x, Tensor out, long start, long n, long step, Kind kind) {
        long end = start + n * step;
        double max = Double.NEGATIVE_INFINITY;
        long argmax = start;
        for (long i = start; i < end; i += step) {
            double v = x.getDouble(i);
            if (v > max) {
                max = v;
                argmax = i;
            }
        }
        if (kind == Kind.HARDMAX) {
            out.setDouble(argmax, 1); // the output starts zeroed
            return;
        }
        double sum = 0;
        for (long i = start; i < end; i += step) sum += Math.exp(x.getDouble(i) - max);
        if (kind == Kind.SOFTMAX) {
            for (long i = start; i < end; i += step) out.setDouble(i, Math.exp(x.getDouble(i) - max) / sum);
        } else {
            double logSum = Math.log(sum);
            for (long i = start; i < end; i += step) out.setDouble(i, x.getDouble(i) - max - logSum);
        }
    }

    private static final VectorSpecies<Float> FLOATS = FloatVector.SPECIES_PREFERRED;

    /** Lines {@link #normalize} takes at once. */
    private static final int LINES_AT_ONCE = 16;

    /**
     * The float32 twin of {@link #line} for one contiguous line (normalizing the last axis) that is
     * not whole vectors long: copied into {@code row}, whole vectors long and padded with −∞ (which
     * adds nothing to the max or the sum), so no lane is masked: a masked access that runs past the
     * end of the tensor takes the Vector API's slow path. Lines of attention over a few tokens are
     * shorter than one vector.
     */
    private static void paddedLine(float[] x, int xAt, float[] out, int at, int n, Kind kind, float[] row, float[] stats, float[] lanes) {
        System.arraycopy(x, xAt, row, 0, n);
        Arrays.fill(row, n, row.length, Float.NEGATIVE_INFINITY);
        normalize(row, 0, row, 0, row.length, 1, kind, stats, lanes);
        System.arraycopy(row, 0, out, at, n);
    }

    /**
     * The float32 twin of {@link #line} for {@code count} consecutive lines of n floats (a multiple
     * of the vector length) from x[xAt] into out[at], read and written in place; x and out may be
     * the same. Each stage runs over all the lines before the next: a line's max and sum are chains
     * of dependent operations, and lines side by side let the CPU overlap them. {@code stats} holds
     * {@code count} floats.
     */
    private static void normalize(float[] x, int xAt, float[] out, int at, int n, int count, Kind kind, float[] stats, float[] lanes) {
        for (int l = 0; l < count; l++) stats[l] = maxOf(x, xAt + l * n, n);
        if (kind == Kind.SOFTMAX) {
            for (int l = 0; l < count; l++) stats[l] = 1 / expAndSum(x, xAt + l * n, out, at + l * n, n, stats[l], lanes);
            for (int l = 0; l < count; l++) scaleAndShift(out, at + l * n, out, at + l * n, n, stats[l], 0);
            return;
        }
        for (int l = 0; l < count; l++) {
            float max = stats[l], sum = expAndSum(x, xAt + l * n, null, 0, n, max, lanes);
            // (x − max) first: near large x, max + log(sum) rounded to float would lose the small log
            scaleAndShift(x, xAt + l * n, out, at + l * n, n, 1, -max);
            scaleAndShift(out, at + l * n, out, at + l * n, n, 1, -(float) Math.log(sum));
        }
    }

    // One pass per method: as one method C2 would not inline all the vector operations.

    private static float maxOf(float[] x, int at, int n) {
        FloatVector lanes = FloatVector.broadcast(FLOATS, Float.NEGATIVE_INFINITY);
        for (int i = 0; i < n; i += FLOATS.length()) lanes = lanes.max(FloatVector.fromArray(FLOATS, x, at + i));
        return lanes.reduceLanes(VectorOperators.MAX);
    }

    /**
     * The sum of exp(x − max), stored to {@code out} unless it is null; {@code lanes} is room for
     * one vector. x − max is at most 0 (or NaN), which the cheaper exp covers.
     */
    private static float expAndSum(float[] x, int xAt, float[] out, int at, int n, float max, float[] lanes) {
        FloatVector sums = FloatVector.zero(FLOATS);
        for (int i = 0; i < n; i += FLOATS.length()) {
            FloatVector e = FloatFastPaths.expOfNonPositive(FloatVector.fromArray(FLOATS, x, xAt + i).sub(max));
            if (out != null) e.intoArray(out, at + i);
            sums = sums.add(e);
        }
        sums.intoArray(lanes, 0); // exp leaves the JIT no room to inline a call that takes a vector
        return FloatFastPaths.sumStoredLanes(lanes);
    }

    private static void scaleAndShift(float[] x, int xAt, float[] out, int at, int n, float scale, float shift) {
        for (int i = 0; i < n; i += FLOATS.length()) FloatVector.fromArray(FLOATS, x, xAt + i).fma(scale, shift).intoArray(out, at + i);
    }
}
