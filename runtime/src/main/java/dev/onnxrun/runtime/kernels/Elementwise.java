package dev.onnxrun.runtime.kernels;

import dev.onnxrun.runtime.DType;
import dev.onnxrun.runtime.ExecContext;
import dev.onnxrun.runtime.OnnxrunException;
import dev.onnxrun.runtime.Parallel;
import dev.onnxrun.runtime.Shapes;
import dev.onnxrun.runtime.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Elementwise kernels: unary functions, binary functions and comparisons with multidirectional
 * (numpy) broadcasting, variadic folds, Where and Clip. Integer and bool elements go through
 * exact long arithmetic where the function has a long form, everything else through doubles.
 * Float32 inputs take a fast path ({@link FloatFastPaths}) whose results equal the generic path's.
 */
public final class Elementwise {
    private Elementwise() {}

    /** A context for results a kernel computes on the way to its output: fresh heap memory. */
    private static ExecContext onHeap(Parallel parallel) {
        return new ExecContext(ExecContext.Scope.EMPTY, parallel == null ? Parallel.SERIAL : parallel);
    }

    /** Below this many elements a kernel runs on the calling thread. */
    static final long PARALLEL_THRESHOLD = 1 << 15;

    /** f(x) for every element; the result has x's type, or bool for predicates, and goes to ctx's output 0. */
    public static Tensor unary(Unary f, Tensor x, double alpha, double beta, ExecContext ctx) {
        Parallel parallel = ctx.parallel();
        Tensor out = ctx.output(0, f.boolResult() ? DType.BOOL : x.dtype(), x.shape());
        if (x.dtype() == DType.FLOAT && out.dtype() == DType.FLOAT && f.onDoubles()) {
            FloatArrays.Slice xs = FloatArrays.slice(x), ys = FloatArrays.slice(out);
            split(parallel, x.size(), (from, to) -> FloatFastPaths.unary(f, alpha, beta, xs, ys, (int) from, (int) to));
            return out;
        }
        unaryGeneric(f, x, alpha, beta, out, parallel);
        return out;
    }

    static void unaryGeneric(Unary f, Tensor x, double alpha, double beta, Tensor out, Parallel parallel) {
        boolean exact = isIntegral(x.dtype()) && !f.boolResult() && f.exactOnIntegers(), unsigned = x.dtype().isUnsigned();
        if (!exact && !f.onDoubles()) {
            throw OnnxrunException.unsupported(f + " is not defined on " + x.dtype().onnxName());
        }
        split(parallel, x.size(), (from, to) -> {
            if (exact) {
                for (long i = from; i < to; i++) out.setLong(i, f.applyExact(x.getLong(i), unsigned));
            } else {
                for (long i = from; i < to; i++) out.setDouble(i, f.apply(x.getDouble(i), alpha, beta));
            }
        });
    }

    /** op(a, b) broadcast; the result has a's element type (b's may differ, as for Pow) and goes to ctx's output 0. */
    public static Tensor binary(Binary op, Tensor a, Tensor b, ExecContext ctx) {
        Parallel parallel = ctx.parallel();
        Broadcast bc = Broadcast.of(a, b);
        Tensor out = ctx.output(0, a.dtype(), bc.outShape());
        if (a.dtype() == DType.FLOAT && b.dtype() == DType.FLOAT && FloatFastPaths.supports(op) && isFlat(bc, a, b)) {
            boolean aScalar = a.size() == 1 && out.size() != 1, bScalar = b.size() == 1 && out.size() != 1;
            split(parallel, out.size(), (from, to) ->
                    FloatFastPaths.binary(op, a.segment(), aScalar, b.segment(), bScalar, out.segment(), from, to));
            return out;
        }
        if (a.dtype() == DType.FLOAT && b.dtype() == DType.FLOAT && FloatFastPaths.supports(op) && out.size() > 0
                && (a.size() == out.size() || b.size() == out.size())) {
            boolean aSmall = a.size() != out.size();
            long inner = repeatBlock(aSmall ? a : b, bc.outShape());
            if (inner > 0) {
                binaryBlocked(op, a, b, out, aSmall, inner, parallel);
                return out;
            }
        }
        binaryGeneric(op, a, b, bc, out, parallel);
        return out;
    }

    /**
     * For an input broadcast against {@code outShape} whose own dims form one run that matches
     * the output's (as a bias [C] against [N,C] or [C,1,1] against [N,C,H,W]), the number of
     * consecutive output elements that share one of its elements; -1 for other patterns.
     */
    private static long repeatBlock(Tensor small, long[] outShape) {
        long[] shape = small.shape();
        int offset = outShape.length - shape.length;
        int first = -1, last = -1;
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] != 1) {
                if (first < 0) first = i;
                last = i;
            }
        }
        if (first < 0) return -1;
        for (int i = first; i <= last; i++) if (shape[i] != outShape[i + offset]) return -1;
        long inner = 1;
        for (int i = last + offset + 1; i < outShape.length; i++) inner *= outShape[i];
        return inner;
    }

    /**
     * Float fast path for one input broadcast by {@link #repeatBlock}: the output splits into
     * blocks, each pairing a run of the full input with either the whole small input (inner 1)
     * or one of its elements.
     */
    private static void binaryBlocked(Binary op, Tensor a, Tensor b, Tensor out, boolean aSmall, long inner, Parallel parallel) {
        Tensor small = aSmall ? a : b, full = aSmall ? b : a;
        long period = small.size();
        long blockLength = inner == 1 ? period : inner;
        long bytes = blockLength * Float.BYTES;
        boolean smallScalar = inner != 1;
        if (full.segment().heapBase().orElse(null) instanceof float[] fulls && out.segment().heapBase().orElse(null) instanceof float[] outs
                && small.segment().heapBase().orElse(null) instanceof float[] smalls) {
            // heap arrays (onnxrun's own, the session arena): blocks as offsets into them, no slice objects per block
            int fullAt = FloatFastPaths.floatIndex(full.segment()), outAt = FloatFastPaths.floatIndex(out.segment());
            int smallAt = FloatFastPaths.floatIndex(small.segment()), n = (int) blockLength;
            Parallel.RangeBody body = (from, to) -> {
                for (long block = from; block < to; block++) {
                    int at = (int) (block * blockLength), smallIndex = smallAt + (smallScalar ? (int) (block % period) : 0);
                    if (aSmall) FloatFastPaths.binary(op, smalls, smallIndex, smallScalar, fulls, fullAt + at, false, outs, outAt + at, 0, n);
                    else FloatFastPaths.binary(op, fulls, fullAt + at, false, smalls, smallIndex, smallScalar, outs, outAt + at, 0, n);
                }
            };
            runBlocks(body, out.size() / blockLength, out.size(), parallel);
            return;
        }
        Parallel.RangeBody body = (from, to) -> {
            for (long block = from; block < to; block++) {
                MemorySegment fullPart = full.segment().asSlice(block * bytes, bytes);
                MemorySegment outPart = out.segment().asSlice(block * bytes, bytes);
                MemorySegment smallPart = inner == 1 ? small.segment()
                        : small.segment().asSlice(block % period * Float.BYTES, Float.BYTES);
                if (aSmall) FloatFastPaths.binary(op, smallPart, smallScalar, fullPart, false, outPart, 0, blockLength);
                else FloatFastPaths.binary(op, fullPart, false, smallPart, smallScalar, outPart, 0, blockLength);
            }
        };
        runBlocks(body, out.size() / blockLength, out.size(), parallel);
    }

    private static void runBlocks(Parallel.RangeBody body, long blocks, long elements, Parallel parallel) {
        if (elements >= PARALLEL_THRESHOLD && parallel != null) parallel.forRange(blocks, body);
        else body.run(0, blocks);
    }

    static void binaryGeneric(Binary op, Tensor a, Tensor b, Broadcast bc, Tensor out, Parallel parallel) {
        if (isIntegral(a.dtype()) && isIntegral(b.dtype())) {
            boolean unsigned = a.dtype().isUnsigned();
            walk(bc, parallel, new Tensor[] {a, b}, (i, at) -> out.setLong(i, op.applyExact(a.getLong(at[0]), b.getLong(at[1]), unsigned)));
        } else if (op.onDoubles()) {
            walk(bc, parallel, new Tensor[] {a, b}, (i, at) -> out.setDouble(i, op.apply(a.getDouble(at[0]), b.getDouble(at[1]))));
        } else {
            throw OnnxrunException.unsupported(op + " is not defined on " + a.dtype().onnxName() + " and " + b.dtype().onnxName());
        }
    }

    /** The comparison of a and b, broadcast, as a bool tensor. Strings compare by content. */
    public static Tensor compare(Comparison c, Tensor a, Tensor b, Parallel parallel) {
        if ((a.dtype() == DType.STRING) != (b.dtype() == DType.STRING)) {
            throw OnnxrunException.invalidInput("cannot compare " + a.dtype().onnxName() + " with " + b.dtype().onnxName());
        }
        Broadcast bc = Broadcast.of(a, b);
        Tensor out = Tensor.allocate(DType.BOOL, bc.outShape());
        Tensor[] both = {a, b};
        if (a.dtype() == DType.STRING) {
            walk(bc, parallel, both, (i, at) -> out.setBoolean(i, c.testOrder(a.getString(at[0]).compareTo(b.getString(at[1])))));
        } else if (isIntegral(a.dtype()) && isIntegral(b.dtype())) {
            boolean unsigned = a.dtype().isUnsigned();
            walk(bc, parallel, both, (i, at) -> {
                long x = a.getLong(at[0]), y = b.getLong(at[1]);
                out.setBoolean(i, c.testOrder(unsigned ? Long.compareUnsigned(x, y) : Long.compare(x, y)));
            });
        } else if (a.dtype() == DType.FLOAT && b.dtype() == DType.FLOAT && isFlat(bc, both)) {
            compareFlatF32(c, a, b, out, parallel);
        } else {
            walk(bc, parallel, both, (i, at) -> out.setBoolean(i, c.test(a.getDouble(at[0]), b.getDouble(at[1]))));
        }
        return out;
    }

    /**
     * The float32 twin of {@link #compare}'s double walk where no index mapping is needed (each
     * operand full-size or a single element, as in a ReLU gradient's {@code x > 0}): reads and
     * writes the segments directly, without a visitor per element.
     */
    private static void compareFlatF32(Comparison c, Tensor a, Tensor b, Tensor out, Parallel parallel) {
        MemorySegment as = a.segment(), bs = b.segment(), os = out.segment();
        if (as.heapBase().orElse(null) instanceof float[] af && bs.heapBase().orElse(null) instanceof float[] bf
                && os.heapBase().orElse(null) instanceof byte[] ob) {
            boolean aScalar = a.size() == 1 && out.size() != 1, bScalar = b.size() == 1 && out.size() != 1;
            int aAt = FloatFastPaths.floatIndex(as), bAt = FloatFastPaths.floatIndex(bs), oAt = (int) os.address();
            split(parallel, out.size(), (from, to) -> FloatFastPaths.compare(c, af, aAt, aScalar, bf, bAt, bScalar, ob, oAt, (int) from, (int) to));
            return;
        }
        long aStride = a.size() == 1 ? 0 : 1, bStride = b.size() == 1 ? 0 : 1;
        split(parallel, out.size(), (from, to) -> {
            for (long i = from; i < to; i++) {
                float x = as.getAtIndex(ValueLayout.JAVA_FLOAT, i * aStride), y = bs.getAtIndex(ValueLayout.JAVA_FLOAT, i * bStride);
                os.set(ValueLayout.JAVA_BYTE, i, (byte) (c.test(x, y) ? 1 : 0));
            }
        });
    }

    /** op folded left over all inputs, broadcast together (Sum, Min, Max). */
    public static Tensor fold(Binary op, Tensor[] inputs, Parallel parallel) {
        if (inputs.length == 0) throw OnnxrunException.invalidModel(op + " needs at least one input");
        Tensor acc = inputs[0];
        if (inputs.length == 1) return acc.copy();
        for (int i = 1; i < inputs.length; i++) acc = binary(op, acc, inputs[i], onHeap(parallel));
        return acc;
    }

    /** The elementwise mean of the inputs, broadcast together. */
    public static Tensor mean(Tensor[] inputs, Parallel parallel) {
        Tensor sum = fold(Binary.ADD, inputs, parallel);
        Tensor count = Tensor.allocate(sum.dtype());
        count.setDouble(0, inputs.length);
        return binary(Binary.DIV, sum, count, onHeap(parallel));
    }

    /** x limited to [min, max] (either may be null for no limit); a NaN in x stays NaN. */
    public static Tensor clip(Tensor x, Tensor min, Tensor max, Parallel parallel) {
        if (x.dtype() == DType.FLOAT && x.segment().heapBase().orElse(null) instanceof float[] xs) {
            // one pass, the same max then min as the two binary passes below, bit for bit
            float lo = min == null ? Float.NEGATIVE_INFINITY : bound(min, x, "min").getFloat(0);
            float hi = max == null ? Float.POSITIVE_INFINITY : bound(max, x, "max").getFloat(0);
            Tensor out = Tensor.allocate(DType.FLOAT, x.shape());
            float[] ys = (float[]) out.segment().heapBase().orElseThrow();
            int xAt = FloatFastPaths.floatIndex(x.segment());
            split(parallel, x.size(), (from, to) -> FloatFastPaths.clip(xs, xAt, lo, hi, ys, (int) from, (int) to));
            return out;
        }
        Tensor out = x;
        if (min != null) out = binary(Binary.MAX, out, bound(min, x, "min"), onHeap(parallel));
        if (max != null) out = binary(Binary.MIN, out, bound(max, x, "max"), onHeap(parallel));
        return out == x ? x.copy() : out;
    }

    private static Tensor bound(Tensor limit, Tensor x, String name) {
        if (limit.size() != 1) {
            throw OnnxrunException.invalidInput("Clip " + name + " must be a scalar, got " + limit.describe());
        }
        if (limit.dtype() != x.dtype()) {
            throw OnnxrunException.invalidInput("Clip " + name + " is " + limit.dtype().onnxName() + ", input is " + x.dtype().onnxName());
        }
        return limit.reshape();
    }

    /** A scalar of the given type holding v (for Clip's attribute bounds). */
    public static Tensor scalar(DType dtype, double v) {
        Tensor t = Tensor.allocate(dtype);
        t.setDouble(0, v);
        return t;
    }

    /** x where cond is true, else y; all three broadcast together. */
    public static Tensor where(Tensor cond, Tensor x, Tensor y, Parallel parallel) {
        if (x.dtype() != y.dtype()) {
            throw OnnxrunException.invalidInput("Where branches differ in type: " + x.dtype().onnxName() + " and " + y.dtype().onnxName());
        }
        Broadcast bc = Broadcast.of(cond, x, y);
        Tensor out = Tensor.allocate(x.dtype(), bc.outShape());
        if (x.dtype() == DType.FLOAT && cond.dtype() == DType.BOOL && isFlat(bc, cond, x, y)) {
            whereFlatF32(cond, x, y, out, parallel);
            return out;
        }
        walk(bc, parallel, new Tensor[] {cond, x, y}, (i, at) -> {
            boolean pick = cond.getBoolean(at[0]);
            out.setFrom(i, pick ? x : y, pick ? at[1] : at[2]);
        });
        return out;
    }

    /** The float32 twin of {@link #where}'s walk where each operand is full-size or a single element. */
    private static void whereFlatF32(Tensor cond, Tensor x, Tensor y, Tensor out, Parallel parallel) {
        MemorySegment cs = cond.segment(), xs = x.segment(), ys = y.segment(), os = out.segment();
        if (cond.size() != 1 && cs.heapBase().orElse(null) instanceof byte[] cb && xs.heapBase().orElse(null) instanceof float[] xf
                && ys.heapBase().orElse(null) instanceof float[] yf && os.heapBase().orElse(null) instanceof float[] of) {
            boolean xScalar = x.size() == 1, yScalar = y.size() == 1;
            int cAt = (int) cs.address(), xAt = FloatFastPaths.floatIndex(xs), yAt = FloatFastPaths.floatIndex(ys), oAt = FloatFastPaths.floatIndex(os);
            split(parallel, out.size(), (from, to) -> FloatFastPaths.where(cb, cAt, xf, xAt, xScalar, yf, yAt, yScalar, of, oAt, (int) from, (int) to));
            return;
        }
        long cStride = cond.size() == 1 ? 0 : 1, xStride = x.size() == 1 ? 0 : 1, yStride = y.size() == 1 ? 0 : 1;
        split(parallel, out.size(), (from, to) -> {
            for (long i = from; i < to; i++) {
                boolean pick = cs.get(ValueLayout.JAVA_BYTE, i * cStride) != 0;
                os.setAtIndex(ValueLayout.JAVA_FLOAT, i, pick ? xs.getAtIndex(ValueLayout.JAVA_FLOAT, i * xStride)
                        : ys.getAtIndex(ValueLayout.JAVA_FLOAT, i * yStride));
            }
        });
    }

    /**
     * The gradient of Relu: dY where X > 0, else 0 (a NaN in X passes none), as
     * {@code Where(Greater(X, 0), dY, 0)} gives it; dY and X of one shape and type. The result
     * goes to ctx's output 0; float32 runs in vector lanes.
     */
    public static Tensor reluGrad(Tensor dy, Tensor x, ExecContext ctx) {
        if (!java.util.Arrays.equals(dy.shape(), x.shape()) || dy.dtype() != x.dtype()) {
            throw OnnxrunException.invalidInput("ReluGrad needs dY and X of one shape and type, got " + dy.describe() + " and " + x.describe());
        }
        Tensor out = ctx.output(0, x.dtype(), x.shape());
        if (x.dtype() != DType.FLOAT) {
            split(ctx.parallel(), x.size(), (from, to) -> {
                for (long i = from; i < to; i++) out.setDouble(i, x.getDouble(i) > 0 ? dy.getDouble(i) : 0);
            });
            return out;
        }
        FloatArrays.Slice d = FloatArrays.slice(dy), v = FloatArrays.slice(x), o = FloatArrays.slice(out);
        VectorSpecies<Float> species = FloatFastPaths.SPECIES;
        split(ctx.parallel(), x.size(), (from, to) -> {
            FloatVector zero = FloatVector.zero(species);
            int i = (int) from, end = (int) to;
            for (int bound = i + species.loopBound(end - i); i < bound; i += species.length()) {
                VectorMask<Float> positive = FloatVector.fromArray(species, v.array(), v.offset() + i).compare(VectorOperators.GT, 0f);
                zero.blend(FloatVector.fromArray(species, d.array(), d.offset() + i), positive).intoArray(o.array(), o.offset() + i);
            }
            for (; i < end; i++) o.array()[o.offset() + i] = v.array()[v.offset() + i] > 0 ? d.array()[d.offset() + i] : 0f;
        });
        return out;
    }

    /**
     * The second operand of a pre-opset-7 broadcasting op, reshaped so numpy broadcasting gives
     * the old rule: b's dims match a's dims starting at {@code axis} (a suffix when axis is null).
     */
    public static Tensor legacyBroadcast(Tensor a, Tensor b, Long axis) {
        int rank = a.rank(), bRank = b.rank();
        long[] bShape = b.shape();
        if (bRank == 1 && bShape[0] == 1 || bRank == 0) return b.reshape();
        int start = axis == null ? rank - bRank : (int) (axis < 0 ? axis + rank : axis);
        if (start < 0 || start + bRank > rank) {
            throw OnnxrunException.invalidInput("cannot broadcast " + b.describe() + " onto " + a.describe() + " at axis " + start);
        }
        long[] aligned = new long[rank];
        java.util.Arrays.fill(aligned, 1);
        for (int i = 0; i < bRank; i++) {
            if (bShape[i] != a.dim(start + i) && bShape[i] != 1) {
                throw OnnxrunException.invalidInput("cannot broadcast " + b.describe() + " onto " + a.describe() + " at axis " + start);
            }
            aligned[start + i] = bShape[i];
        }
        return b.reshape(aligned);
    }

    /** PRelu: x where x >= 0, else slope * x; the slope must broadcast onto x without growing it. */
    public static Tensor prelu(Tensor x, Tensor slope, Parallel parallel) {
        long[] shape = Shapes.broadcast(x.shape(), slope.shape());
        if (!java.util.Arrays.equals(shape, x.shape())) {
            throw OnnxrunException.invalidInput("PRelu slope " + slope.describe() + " does not broadcast to " + x.describe());
        }
        return binary(Binary.PRELU, x, slope, onHeap(parallel));
    }

    static boolean isIntegral(DType t) {
        return t.isInteger() || t == DType.BOOL;
    }

    /** True when every input either matches the output element for element or is a single value. */
    private static boolean isFlat(Broadcast bc, Tensor... inputs) {
        for (Tensor t : inputs) if (t.size() != 1 && t.size() != bc.size()) return false;
        return true;
    }

    /**
     * Visits every output element with the inputs' offsets for it: by flat index (split across
     * threads) when no input needs index mapping, else by the broadcast walker.
     */
    private static void walk(Broadcast bc, Parallel parallel, Tensor[] inputs, Broadcast.Visitor visitor) {
        if (!isFlat(bc, inputs)) {
            bc.forEach(visitor);
            return;
        }
        long n = bc.size();
        boolean[] single = new boolean[inputs.length];
        for (int k = 0; k < inputs.length; k++) single[k] = inputs[k].size() == 1;
        split(parallel, n, (from, to) -> {
            long[] offsets = new long[inputs.length];
            for (long i = from; i < to; i++) {
                for (int k = 0; k < offsets.length; k++) offsets[k] = single[k] ? 0 : i;
                visitor.visit(i, offsets);
            }
        });
    }

    private static void split(Parallel parallel, long n, Parallel.RangeBody body) {
        if (n >= PARALLEL_THRESHOLD && parallel != null) parallel.forRange(n, body);
        else if (n > 0) body.run(0, n);
    }
}
