package dev.onnxrun.compiler.ops;

import static dev.onnxrun.compiler.ops.TensorOps.tensor;

import dev.onnxrun.compiler.ir.Dim;
import dev.onnxrun.compiler.ir.ValueType;
import dev.onnxrun.compiler.ir.ValueType.TensorType;
import dev.onnxrun.runtime.DType;
import dev.onnxrun.runtime.OnnxrunException;
import dev.onnxrun.runtime.Shapes;
import dev.onnxrun.runtime.Tensor;
import dev.onnxrun.runtime.Value;
import dev.onnxrun.runtime.kernels.Normalization;
import java.util.ArrayList;
import java.util.List;

/** BatchNormalization, LayerNormalization, InstanceNormalization, GroupNormalization and LRN. */
final class NormalizationDefs {
    private NormalizationDefs() {}

    static List<OpDef> defs() {
        return List.of(
                OpDef.onnx("BatchNormalization").types(DTypes.FLOATS).inputs(5, 5).outputs(1, 5).infer(NormalizationDefs::inferBatchNorm)
                        .cpu(NormalizationDefs::lowerBatchNorm).build(),
                OpDef.onnx("LayerNormalization").since(17).types(DTypes.FLOATS).inputs(2, 3).outputs(1, 3).infer(NormalizationDefs::inferLayerNorm)
                        .cpu(ctx -> {
                            long axis = ctx.attrs().getInt("axis", -1);
                            double eps = ctx.attrs().getFloat("epsilon", 1e-5f);
                            DType stash = DType.fromOnnx((int) ctx.attrs().getInt("stash_type", 1));
                            return (in, ec) -> Normalization.layerNorm(tensor(in, 0), tensor(in, 1), TensorOps.optional(in, 2), axis, eps,
                                    stash, ec);
                        }).build(),
                OpDef.onnx("InstanceNormalization").types(DTypes.FLOATS).inputs(3, 3).outputs(1, 1).infer(TypeRules.sameAsInput(0))
                        .cpu(ctx -> {
                            double eps = ctx.attrs().getFloat("epsilon", 1e-5f);
                            return (in, ec) -> {
                                Tensor x = tensor(in, 0);
                                long channels = x.rank() >= 2 ? x.dim(1) : 1;
                                return new Value[] {Normalization.groupNorm(x, tensor(in, 1), tensor(in, 2), channels, eps, false,
                                        ec.parallel())};
                            };
                        }).build(),
                OpDef.onnx("GroupNormalization").since(18).types(DTypes.FLOATS).inputs(3, 3).outputs(1, 1).infer(TypeRules.sameAsInput(0))
                        .cpu(ctx -> {
                            long groups = ctx.attrs().getInt("num_groups");
                            double eps = ctx.attrs().getFloat("epsilon", 1e-5f);
                            // Opset 18 takes scale and bias per group; opset 21 per channel.
                            boolean perGroup = ctx.opset() < 21;
                            return (in, ec) -> new Value[] {Normalization.groupNorm(tensor(in, 0), tensor(in, 1), tensor(in, 2),
                                    groups, eps, perGroup, ec.parallel())};
                        }).build(),
                OpDef.onnx("LRN").types(DTypes.FLOATS).inputs(1, 1).outputs(1, 1).infer(TypeRules.sameAsInput(0))
                        .cpu(ctx -> {
                            long size = ctx.attrs().getInt("size");
                            double alpha = ctx.attrs().getFloat("alpha", 1e-4f), beta = ctx.attrs().getFloat("beta", 0.75f);
                            double bias = ctx.attrs().getFloat("bias", 1f);
                            return (in, ec) -> new Value[] {Normalization.lrn(tensor(in, 0), size, alpha, beta, bias)};
                        }).build());
    }

    /** Training mode: opset 14's attribute; earlier, asking for the statistics outputs. */
    static boolean training(NodeContext ctx) {
        if (ctx.opset() >= 14) return ctx.attrs().getInt("training_mode", 0) != 0;
        return ctx.hasOutput(1) && ctx.attrs().getInt("is_test", 0) == 0;
    }

    private static List<ValueType> inferBatchNorm(NodeContext ctx) {
        List<ValueType> out = new ArrayList<>();
        out.add(ctx.inputType(0));
        for (int i = 1; i < ctx.outputCount(); i++) out.add(i <= 2 ? ctx.inputType(i + 2) : ctx.inputType(1));
        return out;
    }

    private static dev.onnxrun.runtime.Kernel lowerBatchNorm(NodeContext ctx) {
        double eps = ctx.attrs().getFloat("epsilon", 1e-5f);
        double momentum = ctx.attrs().getFloat("momentum", 0.9f);
        if (training(ctx)) {
            if (ctx.opset() < 14) {
                throw OnnxrunException.unsupported(ctx.node().describe()
                        + ": BatchNormalization training outputs are supported from opset 14 on");
            }
            return (in, ec) -> Normalization.batchNormTraining(tensor(in, 0), tensor(in, 1), tensor(in, 2), tensor(in, 3),
                    tensor(in, 4), eps, momentum, ec);
        }
        return (in, ec) -> new Value[] {Normalization.batchNorm(tensor(in, 0), tensor(in, 1), tensor(in, 2), tensor(in, 3),
                tensor(in, 4), eps, ec)};
    }

    private static List<ValueType> inferLayerNorm(NodeContext ctx) {
        TensorType x = ctx.tensorType(0);
        DType dtype = ctx.inputDType(0);
        // Mean and InvStdDev have the stash type (float by default), whatever X's type.
        DType stats = dtype == null ? null : DType.fromOnnx((int) ctx.attrs().getInt("stash_type", 1));
        List<ValueType> out = new ArrayList<>();
        out.add(ctx.inputType(0));
        ValueType statType = TypeRules.unknownShape(stats);
        if (x != null && x.hasRank() && stats != null) {
            int axis = Shapes.axis(ctx.attrs().getInt("axis", -1), x.rank());
            List<Dim> dims = new ArrayList<>(x.dims());
            for (int i = axis; i < dims.size(); i++) dims.set(i, Dim.of(1));
            statType = new TensorType(stats, dims);
        }
        for (int i = 1; i < ctx.outputCount(); i++) out.add(statType);
        return out;
    }
}
