package dev.onnxrun.compiler.ops;

import dev.onnxrun.compiler.ir.Dim;
import dev.onnxrun.compiler.ir.OpsetImports;
import dev.onnxrun.compiler.ir.ValueType;
import dev.onnxrun.compiler.ir.ValueType.TensorType;
import dev.onnxrun.runtime.DType;
import dev.onnxrun.runtime.Shapes;
import dev.onnxrun.runtime.Tensor;
import dev.onnxrun.runtime.Value;
import dev.onnxrun.runtime.kernels.Activation;
import dev.onnxrun.runtime.kernels.AxisLayout;
import dev.onnxrun.runtime.kernels.Conv;
import dev.onnxrun.runtime.kernels.FloatArrays;
import dev.onnxrun.runtime.kernels.FusedGemm;
import dev.onnxrun.runtime.kernels.Gemm;
import dev.onnxrun.runtime.kernels.MatrixOps;
import dev.onnxrun.runtime.kernels.Normalization;
import dev.onnxrun.runtime.kernels.Softmax;
import java.util.ArrayList;
import java.util.List;

/**
 * onnxrun's own ops (domain {@code dev.onnxrun}, version 1), made by the optimizer: layers fused
 * with their bias, residual and activation, and single ops recognized in the decomposed forms of
 * older opsets. Fused layers name their activation in the {@code activation} attribute (an ONNX
 * op name: Relu, Clip, LeakyRelu, Sigmoid, Tanh, HardSigmoid, HardSwish, or Silu, Gelu) with its
 * constants in {@code activation_alpha} and {@code activation_beta}.
 */
public final class FusedOps {
    private FusedOps() {}

    static final String DOMAIN = OpsetImports.ONNXRUN_DOMAIN;

    static List<OpDef> defs() {
        return List.of(
                // act(conv(X, W) + B + R): Conv's attributes, R (optional) of Y's shape
                OpDef.op(DOMAIN, "FusedConv").until(1).types(DTypes.FLOATS).inputs(2, 4).outputs(1, 1)
                        .infer(ctx -> ConvolutionDefs.infer(ctx, false))
                        .cpu(ctx -> {
                            Conv.Params p = ConvolutionDefs.params(ctx);
                            Activation act = activation(ctx);
                            Conv.PackedWeights packed = ConvolutionDefs.packed(ctx, p);
                            return (in, ec) -> new Value[] {Conv.conv((Tensor) in[0], (Tensor) in[1], packed, TensorOps.optional(in, 2),
                                    TensorOps.optional(in, 3), act, p, ec)};
                        }).build(),
                // act(alpha·A'·B' + beta·C + R): Gemm's attributes; A may have batch axes when not transposed, R has Y's shape
                OpDef.op(DOMAIN, "FusedGemm").until(1).types(DTypes.FLOATS).inputs(2, 4).outputs(1, 1)
                        .infer(FusedOps::inferGemm)
                        .cpu(ctx -> {
                            boolean transA = ctx.attrs().getInt("transA", 0) != 0, transB = ctx.attrs().getInt("transB", 0) != 0;
                            float alpha = ctx.attrs().getFloat("alpha", 1f), beta = ctx.attrs().getFloat("beta", 1f);
                            Activation act = activation(ctx);
                            Gemm.PackedB packed = NnOps.packedRight(ctx, transB);
                            return (in, ec) -> new Value[] {FusedGemm.gemm((Tensor) in[0], (Tensor) in[1], packed, TensorOps.optional(in, 2),
                                    TensorOps.optional(in, 3), transA, transB, alpha, beta, act, ec)};
                        }).build(),
                FusedElementwiseOp.def(),
                activationOp("Silu", Activation.Kind.SILU),
                activationOp("Gelu", Activation.Kind.GELU),
                // LayerNormalization of opset 17 (Y only), recognized in its decomposed form
                OpDef.op(DOMAIN, "LayerNormalization").until(1).types(DTypes.FLOATS).inputs(2, 3).outputs(1, 1)
                        .infer(TypeRules.SAME_AS_INPUT)
                        .cpu(ctx -> {
                            long axis = ctx.attrs().getInt("axis", -1);
                            double eps = ctx.attrs().getFloat("epsilon", 1e-5f);
                            return (in, ec) -> new Value[] {Normalization.layerNorm((Tensor) in[0], (Tensor) in[1], TensorOps.optional(in, 2),
                                    axis, eps, DType.FLOAT, ec)[0]};
                        }).build(),
                // Softmax of opset 13 (one axis), recognized as Exp(x − ReduceMax) / ReduceSum
                OpDef.op(DOMAIN, "Softmax").until(1).types(DTypes.FLOATS).inputs(1, 1).outputs(1, 1)
                        .infer(TypeRules.SAME_AS_INPUT)
                        .cpu(ctx -> {
                            long axis = ctx.attrs().getInt("axis", -1);
                            return (in, ec) -> {
                                Tensor x = (Tensor) in[0];
                                AxisLayout layout = x.rank() == 0 ? new AxisLayout(1, 1, 1) : AxisLayout.around(x.shape(), Shapes.axis(axis, x.rank()));
                                return new Value[] {Softmax.apply(x, layout, Softmax.Kind.SOFTMAX, ec)};
                            };
                        }).build());
    }

    /** An elementwise activation that ONNX spells as several ops (or, before opset 20, lacks). */
    private static OpDef activationOp(String name, Activation.Kind kind) {
        Activation act = new Activation(kind, 0, 0);
        return OpDef.op(DOMAIN, name).until(1).types(DTypes.FLOATS).inputs(1, 1).outputs(1, 1).infer(TypeRules.SAME_AS_INPUT)
                .cpu(ctx -> (in, ec) -> {
                    Tensor x = (Tensor) in[0];
                    if (x.dtype() != DType.FLOAT) return new Value[] {act.applyInPlace(x.copy())};
                    float[] y = FloatArrays.read(x).clone();
                    long chunk = 1 << 14;
                    ec.parallel().forRange((y.length + chunk - 1) / chunk,
                            (from, to) -> act.apply(y, (int) (from * chunk), (int) Math.min(y.length, to * chunk)));
                    return new Value[] {Tensor.of(y, x.shape())};
                }).build();
    }

    /** The activation a fused node names, with its constants. */
    static Activation activation(NodeContext ctx) {
        String name = ctx.attrs().getString("activation", "None");
        Activation.Kind kind = Activation.Kind.byOpName(name);
        if (kind == null) throw ctx.error("unknown activation '" + name + "'");
        return new Activation(kind, ctx.attrs().getFloat("activation_alpha", 0f), ctx.attrs().getFloat("activation_beta", 0f));
    }

    /** A's leading axes (or M when transposed), then N. */
    private static List<ValueType> inferGemm(NodeContext ctx) {
        TensorType a = ctx.tensorType(0), b = ctx.tensorType(1);
        DType dtype = a != null ? a.dtype() : b != null ? b.dtype() : null;
        if (dtype == null) return List.of(ValueType.UNKNOWN);
        boolean transA = ctx.attrs().getInt("transA", 0) != 0, transB = ctx.attrs().getInt("transB", 0) != 0;
        Dim n = b != null && b.hasRank() && b.rank() == 2 ? b.dims().get(transB ? 0 : 1) : Dim.UNKNOWN;
        if (a == null || !a.hasRank() || a.rank() < 2) return List.of(TensorType.unknownShape(dtype));
        List<Dim> dims = new ArrayList<>(transA ? List.of(a.dims().get(1)) : a.dims().subList(0, a.rank() - 1));
        dims.add(n);
        return List.of(new TensorType(dtype, dims));
    }
}
