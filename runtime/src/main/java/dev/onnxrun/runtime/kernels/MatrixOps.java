package dev.onnxrun.runtime.kernels;

import dev.onnxrun.runtime.DType;
import dev.onnxrun.runtime.ExecContext;
import dev.onnxrun.runtime.OnnxrunException;
import dev.onnxrun.runtime.Parallel;
import dev.onnxrun.runtime.Shapes;
import dev.onnxrun.runtime.Tensor;
import java.util.Arrays;

/** The ONNX matrix products: MatMul (numpy matmul) and Gemm (alpha·A'·B' + beta·C). */
public final class MatrixOps {
    private MatrixOps() {}

    /**
     * Numpy matmul: 1-D operands are promoted to matrices (and the added axis dropped from the
     * result), leading batch axes broadcast.
     */
    public static Tensor matMul(Tensor a, Tensor b, Parallel parallel) {
        return matMul(a, b, null, ExecContext.on(parallel));
    }

    /**
     * A float32 matrix packed for use as the right operand of {@link #matMul} or (with
     * {@code transposed} as Gemm's transB) {@link #gemm}; null when {@code b} has no such fast path.
     */
    public static Gemm.PackedB packRight(Tensor b, boolean transposed) {
        return packRight(b, transposed, PackedForm.Stored.NONE);
    }

    /** {@link #packRight(Tensor, boolean)}, taken from {@code stored} where it holds this form for this machine's layout. */
    public static Gemm.PackedB packRight(Tensor b, boolean transposed, PackedForm.Stored stored) {
        if (b.dtype() != DType.FLOAT || b.rank() != 2) return null;
        int rows = Math.toIntExact(b.dim(0)), cols = Math.toIntExact(b.dim(1));
        int k = transposed ? cols : rows, n = transposed ? rows : cols;
        float[] saved = stored.take(Gemm.PackedB.PART, Gemm.PackedB.LAYOUT, Gemm.rightSize(k, n));
        if (saved != null) return Gemm.PackedB.over(k, n, saved, 0);
        Gemm.Matrix m = Gemm.Matrix.rowMajor(FloatArrays.read(b), 0, cols);
        return Gemm.pack(k, n, transposed ? m.transposed() : m);
    }

    /** {@link #matMul}, with B's packed form when B is a constant matrix (from {@link #packRight}). */
    public static Tensor matMul(Tensor a, Tensor b, Gemm.PackedB packedB, ExecContext ctx) {
        Parallel parallel = ctx.parallel();
        if (a.rank() == 0 || b.rank() == 0) throw OnnxrunException.invalidInput("MatMul operands must have rank >= 1, got "
                + a.describe() + " and " + b.describe());
        requireSameType("MatMul", a, b);
        long[] as = a.rank() == 1 ? new long[] {1, a.dim(0)} : a.shape();
        long[] bs = b.rank() == 1 ? new long[] {b.dim(0), 1} : b.shape();
        int m = Math.toIntExact(as[as.length - 2]), k = Math.toIntExact(as[as.length - 1]);
        int n = Math.toIntExact(bs[bs.length - 1]);
        if (bs[bs.length - 2] != k) {
            throw OnnxrunException.invalidInput("MatMul inner dimensions differ: " + a.describe() + " × " + b.describe());
        }
        long[] aBatch = Arrays.copyOf(as, as.length - 2), bBatch = Arrays.copyOf(bs, bs.length - 2);
        long[] batch = Shapes.broadcast(aBatch, bBatch);
        long[] outShape = Arrays.copyOf(batch, batch.length + 2);
        outShape[batch.length] = m;
        outShape[batch.length + 1] = n;
        long[] finalShape = outShape;
        if (a.rank() == 1 && b.rank() == 1) finalShape = Arrays.copyOf(batch, batch.length);
        else if (a.rank() == 1) finalShape = dropAxis(outShape, batch.length);
        else if (b.rank() == 1) finalShape = dropAxis(outShape, batch.length + 1);

        int batches = Math.toIntExact(Shapes.size(batch));
        long[] aOff = new long[batches], bOff = new long[batches];
        new Broadcast(batch, aBatch, bBatch).forEach((i, offs) -> {
            aOff[(int) i] = offs[0] * m * k;
            bOff[(int) i] = offs[1] * k * n;
        });
        if (a.dtype() == DType.FLOAT && b.rank() == 2 && a.rank() >= 2) {
            // One matrix on the right: the batch of A folds into its rows, making one taller product.
            Tensor y = ctx.output(0, DType.FLOAT, finalShape);
            FloatArrays.Slice out = FloatArrays.slice(y), xs = FloatArrays.slice(a);
            int rows = Math.toIntExact(Shapes.size(Arrays.copyOf(a.shape(), a.rank() - 1)));
            Gemm.Matrix lhs = Gemm.Matrix.rowMajor(xs.array(), xs.offset(), k);
            if (packedB != null) {
                Gemm.multiply(rows, 1f, lhs, packedB, out.array(), out.offset(), n, false, parallel);
            } else {
                FloatArrays.Slice ws = FloatArrays.slice(b);
                Gemm.multiply(rows, n, k, 1f, lhs, Gemm.Matrix.rowMajor(ws.array(), ws.offset(), n), out.array(), out.offset(), n, false, parallel);
            }
            return y;
        }
        if (a.dtype() == DType.FLOAT) {
            FloatArrays.Slice xs = FloatArrays.slice(a), ys = FloatArrays.slice(b);
            float[] x = xs.array(), y = ys.array();
            int xAt = xs.offset(), yAt = ys.offset();
            Tensor result = ctx.output(0, DType.FLOAT, finalShape);
            FloatArrays.Slice outSlice = FloatArrays.slice(result);
            float[] out = outSlice.array();
            int outAt = outSlice.offset();
            // Attention heads parallelise best across the batch, a whole product per task: split
            // inside, each product would meet the pool several times (packing, tiles). Large
            // products go inside only when the heads would not divide evenly among the threads.
            boolean acrossBatch = batches >= parallel.threads() && (batches % parallel.threads() == 0 || (long) m * n * k < (1L << 20));
            Parallel inner = acrossBatch ? Parallel.SERIAL : parallel;
            Parallel.RangeBody body = (from, to) -> {
                for (int i = (int) from; i < to; i++) {
                    Gemm.multiply(m, n, k, 1f, Gemm.Matrix.rowMajor(x, xAt + (int) aOff[i], k), Gemm.Matrix.rowMajor(y, yAt + (int) bOff[i], n),
                            out, outAt + i * m * n, n, false, inner);
                }
            };
            if (acrossBatch) Work.pool(parallel, (long) batches * m * n * k).forRange(batches, body);
            else body.run(0, batches);
            return result;
        }
        Tensor out = Tensor.allocate(a.dtype(), finalShape);
        for (int i = 0; i < batches; i++) {
            multiplyGeneric(m, n, k, a, aOff[i], k, 1, b, bOff[i], n, 1, out, (long) i * m * n);
        }
        return out;
    }

    private static long[] dropAxis(long[] shape, int axis) {
        long[] out = new long[shape.length - 1];
        for (int i = 0, j = 0; i < shape.length; i++) if (i != axis) out[j++] = shape[i];
        return out;
    }

    /**
     * out[outOff + i*n + j] = Σ_p a[i,p]·b[p,j] for any numeric type: exact 64-bit integer
     * arithmetic (wrapping) for integer types, double accumulation for floating types.
     */
    static void multiplyGeneric(int m, int n, int k, Tensor a, long aOff, long aRs, long aCs,
                                Tensor b, long bOff, long bRs, long bCs, Tensor out, long outOff) {
        if (a.dtype().isInteger()) {
            long[] row = new long[n];
            for (int i = 0; i < m; i++) {
                Arrays.fill(row, 0);
                for (int p = 0; p < k; p++) {
                    long av = a.getLong(aOff + i * aRs + p * aCs);
                    if (av == 0) continue;
                    long bBase = bOff + p * bRs;
                    for (int j = 0; j < n; j++) row[j] += av * b.getLong(bBase + j * bCs);
                }
                for (int j = 0; j < n; j++) out.setLong(outOff + (long) i * n + j, row[j]);
            }
        } else {
            double[] row = new double[n];
            for (int i = 0; i < m; i++) {
                Arrays.fill(row, 0);
                for (int p = 0; p < k; p++) {
                    double av = a.getDouble(aOff + i * aRs + p * aCs);
                    long bBase = bOff + p * bRs;
                    for (int j = 0; j < n; j++) row[j] += av * b.getDouble(bBase + j * bCs);
                }
                for (int j = 0; j < n; j++) out.setDouble(outOff + (long) i * n + j, row[j]);
            }
        }
    }

    /**
     * ONNX Gemm: {@code alpha · op(A) · op(B) + beta · C}, op transposing when asked; C (optional)
     * broadcasts to the [M, N] result.
     */
    public static Tensor gemm(Tensor a, Tensor b, Tensor c, boolean transA, boolean transB, float alpha, float beta,
                              Parallel parallel) {
        return gemm(a, b, null, c, transA, transB, alpha, beta, parallel);
    }

    /** {@link #gemm}, with B's packed form when B is constant (from {@link #packRight} with transB). */
    public static Tensor gemm(Tensor a, Tensor b, Gemm.PackedB packedB, Tensor c, boolean transA, boolean transB, float alpha,
                              float beta, Parallel parallel) {
        if (a.rank() != 2 || b.rank() != 2) {
            throw OnnxrunException.invalidInput("Gemm operands must be matrices, got " + a.describe() + " and " + b.describe());
        }
        requireSameType("Gemm", a, b);
        int m = Math.toIntExact(transA ? a.dim(1) : a.dim(0)), k = Math.toIntExact(transA ? a.dim(0) : a.dim(1));
        int kb = Math.toIntExact(transB ? b.dim(1) : b.dim(0)), n = Math.toIntExact(transB ? b.dim(0) : b.dim(1));
        if (k != kb) throw OnnxrunException.invalidInput("Gemm inner dimensions differ: " + a.describe() + " and " + b.describe()
                + (transA ? " (A transposed)" : "") + (transB ? " (B transposed)" : ""));
        long[] outShape = {m, n};
        long[] cStrides = null;
        if (c != null && beta != 0) {
            if (c.rank() > 2) throw OnnxrunException.invalidInput("Gemm C must have rank <= 2, got " + c.describe());
            long[] target = Shapes.broadcast(c.shape(), outShape);
            if (!Arrays.equals(target, outShape)) {
                throw OnnxrunException.invalidInput("Gemm C " + c.describe() + " does not broadcast to " + Shapes.toString(outShape));
            }
            cStrides = Shapes.broadcastStrides(c.shape(), outShape);
        }
        int aRs = transA ? 1 : k, aCs = transA ? m : 1;
        int bRs = transB ? 1 : n, bCs = transB ? k : 1;
        if (a.dtype() == DType.FLOAT) {
            float[] out = new float[Math.toIntExact(Shapes.size(outShape))];
            if (cStrides != null && c.dtype() == DType.FLOAT && cStrides[0] == 0 && cStrides[1] == 1) {
                float[] bias = FloatArrays.read(c); // a bias row, the usual C
                for (int i = 0; i < m; i++) FloatArrays.addScaled(bias, 0, beta, out, i * n, n);
            } else if (cStrides != null) {
                for (int i = 0; i < m; i++) {
                    for (int j = 0; j < n; j++) out[i * n + j] = beta * c.getFloat(i * cStrides[0] + j * cStrides[1]);
                }
            }
            FloatArrays.Slice as = FloatArrays.slice(a); // read in place: A is often a slice of the run's arena
            Gemm.Matrix lhs = new Gemm.Matrix(as.array(), as.offset(), aRs, aCs);
            if (packedB != null) Gemm.multiply(m, alpha, lhs, packedB, out, 0, n, true, parallel);
            else Gemm.multiply(m, n, k, alpha, lhs, new Gemm.Matrix(FloatArrays.read(b), 0, bRs, bCs), out, 0, n, true, parallel);
            return Tensor.of(out, outShape);
        }
        boolean integer = a.dtype().isInteger();
        Tensor product = Tensor.allocate(integer ? a.dtype() : DType.DOUBLE, outShape);
        multiplyGeneric(m, n, k, a, 0, aRs, aCs, b, 0, bRs, bCs, product, 0);
        Tensor out = integer ? product : Tensor.allocate(a.dtype(), outShape);
        boolean exactInts = integer && alpha == 1 && (cStrides == null || beta == 1);
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                long at = (long) i * n + j;
                long cAt = cStrides == null ? -1 : i * cStrides[0] + j * cStrides[1];
                if (exactInts) {
                    if (cAt >= 0) out.setLong(at, product.getLong(at) + c.getLong(cAt));
                } else {
                    double v = alpha * product.getDouble(at);
                    if (cAt >= 0) v += beta * c.getDouble(cAt);
                    out.setDouble(at, v);
                }
            }
        }
        return out;
    }

    /** {@code x - zero} (zero broadcast unidirectionally to x, or absent) as a tensor of {@code dtype}. */
    static Tensor shifted(Tensor x, Tensor zero, DType dtype) {
        Tensor out = Tensor.allocate(dtype, x.shape());
        if (zero == null) {
            for (long i = 0; i < x.size(); i++) out.setLong(i, x.getLong(i));
            return out;
        }
        if (!Arrays.equals(Shapes.broadcast(x.shape(), zero.shape()), x.shape())) {
            throw OnnxrunException.invalidInput("zero point " + zero.describe() + " does not broadcast to " + x.describe());
        }
        new Broadcast(x.shape(), x.shape(), zero.shape()).forEach((i, offs) -> out.setLong(i, x.getLong(offs[0]) - zero.getLong(offs[1])));
        return out;
    }

    /** The operands of a product share one element type (the float32 fast paths read both as float). */
    static void requireSameType(String op, Tensor a, Tensor b) {
        if (a.dtype() != b.dtype()) {
            throw OnnxrunException.invalidInput(op + " operands differ in element type: " + a.describe() + " and " + b.describe());
        }
    }
}
