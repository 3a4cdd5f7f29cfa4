package dev.onnxrun.compiler.ops;

import static dev.onnxrun.compiler.ops.TensorOps.tensor;

import dev.onnxrun.compiler.ir.Dim;
import dev.onnxrun.compiler.ir.ValueType;
import dev.onnxrun.compiler.ir.ValueType.TensorType;
import dev.onnxrun.runtime.DType;
import dev.onnxrun.runtime.Tensor;
import dev.onnxrun.runtime.Value;
import dev.onnxrun.runtime.kernels.Gemm;
import dev.onnxrun.runtime.kernels.MatrixOps;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * Neural-network ops: matrix products here; convolutions and pooling ({@link ConvolutionDefs},
 * {@link PoolingDefs}), normalizations ({@link NormalizationDefs}) and resampling
 * ({@link ResamplingDefs}) in their own files, all registered through {@link #defs()}.
 */
public final class NnOps {
    private NnOps() {}

    /** Element types of MatMul and Gemm: floats and the 32/64-bit integers. */
    static final Set<DType> MATMUL_TYPES = DTypes.union(DTypes.FLOATS,
            EnumSet.of(DType.INT32, DType.INT64, DType.UINT32, DType.UINT64));

    /** Element types of the integer-arithmetic ops' quantized inputs. */

    public static List<OpDef> defs() {
        List<OpDef> defs = new ArrayList<>();
        defs.add(OpDef.onnx("MatMul").types(MATMUL_TYPES).inputs(2, 2).outputs(1, 1).infer(NnOps::inferMatMul)
                .cpu(ctx -> {
                    Gemm.PackedB packed = packedRight(ctx, false);
                    return (in, ec) -> new Value[] {MatrixOps.matMul(tensor(in, 0), tensor(in, 1), packed, ec)};
                }).build());
        defs.add(OpDef.onnx("Gemm").types(MATMUL_TYPES).inputs(2, 3).outputs(1, 1).infer(NnOps::inferGemm).cpu(NnOps::lowerGemm).build());
        defs.addAll(ConvolutionDefs.defs());
        defs.addAll(PoolingDefs.defs());
        defs.addAll(NormalizationDefs.defs());
        defs.addAll(ResamplingDefs.defs());
        return defs;
    }

    /** B (input 1, transposed for Gemm's transB) packed once, at compile time, or null when B is not a constant. */
    static Gemm.PackedB packedRight(NodeContext ctx, boolean transposed) {
        Tensor b = ctx.constantInput(1);
        return b == null ? null : ctx.packed(stored -> MatrixOps.packRight(b, transposed, stored));
    }

    /** Numpy matmul shapes: 1-D operands promoted then their added axis dropped, batch axes broadcast. */
    private static List<ValueType> inferMatMul(NodeContext ctx) {
        TensorType a = ctx.tensorType(0), b = ctx.tensorType(1);
        DType dtype = a != null ? a.dtype() : b != null ? b.dtype() : null;
        if (a == null || b == null || !a.hasRank() || !b.hasRank() || a.rank() == 0 || b.rank() == 0) {
            return List.of(TypeRules.unknownShape(dtype));
        }
        List<Dim> ad = a.dims(), bd = b.dims();
        List<Dim> batch = TypeRules.broadcastDims(List.of(ad.subList(0, Math.max(0, ad.size() - 2)),
                bd.subList(0, Math.max(0, bd.size() - 2))));
        List<Dim> out = new ArrayList<>(batch);
        if (ad.size() >= 2) out.add(ad.get(ad.size() - 2));
        if (bd.size() >= 2) out.add(bd.get(bd.size() - 1));
        return List.of(new TensorType(dtype, out));
    }

    private static List<ValueType> inferGemm(NodeContext ctx) {
        TensorType a = ctx.tensorType(0), b = ctx.tensorType(1);
        DType dtype = a != null ? a.dtype() : b != null ? b.dtype() : null;
        boolean transA = ctx.attrs().getInt("transA", 0) != 0, transB = ctx.attrs().getInt("transB", 0) != 0;
        Dim m = a != null && a.hasRank() && a.rank() == 2 ? a.dims().get(transA ? 1 : 0) : Dim.UNKNOWN;
        Dim n = b != null && b.hasRank() && b.rank() == 2 ? b.dims().get(transB ? 0 : 1) : Dim.UNKNOWN;
        return List.of(dtype == null ? ValueType.UNKNOWN : new TensorType(dtype, List.of(m, n)));
    }

    private static dev.onnxrun.runtime.Kernel lowerGemm(NodeContext ctx) {
        boolean transA = ctx.attrs().getInt("transA", 0) != 0, transB = ctx.attrs().getInt("transB", 0) != 0;
        float alpha = ctx.attrs().getFloat("alpha", 1f), beta = ctx.attrs().getFloat("beta", 1f);
        // Before opset 7, C broadcasts only with broadcast=1; a model with broadcast=0 has a full-size C, which broadcasting reads the same.
        Gemm.PackedB packed = packedRight(ctx, transB);
        return (in, ec) -> new Value[] {MatrixOps.gemm(tensor(in, 0), tensor(in, 1), packed, TensorOps.optional(in, 2),
                transA, transB, alpha, beta, ec.parallel())};
    }

    /** Dims 0 and 1 of a known-rank type, else unknown. */
    static Dim dim(TensorType t, int i) {
        return t != null && t.hasRank() && t.rank() > i ? t.dims().get(i) : Dim.UNKNOWN;
    }

    /** The known sizes of axes [2, rank) of t, or null if any is unknown. */
    static long[] spatialDims(TensorType t) {
        if (t == null || !t.hasRank() || t.rank() < 3) return null;
        long[] out = new long[t.rank() - 2];
        for (int i = 0; i < out.length; i++) {
            long d = t.dims().get(i + 2).sizeOrMinus1();
            if (d < 0) return null;
            out[i] = d;
        }
        return out;
    }

    /** [n, c, spatial...] with the spatial sizes when known, else unknown dims of the input's rank. */
    static ValueType spatialResult(DType dtype, TensorType x, Dim n, Dim c, long[] spatial) {
        if (dtype == null) return ValueType.UNKNOWN;
        if (x == null || !x.hasRank()) return TensorType.unknownShape(dtype);
        List<Dim> dims = new ArrayList<>();
        dims.add(n);
        dims.add(c);
        for (int i = 2; i < x.rank(); i++) dims.add(spatial == null ? Dim.UNKNOWN : Dim.of(spatial[i - 2]));
        return new TensorType(dtype, dims);
    }

    /** A numeric attribute whose kind changed between opsets (LpPool's p: float in opset 1, int since); null when absent. */
    static Number numberAttr(NodeContext ctx, String name) {
        var a = ctx.node().attributes().get(name);
        return a == null ? null : a.value() instanceof Number num ? num : null;
    }
}
