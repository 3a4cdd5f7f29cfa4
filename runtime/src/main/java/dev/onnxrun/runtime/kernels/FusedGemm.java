package dev.onnxrun.runtime.kernels;

import dev.onnxrun.runtime.DType;
import dev.onnxrun.runtime.ExecContext;
import dev.onnxrun.runtime.OnnxrunException;
import dev.onnxrun.runtime.Parallel;
import dev.onnxrun.runtime.Shapes;
import dev.onnxrun.runtime.Tensor;
import java.util.Arrays;

/**
 * A matrix product with an epilogue: {@code Y = act(alpha · op(A) · op(B) + beta · C + R)}, R
 * (optional) of Y's shape. A may carry leading batch axes when it is not transposed (a MatMul by a
 * weight matrix): they fold into the rows of one product. For float32, Y starts as beta·C, the
 * product adds into it, then the residual and the activation finish it, a block of rows at a
 * time while the block is in cache; over packed weights each block's three steps run on the
 * thread that computes it.
 */
public final class FusedGemm {
    private FusedGemm() {}

    /** Floats of Y finished per block: a block that stays in L2 between the product and the activation. */
    private static final int BLOCK_FLOATS = 1 << 16;

    public static Tensor gemm(Tensor a, Tensor b, Gemm.PackedB packedB, Tensor c, Tensor residual, boolean transA, boolean transB,
                              float alpha, float beta, Activation act, ExecContext ctx) {
        Parallel parallel = ctx.parallel();
        if (a.rank() < 2 || b.rank() != 2 || transA && a.rank() != 2) {
            throw OnnxrunException.invalidInput("FusedGemm needs A of rank >= 2 (2 when transposed) and a matrix B, got "
                    + a.describe() + " and " + b.describe());
        }
        long[] outShape = a.shape().clone();
        int k = Math.toIntExact(transA ? a.dim(0) : a.dim(a.rank() - 1));
        int m = Math.toIntExact(transA ? a.dim(1) : Shapes.size(Arrays.copyOf(outShape, outShape.length - 1)));
        int n = Math.toIntExact(transB ? b.dim(0) : b.dim(1));
        if (transA) outShape[0] = m;
        outShape[outShape.length - 1] = n;
        if (residual != null && (residual.dtype() != a.dtype() || !Arrays.equals(residual.shape(), outShape))) {
            throw OnnxrunException.invalidInput("FusedGemm residual " + residual.describe() + " must be " + a.dtype().onnxName()
                    + Shapes.toString(outShape));
        }
        Tensor a2 = a.rank() == 2 ? a : a.reshape(m, k);
        if (a.dtype() != DType.FLOAT) {
            Tensor y = MatrixOps.gemm(a2, b, null, c, transA, transB, alpha, beta, parallel).reshape(outShape);
            if (residual == null) return act.applyInPlace(y);
            for (long i = 0; i < y.size(); i++) y.setDouble(i, act.apply(y.getDouble(i) + residual.getDouble(i)));
            return y;
        }
        int kb = Math.toIntExact(transB ? b.dim(1) : b.dim(0));
        if (k != kb) throw OnnxrunException.invalidInput("FusedGemm inner dimensions differ: " + a.describe() + " and " + b.describe());
        Tensor y = ctx.output(0, DType.FLOAT, outShape);
        FloatArrays.Slice target = FloatArrays.slice(y);
        float[] out = target.array();
        int at = target.offset();
        Parallel.RangeBody initialize = initializer(out, at, m, n, c, beta);
        FloatArrays.Slice res = residual == null ? null : FloatArrays.slice(residual);
        float[] resArray = res == null ? null : res.array();
        int resShift = res == null ? 0 : res.offset() - at;
        int aRs = transA ? 1 : k, aCs = transA ? m : 1;
        FloatArrays.Slice as = FloatArrays.slice(a2);
        FloatArrays.Slice bs = packedB != null ? null : FloatArrays.slice(b);
        Gemm.Matrix rhs = packedB != null ? null : new Gemm.Matrix(bs.array(), bs.offset(), transB ? 1 : n, transB ? k : 1);
        if (packedB == null) Work.pool(parallel, (long) m * n).forRange(m, initialize);
        int block = Math.max(8 * Gemm.MR, BLOCK_FLOATS / Math.max(n, 1) / Gemm.MR * Gemm.MR);
        for (int i0 = 0; i0 < m; i0 += block) {
            int rows = Math.min(block, m - i0), first = i0;
            Gemm.Matrix lhs = new Gemm.Matrix(as.array(), as.offset() + i0 * aRs, aRs, aCs);
            // the residual after the product, as the unfused Add adds it: the same sums, rounded the same way
            if (packedB != null) {
                // Y's rows are set up, multiplied into and finished by the thread that owns them, in its cache
                Gemm.multiply(rows, alpha, lhs, packedB, out, at + i0 * n, n, (from, to) -> initialize.run(first + from, first + to),
                        (from, to) -> act.apply(out, at + (first + (int) from) * n, (int) (to - from), n, n, resArray, resShift, Parallel.SERIAL), parallel);
            } else {
                Gemm.multiply(rows, n, k, alpha, lhs, rhs, out, at + i0 * n, n, true, parallel);
                act.apply(out, at + i0 * n, rows, n, n, resArray, resShift, parallel);
            }
        }
        return y;
    }

    /**
     * What sets Y's rows [from, to) (m × n at {@code out[at]}) to beta·C broadcast, or to zeros,
     * before the product adds into them; fails at once where C does not broadcast to Y.
     */
    private static Parallel.RangeBody initializer(float[] out, int at, int m, int n, Tensor c, float beta) {
        if (c == null || beta == 0) return (from, to) -> Arrays.fill(out, at + (int) from * n, at + (int) to * n, 0f);
        long[] mn = {m, n};
        if (c.rank() > 2 || !Arrays.equals(Shapes.broadcast(c.shape(), mn), mn)) {
            throw OnnxrunException.invalidInput("FusedGemm C " + c.describe() + " does not broadcast to " + Shapes.toString(mn));
        }
        long[] cs = Shapes.broadcastStrides(c.shape(), mn);
        if (c.dtype() == DType.FLOAT && cs[0] == 0 && cs[1] == 1) {
            // a bias row, the usual C, copied into each row: Y is written once before the product, not zeroed first
            float[] bias = FloatArrays.read(c);
            return (from, to) -> {
                for (int i = (int) from; i < to; i++) {
                    if (beta == 1f) {
                        System.arraycopy(bias, 0, out, at + i * n, n);
                    } else {
                        Arrays.fill(out, at + i * n, at + (i + 1) * n, 0f);
                        FloatArrays.addScaled(bias, 0, beta, out, at + i * n, n);
                    }
                }
            };
        }
        return (from, to) -> {
            for (int i = (int) from; i < to; i++) {
                for (int j = 0; j < n; j++) out[at + i * n + j] = beta * c.getFloat(i * cs[0] + j * cs[1]);
            }
        };
    }
}
