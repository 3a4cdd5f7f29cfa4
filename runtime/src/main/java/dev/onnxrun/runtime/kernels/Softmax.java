package dev.onnxrun.runtime.kernels;

import dev.onnxrun.runtime.DType;
import dev.onnxrun.runtime.Parallel;
import dev.onnxrun.runtime.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
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
    public static Tensor apply(Tensor x, AxisLayout layout, Kind kind, Parallel parallel) {
        Tensor out = Tensor.allocate(x.dtype(), x.shape());
        if (layout.length() == 0) return out;
        boolean fast = x.dtype() == DType.FLOAT && layout.inner() == 1 && kind != Kind.HARDMAX;
        Work.pool(parallel, x.size()).forRange(layout.lines(), (from, to) -> {
            for (long line = from; line < to; line++) {
                long start = layout.lineStart(line);
                if (fast) floatLine(x.segment(), out.segment(), start, layout.length(), kind);
                else line(x, out, start, layout.length(), layout.inner(), kind);
            }
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

    /** The float32 twin of {@link #line} for contiguous lines (normalizing the last axis), in vector lanes. */
    private static void floatLine(MemorySegment x, MemorySegment out, long start, long n, Kind kind) {
        long end = start + n, vectorEnd = start + FLOATS.loopBound(n);
        int step = FLOATS.length();
        ByteOrder order = ByteOrder.nativeOrder();
        FloatVector maxLanes = FloatVector.broadcast(FLOATS, Float.NEGATIVE_INFINITY);
        long i = start;
        for (; i < vectorEnd; i += step) maxLanes = maxLanes.max(FloatVector.fromMemorySegment(FLOATS, x, i * Float.BYTES, order));
        float max = maxLanes.reduceLanes(VectorOperators.MAX);
        for (; i < end; i++) max = Math.max(max, x.getAtIndex(ValueLayout.JAVA_FLOAT, i));
        // exp(x - max) goes to the output (softmax keeps it; log-softmax overwrites it below)
        FloatVector sumLanes = FloatVector.zero(FLOATS);
        for (i = start; i < vectorEnd; i += step) {
            FloatVector e = FloatVector.fromMemorySegment(FLOATS, x, i * Float.BYTES, order).sub(max).lanewise(VectorOperators.EXP);
            e.intoMemorySegment(out, i * Float.BYTES, order);
            sumLanes = sumLanes.add(e);
        }
        double sum = sumLanes.reduceLanes(VectorOperators.ADD);
        for (; i < end; i++) {
            float e = (float) Math.exp(x.getAtIndex(ValueLayout.JAVA_FLOAT, i) - max);
            out.setAtIndex(ValueLayout.JAVA_FLOAT, i, e);
            sum += e;
        }
        if (kind == Kind.SOFTMAX) {
            float scale = (float) (1 / sum);
            for (i = start; i < vectorEnd; i += step) {
                FloatVector.fromMemorySegment(FLOATS, out, i * Float.BYTES, order).mul(scale).intoMemorySegment(out, i * Float.BYTES, order);
            }
            for (; i < end; i++) out.setAtIndex(ValueLayout.JAVA_FLOAT, i, out.getAtIndex(ValueLayout.JAVA_FLOAT, i) * scale);
        } else {
            float logSum = (float) Math.log(sum);
            for (i = start; i < vectorEnd; i += step) {
                FloatVector.fromMemorySegment(FLOATS, x, i * Float.BYTES, order).sub(max).sub(logSum).intoMemorySegment(out, i * Float.BYTES, order);
            }
            for (; i < end; i++) out.setAtIndex(ValueLayout.JAVA_FLOAT, i, (x.getAtIndex(ValueLayout.JAVA_FLOAT, i) - max) - logSum);
        }
    }
}
