package dev.onnxrun.compiler.ops;

import static dev.onnxrun.compiler.ops.TensorOps.tensor;

import dev.onnxrun.compiler.ir.Dim;
import dev.onnxrun.compiler.ir.ValueType;
import dev.onnxrun.compiler.ir.ValueType.TensorType;
import dev.onnxrun.runtime.DType;
import dev.onnxrun.runtime.OnnxrunException;
import dev.onnxrun.runtime.Value;
import dev.onnxrun.runtime.kernels.Activation;
import dev.onnxrun.runtime.kernels.Blocked;
import dev.onnxrun.runtime.kernels.BlockedConv;
import dev.onnxrun.runtime.kernels.Conv;
import dev.onnxrun.runtime.kernels.Pooling;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;

/**
 * onnxrun's ops on channel-blocked float32 tensors ({@link Blocked}: [N, C, H, W] held as
 * [N, ⌈C/B⌉, H, W, B]), made by the BlockChannels pass: a convolution that writes the layout, the
 * pools that keep it, and the way back to plain. Each blocked value's shape says it is blocked
 * (one axis more than its plain form, the last one B).
 */
final class BlockedOps {
    private BlockedOps() {}

    static final String DOMAIN = FusedOps.DOMAIN;

    static List<OpDef> defs() {
        return List.of(
                // act(conv(X, W) + B + R) as FusedConv, one group, 2-D: X plain [N, C, H, W] or blocked (rank 5); Y and R blocked
                OpDef.op(DOMAIN, "BlockedConv").until(1).types(EnumSet.of(DType.FLOAT)).inputs(2, 4).outputs(1, 1)
                        .infer(BlockedOps::inferConv)
                        .cpu(ctx -> {
                            Conv.Params p = ConvolutionDefs.params(ctx);
                            Activation act = FusedOps.activation(ctx);
                            var w = ctx.constantInput(1);
                            BlockedConv.Weights packed = w == null ? null : ctx.packed(stored -> BlockedConv.pack(w, stored));
                            return (in, ec) -> {
                                var x = tensor(in, 0);
                                return new Value[] {BlockedConv.conv(x, x.rank() == 5, tensor(in, 1), packed, TensorOps.optional(in, 2),
                                        TensorOps.optional(in, 3), act, p, ec)};
                            };
                        }).build(),
                // MaxPool, AveragePool, GlobalAveragePool or GlobalMaxPool (attribute pool) of blocked X, blocked
                OpDef.op(DOMAIN, "BlockedPool").until(1).types(EnumSet.of(DType.FLOAT)).inputs(1, 1).outputs(1, 1)
                        .infer(BlockedOps::inferPool)
                        .cpu(ctx -> {
                            boolean global = global(ctx); // checks the pool's name
                            Pooling.Kind kind = ctx.attrs().getString("pool", "").contains("Max") ? Pooling.Kind.MAX : Pooling.Kind.AVERAGE;
                            if (global) return (in, ec) -> new Value[] {Blocked.global(tensor(in, 0), kind, ec)};
                            Pooling.Params p = PoolingDefs.params(ctx, kind);
                            return (in, ec) -> new Value[] {Blocked.pool(tensor(in, 0), kind, p, ec)};
                        }).build(),
                // blocked X of `channels` channels as plain [N, C, spatial...]
                OpDef.op(DOMAIN, "Unblock").until(1).types(EnumSet.of(DType.FLOAT)).inputs(1, 1).outputs(1, 1)
                        .infer(ctx -> {
                            TensorType x = ctx.tensorType(0);
                            if (x == null || !x.hasRank() || x.rank() < 3) return List.of(TensorType.unknownShape(DType.FLOAT));
                            List<Dim> dims = new ArrayList<>(x.dims().subList(0, x.rank() - 1));
                            dims.set(1, Dim.of(channels(ctx)));
                            return List.of(new TensorType(DType.FLOAT, dims));
                        })
                        .cpu(ctx -> {
                            long channels = channels(ctx);
                            return (in, ec) -> new Value[] {Blocked.unblock(tensor(in, 0), channels, ec)};
                        }).build());
    }

    private static long channels(NodeContext ctx) {
        long c = ctx.attrs().getInt("channels", -1);
        if (c < 1) throw ctx.error("attribute 'channels' must be positive, got " + c);
        return c;
    }

    private static boolean global(NodeContext ctx) {
        String pool = ctx.attrs().getString("pool", "");
        return switch (pool) {
            case "MaxPool", "AveragePool" -> false;
            case "GlobalMaxPool", "GlobalAveragePool" -> true;
            default -> throw ctx.error("attribute 'pool' must name MaxPool, AveragePool, GlobalMaxPool or GlobalAveragePool, got '" + pool + "'");
        };
    }

    /** [N, ⌈F/B⌉, OH, OW, B], from X's plain or blocked shape and W's. */
    private static List<ValueType> inferConv(NodeContext ctx) {
        TensorType x = ctx.tensorType(0), w = ctx.tensorType(1);
        long[] ws = w == null ? null : ctx.staticShape(1);
        if (x == null || !x.hasRank() || ws == null || ws.length != 4) return List.of(TensorType.unknownShape(DType.FLOAT));
        long[] spatial = NnOps.spatialDims(x);
        Dim oh = Dim.UNKNOWN, ow = Dim.UNKNOWN;
        if (spatial != null) {
            try {
                long[] out = Conv.convGeometry(new long[] {1, ws[1], spatial[0], spatial[1]}, ws, ConvolutionDefs.params(ctx)).out();
                oh = Dim.of(out[0]);
                ow = Dim.of(out[1]);
            } catch (OnnxrunException e) {
                // reported with context when the node runs
            }
        }
        return List.of(new TensorType(DType.FLOAT, List.of(NnOps.dim(x, 0), Dim.of(Blocked.blocks(ws[0])), oh, ow, Dim.of(Blocked.BLOCK))));
    }

    /** Blocked [N, Cb, OH, OW, B]: the pool's output sizes, or 1 × 1 for the global pools. */
    private static List<ValueType> inferPool(NodeContext ctx) {
        TensorType x = ctx.tensorType(0);
        if (x == null || !x.hasRank() || x.rank() != 5) return List.of(TensorType.unknownShape(DType.FLOAT));
        Dim oh = Dim.of(1), ow = Dim.of(1);
        if (!global(ctx)) {
            long h = x.dims().get(2).sizeOrMinus1(), w = x.dims().get(3).sizeOrMinus1();
            oh = ow = Dim.UNKNOWN;
            if (h >= 0 && w >= 0) {
                try {
                    long[] out = Pooling.geometry(new long[] {1, 1, h, w}, PoolingDefs.params(ctx, Pooling.Kind.MAX)).out();
                    oh = Dim.of(out[0]);
                    ow = Dim.of(out[1]);
                } catch (OnnxrunException e) {
                    // reported with context when the node runs
                }
            }
        }
        return List.of(new TensorType(DType.FLOAT, List.of(x.dims().get(0), x.dims().get(1), oh, ow, x.dims().get(4))));
    }
}
