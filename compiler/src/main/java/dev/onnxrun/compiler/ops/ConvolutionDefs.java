package dev.onnxrun.compiler.ops;

import static dev.onnxrun.compiler.ops.TensorOps.tensor;

import dev.onnxrun.compiler.ir.Attributes;
import dev.onnxrun.compiler.ir.Dim;
import dev.onnxrun.compiler.ir.ValueType;
import dev.onnxrun.compiler.ir.ValueType.TensorType;
import dev.onnxrun.runtime.DType;
import dev.onnxrun.runtime.OnnxrunException;
import dev.onnxrun.runtime.Tensor;
import dev.onnxrun.runtime.Value;
import dev.onnxrun.runtime.kernels.Activation;
import dev.onnxrun.runtime.kernels.Conv;
import dev.onnxrun.runtime.kernels.Windows;
import java.util.List;

/** Conv and ConvTranspose: N-D, grouped, dilated, strided, with explicit or automatic padding. */
public final class ConvolutionDefs {
    private ConvolutionDefs() {}

    static List<OpDef> defs() {
        return List.of(
                OpDef.onnx("Conv").types(DTypes.FLOATS).inputs(2, 3).outputs(1, 1).infer(ctx -> infer(ctx, false))
                        .cpu(ctx -> {
                            Conv.Params p = params(ctx);
                            Conv.PackedWeights packed = packed(ctx, p);
                            return (in, ec) -> new Value[] {Conv.conv(tensor(in, 0), tensor(in, 1), packed, TensorOps.optional(in, 2), null,
                                    Activation.NONE, p, ec)};
                        }).build(),
                OpDef.onnx("ConvTranspose").types(DTypes.FLOATS).inputs(2, 3).outputs(1, 1).infer(ctx -> infer(ctx, true))
                        .cpu(ctx -> {
                            Conv.Params p = params(ctx);
                            return (in, ec) -> new Value[] {Conv.convTranspose(tensor(in, 0), tensor(in, 1), TensorOps.optional(in, 2), p, ec.parallel())};
                        }).build());
    }

    /** W packed for the convolution of X's static shape (when known), or null when W is not a constant. */
    static Conv.PackedWeights packed(NodeContext ctx, Conv.Params p) {
        Tensor w = ctx.constantInput(1);
        return w == null ? null : ctx.packed(stored -> Conv.pack(w, p, ctx.staticShape(0), stored));
    }

    static Conv.Params params(NodeContext ctx) {
        long group = ctx.attrs().getInt("group", 1);
        if (group < 1 || group > Integer.MAX_VALUE) throw ctx.error("group must be in [1, 2^31), got " + group);
        return params(ctx.attrs());
    }

    /** A Conv node's window attributes (the group unchecked). */
    public static Conv.Params params(Attributes a) {
        long group = a.getInt("group", 1);
        return new Conv.Params(a.getInts("kernel_shape"), a.getInts("strides"), a.getInts("dilations"), a.getInts("pads"),
                Windows.AutoPad.parse(a.getString("auto_pad", "NOTSET")), group, a.getInts("output_padding"), a.getInts("output_shape"));
    }

    static List<ValueType> infer(NodeContext ctx, boolean transposed) {
        TensorType x = ctx.tensorType(0), w = ctx.tensorType(1);
        var dtype = x != null ? x.dtype() : w != null ? w.dtype() : null;
        long group = ctx.attrs().getInt("group", 1);
        Dim wd1 = NnOps.dim(w, 1);
        Dim channels = !transposed ? NnOps.dim(w, 0)
                : wd1 instanceof Dim.Known k ? Dim.of(k.size() * group) : Dim.UNKNOWN;
        long[] spatial = null;
        long[] xs = NnOps.spatialDims(x);
        long[] ws = NnOps.spatialDims(w);
        Conv.Params p = params(ctx);
        if (xs != null && (ws != null || p.kernelShape() != null)) {
            long[] xShape = new long[xs.length + 2], wShape = new long[xs.length + 2];
            System.arraycopy(xs, 0, xShape, 2, xs.length);
            if (ws != null && ws.length == xs.length) System.arraycopy(ws, 0, wShape, 2, ws.length);
            try {
                spatial = (transposed ? Conv.transposeGeometry(xShape, wShape, p) : Conv.convGeometry(xShape, wShape, p)).out();
            } catch (OnnxrunException e) {
                spatial = null; // reported with context when the node runs
            }
        }
        return List.of(NnOps.spatialResult(dtype, x, NnOps.dim(x, 0), channels, spatial));
    }
}
