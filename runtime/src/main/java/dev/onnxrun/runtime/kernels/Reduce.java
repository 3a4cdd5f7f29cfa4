package dev.onnxrun.runtime.kernels;

import dev.onnxrun.runtime.DType;
import dev.onnxrun.runtime.OnnxrunException;
import dev.onnxrun.runtime.Parallel;
import dev.onnxrun.runtime.Shapes;
import dev.onnxrun.runtime.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Reductions of a tensor over a set of axes (ReduceSum, ReduceMean, ReduceMax, ...) and the
 * arg-reductions ArgMax/ArgMin along one axis.
 */
public final class Reduce {
    private Reduce() {}

    /**
     * One reduction: the value of an empty reduction, how an element joins the accumulator and
     * how the accumulator becomes the result.
     */
    public enum Reduction {
        SUM, MEAN, MAX, MIN, PROD, L1, L2, LOG_SUM, LOG_SUM_EXP, SUM_SQUARE;

        /** The result contribution of no elements. */
        public double identity() {
            return switch (this) {
                case MAX -> Double.NEGATIVE_INFINITY;
                case MIN -> Double.POSITIVE_INFINITY;
                case PROD -> 1;
                default -> 0;
            };
        }

        public double accumulate(double acc, double x) {
            return switch (this) {
                case SUM, MEAN, LOG_SUM -> acc + x;
                case MAX -> Math.max(acc, x);
                case MIN -> Math.min(acc, x);
                case PROD -> acc * x;
                case L1 -> acc + Math.abs(x);
                case L2, SUM_SQUARE -> acc + x * x;
                // the caller shifts x by the group's maximum first, so exp cannot overflow
                case LOG_SUM_EXP -> acc + Math.exp(x);
            };
        }

        public double finish(double acc, long count) {
            return switch (this) {
                case MEAN -> acc / count;
                case L2 -> Math.sqrt(acc);
                case LOG_SUM, LOG_SUM_EXP -> Math.log(acc);
                default -> acc;
            };
        }

        /** True when integer inputs are reduced exactly in 64-bit integers rather than through doubles. */
        public boolean exactOnIntegers() {
            return switch (this) {
                case L2, LOG_SUM, LOG_SUM_EXP -> false;
                default -> true;
            };
        }

        /** The identity for an integer (or bool) element type: the type's extreme values for MAX and MIN. */
        long identity(DType t) {
            return switch (this) {
                case MAX -> lowest(t);
                case MIN -> highest(t);
                case PROD -> 1;
                default -> 0;
            };
        }

        long accumulate(long acc, long x, boolean unsigned) {
            return switch (this) {
                case SUM, MEAN -> acc + x;
                case MAX -> (unsigned ? Long.compareUnsigned(x, acc) : Long.compare(x, acc)) > 0 ? x : acc;
                case MIN -> (unsigned ? Long.compareUnsigned(x, acc) : Long.compare(x, acc)) < 0 ? x : acc;
                case PROD -> acc * x;
                case L1 -> acc + (unsigned ? x : Math.abs(x));
                case SUM_SQUARE -> acc + x * x;
                default -> throw new AssertionError(this + " is not exact on integers");
            };
        }

        long finish(long acc, long count, boolean unsigned) {
            if (this != MEAN) return acc;
            if (count == 0) return 0;
            return unsigned ? Long.divideUnsigned(acc, count) : acc / count;
        }
    }

    /** Smallest value of an integer or bool type, as {@link Tensor#getLong} reads it. */
    static long lowest(DType t) {
        return switch (t) {
            case INT8 -> Byte.MIN_VALUE;
            case INT16 -> Short.MIN_VALUE;
            case INT32 -> Integer.MIN_VALUE;
            case INT64 -> Long.MIN_VALUE;
            default -> 0; // unsigned types and bool
        };
    }

    /** Largest value of an integer or bool type, as {@link Tensor#getLong} reads it. */
    static long highest(DType t) {
        return switch (t) {
            case INT8 -> Byte.MAX_VALUE;
            case UINT8 -> 0xff;
            case INT16 -> Short.MAX_VALUE;
            case UINT16 -> 0xffff;
            case INT32 -> Integer.MAX_VALUE;
            case UINT32 -> 0xffffffffL;
            case INT64 -> Long.MAX_VALUE;
            case UINT64 -> -1L; // all bits set
            case BOOL -> 1;
            default -> throw new IllegalArgumentException("not an integer type: " + t);
        };
    }

    /**
     * Reduces {@code x} over the axes flagged in {@code reduced} (one flag per input axis; all
     * false reduces each element alone). With {@code keepdims} reduced axes stay as size 1.
     */
    public static Tensor reduce(Tensor x, Reduction r, boolean[] reduced, boolean keepdims, Parallel parallel) {
        long[] shape = x.shape();
        if (reduced.length != shape.length) throw new IllegalArgumentException("one flag per axis expected");
        List<Long> outDims = new ArrayList<>();
        for (int d = 0; d < shape.length; d++) {
            if (!reduced[d]) outDims.add(shape[d]);
            else if (keepdims) outDims.add(1L);
        }
        Tensor out = Tensor.allocate(x.dtype(), outDims.stream().mapToLong(Long::longValue).toArray());
        boolean floatSum = x.dtype() == DType.FLOAT && (r == Reduction.SUM || r == Reduction.MEAN);
        long[] planes = floatSum ? middleBlock(shape, reduced) : null;
        if (planes != null && planes[2] >= FLOATS.length() && x.segment().heapBase().orElse(null) instanceof float[] xs) {
            sumPlanes(xs, FloatFastPaths.floatIndex(x.segment()), planes, r == Reduction.MEAN, (float[]) out.segment().heapBase().orElseThrow(), parallel);
            return out;
        }
        Plan plan = Plan.of(shape, reduced);
        boolean exact = (x.dtype().isInteger() || x.dtype() == DType.BOOL) && r.exactOnIntegers();
        boolean floatRuns = floatSum && plan.runStride == 1;
        parallel.forRange(out.size(), (from, to) -> {
            for (long o = from; o < to; o++) {
                long base = plan.base(o);
                if (exact) out.setLong(o, reduceExact(x, r, plan, base));
                else if (floatRuns) out.setDouble(o, r.finish(sumFloatRuns(x.segment(), plan, base), plan.count));
                else out.setDouble(o, reduceDouble(x, r, plan, base));
            }
        });
        return out;
    }

    /**
     * {outer, planes, inner} where the reduced axes are one run of adjacent axes with kept axes
     * after it (a channel sum over NCHW: {N, C, H·W}), else null.
     */
    private static long[] middleBlock(long[] shape, boolean[] reduced) {
        int first = -1, last = -1;
        for (int d = 0; d < shape.length; d++) {
            if (!reduced[d]) continue;
            if (first < 0) first = d;
            else if (last != d - 1) return null;
            last = d;
        }
        if (first < 0 || last == shape.length - 1) return null;
        return new long[] {Shapes.size(Arrays.copyOfRange(shape, 0, first)), Shapes.size(Arrays.copyOfRange(shape, first, last + 1)),
                Shapes.size(Arrays.copyOfRange(shape, last + 1, shape.length))};
    }

    /** Floats of the inner axes one task sums at a time. */
    private static final int PLANE_CHUNK = 1024;

    /**
     * out[o, j] = Σ_p x[o, p, j] (times 1 / the planes' count for a mean) for the {@link #middleBlock}
     * {outer, planes, inner}: a vector of j at a time down the planes, so each step reads contiguous
     * floats, summed in float as {@link #sumFloats} sums.
     */
    private static void sumPlanes(float[] x, int xAt, long[] block, boolean mean, float[] out, Parallel parallel) {
        int planes = (int) block[1], inner = (int) block[2], chunks = (inner + PLANE_CHUNK - 1) / PLANE_CHUNK, vl = FLOATS.length();
        float scale = mean ? 1f / planes : 1f; // one vector path for both: a vector chosen between two was boxed where C2 kept the choice
        Work.pool(parallel, block[0] * planes * inner).forRange(block[0] * chunks, (from, to) -> {
            for (long task = from; task < to; task++) {
                int o = (int) (task / chunks), j0 = (int) (task % chunks) * PLANE_CHUNK, j1 = Math.min(inner, j0 + PLANE_CHUNK);
                int base = xAt + o * planes * inner, j = j0;
                for (int vectorEnd = j0 + FLOATS.loopBound(j1 - j0); j < vectorEnd; j += vl) {
                    FloatVector acc = FloatVector.zero(FLOATS);
                    for (int p = 0, at = base + j; p < planes; p++, at += inner) acc = acc.add(FloatVector.fromArray(FLOATS, x, at));
                    acc.mul(scale).intoArray(out, o * inner + j);
                }
                for (; j < j1; j++) {
                    float sum = 0;
                    for (int p = 0, at = base + j; p < planes; p++, at += inner) sum += x[at];
                    out[o * inner + j] = sum * scale;
                }
            }
        });
    }

    private static double reduceDouble(Tensor x, Reduction r, Plan p, long base) {
        double shift = 0;
        if (r == Reduction.LOG_SUM_EXP) {
            double max = Double.NEGATIVE_INFINITY;
            for (long start : p.runStarts) {
                for (long k = 0, i = base + start; k < p.runLength; k++, i += p.runStride) max = Math.max(max, x.getDouble(i));
            }
            if (!Double.isInfinite(max)) shift = max;
        }
        double acc = r.identity();
        for (long start : p.runStarts) {
            for (long k = 0, i = base + start; k < p.runLength; k++, i += p.runStride) {
                acc = r.accumulate(acc, x.getDouble(i) - shift);
            }
        }
        return r.finish(acc, p.count) + shift;
    }

    /** The float32 twin of {@link #reduceDouble} for sums over contiguous runs (the common trailing-axes case). */
    private static double sumFloatRuns(MemorySegment seg, Plan p, long base) {
        double acc = 0;
        for (long start : p.runStarts) acc += sumFloats(seg, base + start, p.runLength);
        return acc;
    }

    private static final VectorSpecies<Float> FLOATS = FloatVector.SPECIES_PREFERRED;

    /**
     * Sum of {@code n} contiguous floats from element {@code from}: in vector lanes where they lie
     * in a heap float array (read through the array, as {@link FloatFastPaths#binary} explains),
     * else one by one.
     */
    static float sumFloats(MemorySegment seg, long from, long n) {
        if (!(seg.heapBase().orElse(null) instanceof float[] a)) {
            float sum = 0;
            for (long i = from; i < from + n; i++) sum += seg.getAtIndex(ValueLayout.JAVA_FLOAT, i);
            return sum;
        }
        int i = (int) (seg.address() / Float.BYTES + from), end = i + (int) n, vectorEnd = i + FLOATS.loopBound((int) n);
        FloatVector lanes = FloatVector.zero(FLOATS);
        for (; i < vectorEnd; i += FLOATS.length()) lanes = lanes.add(FloatVector.fromArray(FLOATS, a, i));
        float sum = FloatFastPaths.sumLanes(lanes);
        for (; i < end; i++) sum += a[i];
        return sum;
    }

    private static long reduceExact(Tensor x, Reduction r, Plan p, long base) {
        boolean unsigned = x.dtype().isUnsigned();
        long acc = r.identity(x.dtype());
        for (long start : p.runStarts) {
            for (long k = 0, i = base + start; k < p.runLength; k++, i += p.runStride) {
                acc = r.accumulate(acc, x.getLong(i), unsigned);
            }
        }
        return r.finish(acc, p.count, unsigned);
    }

    /**
     * How to visit the elements of one reduction group: the group of output {@code o} starts at
     * {@link #base}, and holds runs of {@code runLength} elements {@code runStride} apart, each
     * beginning {@code runStarts[j]} after the base.
     */
    private record Plan(long[] keptSizes, long[] keptStrides, long[] runStarts, long runLength, long runStride, long count) {
        static Plan of(long[] shape, boolean[] reduced) {
            // Merge neighbouring axes that are both kept or both reduced, and drop size-1 axes:
            // fewer, longer dimensions make the walk cheaper.
            List<long[]> groups = new ArrayList<>(); // {size, reduced ? 1 : 0}
            for (int d = 0; d < shape.length; d++) {
                if (shape[d] == 1) continue;
                long flag = reduced[d] ? 1 : 0;
                if (!groups.isEmpty() && groups.getLast()[1] == flag) groups.getLast()[0] *= shape[d];
                else groups.add(new long[] {shape[d], flag});
            }
            long[] sizes = groups.stream().mapToLong(g -> g[0]).toArray();
            long[] strides = Shapes.strides(sizes);
            List<Long> keptSizes = new ArrayList<>(), keptStrides = new ArrayList<>(), redSizes = new ArrayList<>(), redStrides = new ArrayList<>();
            for (int g = 0; g < sizes.length; g++) {
                (groups.get(g)[1] == 1 ? redSizes : keptSizes).add(sizes[g]);
                (groups.get(g)[1] == 1 ? redStrides : keptStrides).add(strides[g]);
            }
            long count = 1;
            for (long s : redSizes) count *= s;
            long runLength = redSizes.isEmpty() ? 1 : redSizes.getLast();
            long runStride = redStrides.isEmpty() ? 1 : redStrides.getLast();
            long[] runStarts = count == 0 ? new long[0] : new long[Math.toIntExact(count / runLength)];
            // Offsets of the run starts: an odometer over every reduced group but the innermost.
            int outerGroups = redSizes.size() - 1;
            long[] counter = new long[Math.max(outerGroups, 0)];
            long offset = 0;
            for (int j = 0; j < runStarts.length; j++) {
                runStarts[j] = offset;
                for (int g = outerGroups - 1; g >= 0; g--) {
                    offset += redStrides.get(g);
                    if (++counter[g] < redSizes.get(g)) break;
                    offset -= redStrides.get(g) * redSizes.get(g);
                    counter[g] = 0;
                }
            }
            return new Plan(toArray(keptSizes), toArray(keptStrides), runStarts, runLength, runStride, count);
        }

        /** Input offset of the first element reduced into output element {@code o}. */
        long base(long o) {
            long base = 0;
            for (int g = keptSizes.length - 1; g >= 0; g--) {
                base += (o % keptSizes[g]) * keptStrides[g];
                o /= keptSizes[g];
            }
            return base;
        }

        private static long[] toArray(List<Long> list) { return list.stream().mapToLong(Long::longValue).toArray(); }
    }

    /**
     * Index (int64) of the largest ({@code max}) or smallest element along {@code axis}; ties go
     * to the first index, or the last with {@code selectLast}.
     */
    public static Tensor argExtreme(Tensor x, int axis, boolean max, boolean keepdims, boolean selectLast, Parallel parallel) {
        long[] shape = x.shape();
        AxisLayout layout = AxisLayout.around(shape, axis);
        if (layout.length() == 0 && layout.lines() > 0) {
            throw OnnxrunException.invalidInput("Arg" + (max ? "Max" : "Min") + " over empty axis " + axis + " of " + x.describe());
        }
        long[] outShape = keepdims ? shape.clone() : new long[shape.length - 1];
        if (keepdims) outShape[axis] = 1;
        else for (int d = 0, k = 0; d < shape.length; d++) if (d != axis) outShape[k++] = shape[d];
        Tensor out = Tensor.allocate(DType.INT64, outShape);
        boolean integral = x.dtype().isInteger() || x.dtype() == DType.BOOL;
        boolean unsigned = x.dtype().isUnsigned();
        int wanted = max ? 1 : -1;
        parallel.forRange(layout.lines(), (from, to) -> {
            for (long line = from; line < to; line++) {
                long start = layout.lineStart(line), step = layout.inner();
                long best = 0;
                for (long i = 1; i < layout.length(); i++) {
                    long a = start + i * step, b = start + best * step;
                    int c = integral
                            ? (unsigned ? Long.compareUnsigned(x.getLong(a), x.getLong(b)) : Long.compare(x.getLong(a), x.getLong(b)))
                            : Double.compare(x.getDouble(a), x.getDouble(b));
                    if (Integer.signum(c) == wanted || (c == 0 && selectLast)) best = i;
                }
                out.setLong(line, best);
            }
        });
        return out;
    }

    /** Flags for {@code axes} (possibly negative) of a rank-{@code rank} tensor; fails on an out-of-range or repeated axis. */
    public static boolean[] axisFlags(long[] axes, int rank) {
        boolean[] flags = new boolean[rank];
        for (long a : axes) {
            int axis = Shapes.axis(a, rank);
            if (flags[axis]) throw OnnxrunException.invalidModel("axis " + a + " is repeated in " + Arrays.toString(axes));
            flags[axis] = true;
        }
        return flags;
    }
}
