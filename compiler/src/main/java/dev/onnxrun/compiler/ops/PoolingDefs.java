package dev.onnxrun.compiler.ops;

import static dev.onnxrun.compiler.ops.TensorOps.tensor;

import dev.onnxrun.compiler.ir.Dim;
import dev.onnxrun.compiler.ir.ValueType;
import dev.onnxrun.compiler.ir.ValueType.TensorType;
import dev.onnxrun.runtime.DType;
import dev.onnxrun.runtime.OnnxrunException;
import dev.onnxrun.runtime.Tensor;
import dev.onnxrun.runtime.Value;
import dev.onnxrun.runtime.kernels.Pooling;
import dev.onnxrun.runtime.kernels.RoiAlign;
import dev.onnxrun.runtime.kernels.Windows;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;

/** Windowed pooling (MaxPool, AveragePool, LpPool), global pooling, MaxUnpool and RoiAlign. */
final class PoolingDefs {
    private PoolingDefs() {}

    static List<OpDef> defs() {
        return List.of(
                OpDef.onnx("MaxPool").types(DTypes.union(DTypes.FLOATS, EnumSet.of(DType.INT8, DType.UINT8))).inputs(1, 1).outputs(1, 2)
                        .infer(ctx -> infer(ctx, Pooling.Kind.MAX)).cpu(ctx -> lower(ctx, Pooling.Kind.MAX)).build(),
                OpDef.onnx("AveragePool").types(DTypes.FLOATS).inputs(1, 1).outputs(1, 1)
                        .infer(ctx -> infer(ctx, Pooling.Kind.AVERAGE)).cpu(ctx -> lower(ctx, Pooling.Kind.AVERAGE)).build(),
                OpDef.onnx("LpPool").types(DTypes.FLOATS).inputs(1, 1).outputs(1, 1)
                        .infer(ctx -> infer(ctx, Pooling.Kind.LP)).cpu(ctx -> lower(ctx, Pooling.Kind.LP)).build(),
                global("GlobalAveragePool", Pooling.Kind.AVERAGE),
                global("GlobalMaxPool", Pooling.Kind.MAX),
                global("GlobalLpPool", Pooling.Kind.LP),
                OpDef.onnx("MaxUnpool").since(9).types(DTypes.FLOATS).inputs(2, 3).outputs(1, 1).infer(PoolingDefs::inferUnpool)
                        .cpu(ctx -> {
                            Pooling.Params p = params(ctx, Pooling.Kind.MAX);
                            return (in, ec) -> {
                                Tensor shape = TensorOps.optional(in, 2);
                                return new Value[] {Pooling.maxUnpool(tensor(in, 0), tensor(in, 1),
                                        shape == null ? null : shape.toLongArray(), p)};
                            };
                        }).build(),
                OpDef.onnx("RoiAlign").since(10).types(DTypes.FLOATS).inputs(3, 3).outputs(1, 1).infer(PoolingDefs::inferRoiAlign)
                        .cpu(ctx -> {
                            var a = ctx.attrs();
                            String mode = a.getString("mode", "avg");
                            if (!mode.equals("avg") && !mode.equals("max")) throw ctx.error("unsupported mode '" + mode + "'");
                            // Opset 10 had no half-pixel offset; opset 16 added the attribute with half_pixel as default.
                            String transform = ctx.opset() < 16 ? "output_half_pixel" : a.getString("coordinate_transformation_mode", "half_pixel");
                            if (!transform.equals("half_pixel") && !transform.equals("output_half_pixel")) {
                                throw ctx.error("unsupported coordinate_transformation_mode '" + transform + "'");
                            }
                            RoiAlign.Params p = new RoiAlign.Params(mode.equals("max"), a.getInt("output_height", 1), a.getInt("output_width", 1),
                                    a.getInt("sampling_ratio", 0), a.getFloat("spatial_scale", 1f), transform.equals("half_pixel"));
                            if (p.outputHeight() < 1 || p.outputWidth() < 1) throw ctx.error("output_height and output_width must be positive");
                            return (in, ec) -> new Value[] {RoiAlign.roiAlign(tensor(in, 0), tensor(in, 1), tensor(in, 2), p)};
                        }).build());
    }

    private static List<ValueType> inferRoiAlign(NodeContext ctx) {
        DType dtype = ctx.inputDType(0);
        if (dtype == null) return List.of(ValueType.UNKNOWN);
        return List.of(new TensorType(dtype, List.of(NnOps.dim(ctx.tensorType(1), 0), NnOps.dim(ctx.tensorType(0), 1),
                Dim.of(ctx.attrs().getInt("output_height", 1)),
                Dim.of(ctx.attrs().getInt("output_width", 1)))));
    }

    private static OpDef global(String name, Pooling.Kind kind) {
        return OpDef.onnx(name).types(DTypes.FLOATS).inputs(1, 1).outputs(1, 1)
                .infer(ctx -> {
                    TensorType x = ctx.tensorType(0);
                    if (x == null || !x.hasRank()) return List.of(TypeRules.unknownShape(ctx.inputDType(0)));
                    List<Dim> dims = new ArrayList<>(x.dims());
                    for (int i = 2; i < dims.size(); i++) dims.set(i, Dim.of(1));
                    return List.of(new TensorType(x.dtype(), dims));
                })
                .cpu(ctx -> {
                    double p = pNorm(ctx);
                    return (in, ec) -> new Value[] {Pooling.global(tensor(in, 0), kind, p, ec)};
                }).build();
    }

    /** The p of Lp pooling: a float attribute in opset 1, an int since. */
    private static double pNorm(NodeContext ctx) {
        Number p = NnOps.numberAttr(ctx, "p");
        return p == null ? 2 : p.doubleValue();
    }

    static Pooling.Params params(NodeContext ctx, Pooling.Kind kind) {
        var a = ctx.attrs();
        long[] kernel = a.getInts("kernel_shape");
        if (kernel == null) throw ctx.error("missing required attribute 'kernel_shape'");
        return new Pooling.Params(kernel, a.getInts("strides"), a.getInts("dilations"), a.getInts("pads"),
                Windows.AutoPad.parse(a.getString("auto_pad", "NOTSET")), a.getInt("ceil_mode", 0) != 0,
                a.getInt("count_include_pad", 0) != 0, kind == Pooling.Kind.LP ? pNorm(ctx) : 2,
                a.getInt("storage_order", 0) != 0);
    }

    private static dev.onnxrun.runtime.Kernel lower(NodeContext ctx, Pooling.Kind kind) {
        Pooling.Params p = params(ctx, kind);
        boolean indices = kind == Pooling.Kind.MAX && ctx.hasOutput(1);
        return (in, ec) -> Pooling.pool(tensor(in, 0), kind, p, indices, ec);
    }

    private static List<ValueType> infer(NodeContext ctx, Pooling.Kind kind) {
        TensorType x = ctx.tensorType(0);
        DType dtype = ctx.inputDType(0);
        long[] xs = NnOps.spatialDims(x);
        long[] spatial = null;
        if (xs != null) {
            long[] shape = new long[xs.length + 2];
            System.arraycopy(xs, 0, shape, 2, xs.length);
            try {
                spatial = Pooling.geometry(shape, params(ctx, kind)).out();
            } catch (OnnxrunException e) {
                spatial = null; // reported with context when the node runs
            }
        }
        ValueType y = NnOps.spatialResult(dtype, x, NnOps.dim(x, 0), NnOps.dim(x, 1), spatial);
        if (ctx.outputCount() < 2) return List.of(y);
        ValueType idx = y instanceof TensorType t ? new TensorType(DType.INT64, t.dims()) : TensorType.unknownShape(DType.INT64);
        return List.of(y, idx);
    }

    private static List<ValueType> inferUnpool(NodeContext ctx) {
        TensorType x = ctx.tensorType(0);
        DType dtype = ctx.inputDType(0);
        if (x == null || !x.hasRank() || ctx.hasInput(2)) return List.of(TypeRules.unknownShape(dtype));
        long[] xs = NnOps.spatialDims(x);
        long[] spatial = null;
        if (xs != null) {
            Pooling.Params p = params(ctx, Pooling.Kind.MAX);
            int n = xs.length;
            try {
                long[] strides = Windows.orFill(p.strides(), n, 1, "strides"), pads = Windows.orFill(p.pads(), 2 * n, 0, "pads");
                long[] kernel = Windows.orFill(p.kernelShape(), n, 1, "kernel_shape");
                spatial = new long[n];
                for (int d = 0; d < n; d++) spatial[d] = (xs[d] - 1) * strides[d] + kernel[d] - pads[d] - pads[d + n];
            } catch (OnnxrunException e) {
                spatial = null; // reported with context when the node runs
            }
        }
        return List.of(NnOps.spatialResult(dtype, x, NnOps.dim(x, 0), NnOps.dim(x, 1), spatial));
    }
}
