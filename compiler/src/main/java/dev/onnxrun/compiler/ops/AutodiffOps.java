package dev.onnxrun.compiler.ops;

import dev.onnxrun.compiler.ir.Dim;
import dev.onnxrun.compiler.ir.OpsetImports;
import dev.onnxrun.compiler.ir.ValueType;
import dev.onnxrun.compiler.ir.ValueType.TensorType;
import dev.onnxrun.runtime.ExecContext;
import dev.onnxrun.runtime.Tensor;
import dev.onnxrun.runtime.Value;
import dev.onnxrun.runtime.kernels.Conv;
import dev.onnxrun.runtime.kernels.Elementwise;
import dev.onnxrun.runtime.kernels.Normalization;
import dev.onnxrun.runtime.kernels.Pooling;
import dev.onnxrun.runtime.kernels.SumToShape;
import dev.onnxrun.runtime.kernels.WindowGradients;
import java.util.ArrayList;
import java.util.List;

/**
 * onnxrun's own ops that backward graphs need where standard ops cannot express a gradient
 * well. Each works with shapes known only at run time. Their standard ONNX forms, for graphs
 * written out for other runtimes, are in {@link AutodiffExpansions}.
 */
public final class AutodiffOps {
    private AutodiffOps() {}

    public static List<OpDef> defs() {
        return List.of(sumToShape(), convWeightGrad(), averagePoolGrad(), maxPoolGrad(), reluGrad(), batchNormTrainingGrad());
    }

    /**
     * SumToShape(grad, shape): grad summed over the dims that broadcasting {@code shape} to grad's
     * shape added or stretched — the gradient of any broadcast.
     */
    private static OpDef sumToShape() {
        return OpDef.op(OpsetImports.ONNXRUN_DOMAIN, "SumToShape").since(1).until(1).types(DTypes.FLOATS)
                .inputs(2, 2).outputs(1, 1)
                .infer(ctx -> {
                    Tensor shape = ctx.constantInput(1);
                    if (ctx.inputDType(0) == null) return List.of(ValueType.UNKNOWN);
                    if (shape != null) return List.of(TensorType.of(ctx.inputDType(0), shape.toLongArray()));
                    TensorType s = ctx.tensorType(1);
                    if (s == null || !s.hasRank() || s.rank() != 1 || !s.dims().getFirst().isKnown()) {
                        return List.of(TensorType.unknownShape(ctx.inputDType(0)));
                    }
                    List<Dim> dims = new ArrayList<>();
                    for (long i = 0; i < s.dims().getFirst().sizeOrMinus1(); i++) dims.add(Dim.UNKNOWN);
                    return List.<ValueType>of(new TensorType(ctx.inputDType(0), dims));
                })
                .cpu(ctx -> (in, ec) -> new Value[] {SumToShape.sumToShape((Tensor) in[0], ((Tensor) in[1]).toLongArray())})
                // the adjoint of summing is broadcasting back
                .grad(g -> List.of(g.op("Expand", g.dy(0), g.shape(g.x(0)))))
                .build();
    }

    /**
     * ConvWeightGrad(X, dY, W) with Conv's attributes: the gradient of Conv(X, W) with respect
     * to W given dY, shaped like W (W is read only for its shape).
     */
    private static OpDef convWeightGrad() {
        return OpDef.op(OpsetImports.ONNXRUN_DOMAIN, "ConvWeightGrad").since(1).until(1).types(DTypes.FLOATS)
                .inputs(3, 3).outputs(1, 1)
                .infer(ctx -> List.of(ctx.inputType(2)))
                .cpu(ctx -> {
                    Conv.Params p = ConvolutionDefs.params(ctx);
                    return (in, ec) -> new Value[] {WindowGradients.convWeightGrad((Tensor) in[0], (Tensor) in[1], ((Tensor) in[2]).shape(), p,
                            ec.parallel())};
                })
                .build();
    }

    /** AveragePoolGrad(dY, X) with AveragePool's attributes: the gradient of AveragePool(X) given dY, shaped like X. */
    private static OpDef averagePoolGrad() {
        return poolGrad("AveragePoolGrad", Pooling.Kind.AVERAGE, (dy, x, p, ec) -> WindowGradients.averagePoolGrad(dy, x.shape(), p));
    }

    /**
     * MaxPoolGrad(dY, X) with MaxPool's attributes: the gradient of MaxPool(X) given dY, shaped
     * like X; each dY goes to the element MaxPool's Indices output would name.
     */
    private static OpDef maxPoolGrad() {
        return poolGrad("MaxPoolGrad", Pooling.Kind.MAX, WindowGradients::maxPoolGrad);
    }

    /** The kernel of a pooling gradient: dX from dY, X and the pooling's window. */
    @FunctionalInterface
    private interface PoolGradKernel {
        Tensor run(Tensor dy, Tensor x, Pooling.Params p, ExecContext ec);
    }

    /** {@code name}(dY, X), read with the attributes of a {@code kind} pooling, shaped like X. */
    private static OpDef poolGrad(String name, Pooling.Kind kind, PoolGradKernel kernel) {
        return OpDef.op(OpsetImports.ONNXRUN_DOMAIN, name).since(1).until(1).types(DTypes.FLOATS)
                .inputs(2, 2).outputs(1, 1)
                .infer(ctx -> List.of(ctx.inputType(1)))
                .cpu(ctx -> {
                    Pooling.Params p = PoolingDefs.params(ctx, kind);
                    return (in, ec) -> new Value[] {kernel.run((Tensor) in[0], (Tensor) in[1], p, ec)};
                })
                .build();
    }

    /** ReluGrad(dY, X): the gradient of Relu(X) given dY, {@code Where(Greater(X, 0), dY, 0)} in one pass. */
    private static OpDef reluGrad() {
        return OpDef.op(OpsetImports.ONNXRUN_DOMAIN, "ReluGrad").since(1).until(1).types(DTypes.FLOATS)
                .inputs(2, 2).outputs(1, 1)
                .infer(ctx -> List.of(ctx.inputType(1)))
                .cpu(ctx -> (in, ec) -> new Value[] {Elementwise.reluGrad((Tensor) in[0], (Tensor) in[1], ec)})
                .build();
    }

    /**
     * BatchNormalizationGrad(dY, X, scale) {epsilon}: the gradients dX, dScale, dBias of
     * BatchNormalization(X, scale, B, ...) in training mode, whose mean and variance are X's own
     * per-channel statistics.
     */
    private static OpDef batchNormTrainingGrad() {
        return OpDef.op(OpsetImports.ONNXRUN_DOMAIN, "BatchNormalizationGrad").since(1).until(1).types(DTypes.FLOATS)
                .inputs(3, 3).outputs(3, 3)
                .infer(ctx -> List.of(ctx.inputType(1), ctx.inputType(2), ctx.inputType(2)))
                .cpu(ctx -> {
                    double epsilon = ctx.attrs().getFloat("epsilon", 1e-5f);
                    return (in, ec) -> Normalization.batchNormTrainingGrad((Tensor) in[0], (Tensor) in[1], (Tensor) in[2], epsilon, ec);
                })
                .build();
    }
}
