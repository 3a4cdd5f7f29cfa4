package dev.onnxrun.compiler.ops;

import static dev.onnxrun.compiler.ops.TensorOps.tensor;

import dev.onnxrun.compiler.ir.Attributes;
import dev.onnxrun.compiler.ir.Dim;
import dev.onnxrun.compiler.ir.ValueType;
import dev.onnxrun.compiler.ir.ValueType.TensorType;
import dev.onnxrun.runtime.DType;
import dev.onnxrun.runtime.Kernel;
import dev.onnxrun.runtime.Tensor;
import dev.onnxrun.runtime.Value;
import dev.onnxrun.runtime.kernels.Recurrent;
import dev.onnxrun.runtime.kernels.Recurrent.Activation;
import dev.onnxrun.runtime.kernels.Recurrent.ActivationKind;
import dev.onnxrun.runtime.kernels.Recurrent.Cell;
import dev.onnxrun.runtime.kernels.Recurrent.Direction;
import dev.onnxrun.runtime.kernels.RecurrentFloat;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** Recurrent layers: RNN, GRU and LSTM, every opset version. */
public final class RnnOps {
    private RnnOps() {}

    /** Input positions shared by the three ops; LSTM adds initial_c and P. */
    private static final int X = 0, W = 1, R = 2, B = 3, SEQ_LENS = 4, INITIAL_H = 5, INITIAL_C = 6, PEEPHOLES = 7;

    public static List<OpDef> defs() {
        return List.of(layer("RNN", Cell.RNN), layer("GRU", Cell.GRU), layer("LSTM", Cell.LSTM));
    }

    /**
     * One registration covers opsets 1 to the latest: later versions only added the layout
     * attribute (14) and element types, and dropped the unused output_sequence attribute.
     */
    private static OpDef layer(String name, Cell cell) {
        return OpDef.onnx(name).since(1).types(DTypes.FLOATS)
                .inputs(3, cell == Cell.LSTM ? 8 : 6).outputs(0, cell == Cell.LSTM ? 3 : 2)
                .infer(ctx -> infer(ctx, cell))
                .cpu(ctx -> lower(ctx, cell))
                .build();
    }

    private static Recurrent.Config config(NodeContext ctx, Cell cell) {
        Attributes a = ctx.attrs();
        Direction direction = Direction.parse(a.getString("direction", "forward"));
        float clip = a.getFloat("clip", Float.POSITIVE_INFINITY);
        if (!(clip > 0)) throw ctx.error("clip must be positive, got " + clip);
        long layout = ctx.opset() >= 14 ? a.getInt("layout", 0) : 0;
        if (layout != 0 && layout != 1) throw ctx.error("layout must be 0 or 1, got " + layout);
        long hiddenSize = a.getInt("hidden_size", -1);
        if (a.has("hidden_size") && hiddenSize < 1) throw ctx.error("hidden_size must be positive, got " + hiddenSize);
        return new Recurrent.Config(cell, direction, activations(ctx, cell, direction), clip, hiddenSize, cell == Cell.LSTM && a.getInt("input_forget", 0) != 0,
                cell == Cell.GRU && a.getInt("linear_before_reset", 0) != 0, layout == 1);
    }

    /**
     * The activation functions of every direction. alpha and beta values are consumed in order by
     * the functions that take them; a function left without one gets its default.
     */
    private static Activation[] activations(NodeContext ctx, Cell cell, Direction direction) {
        int perDirection = cell.activationsPerDirection();
        List<String> names = ctx.attrs().getStrings("activations");
        if (names == null) {
            List<Activation> out = new ArrayList<>();
            for (int d = 0; d < direction.count(); d++) out.addAll(List.of(cell.defaultActivations()));
            return out.toArray(Activation[]::new);
        }
        if (names.size() == perDirection && direction.count() == 2) {
            List<String> both = new ArrayList<>(names);
            both.addAll(names);
            names = both;
        }
        if (names.size() != perDirection * direction.count()) {
            throw ctx.error(names.size() + " activations given, expected " + perDirection * direction.count());
        }
        float[] alphas = ctx.attrs().getFloats("activation_alpha");
        float[] betas = ctx.attrs().getFloats("activation_beta");
        int nextAlpha = 0, nextBeta = 0;
        Activation[] out = new Activation[names.size()];
        for (int i = 0; i < out.length; i++) {
            ActivationKind kind = ActivationKind.parse(names.get(i));
            double alpha = kind.defaultAlpha(), beta = kind.defaultBeta();
            if (kind.usesAlpha() && alphas != null && nextAlpha < alphas.length) alpha = alphas[nextAlpha++];
            if (kind.usesBeta() && betas != null && nextBeta < betas.length) beta = betas[nextBeta++];
            out[i] = new Activation(kind, alpha, beta);
        }
        return out;
    }

    private static Kernel lower(NodeContext ctx, Cell cell) {
        Recurrent.Config cfg = config(ctx, cell);
        boolean lstm = cell == Cell.LSTM;
        // Constant weights (the usual case) are transposed and packed once, here.
        boolean constant = ctx.constantInput(W) != null && ctx.constantInput(R) != null
                && (!ctx.hasInput(B) || ctx.constantInput(B) != null) && (!lstm || !ctx.hasInput(PEEPHOLES) || ctx.constantInput(PEEPHOLES) != null);
        RecurrentFloat.Weights prepared = constant ? Recurrent.prepare(cfg, ctx.constantInput(W), ctx.constantInput(R),
                ctx.constantInput(B), lstm ? ctx.constantInput(PEEPHOLES) : null) : null;
        return (in, ec) -> {
            Recurrent.Result r = Recurrent.run(cfg, tensor(in, X), tensor(in, W), tensor(in, R), TensorOps.optional(in, B),
                    TensorOps.optional(in, SEQ_LENS), TensorOps.optional(in, INITIAL_H), lstm ? TensorOps.optional(in, INITIAL_C) : null,
                    lstm ? TensorOps.optional(in, PEEPHOLES) : null, prepared, ec.parallel());
            return lstm ? new Value[] {r.y(), r.yH(), r.yC()} : new Value[] {r.y(), r.yH()};
        };
    }

    /** Y [seq, dirs, batch, H] and states [dirs, batch, H], batch first under layout 1. */
    private static List<ValueType> infer(NodeContext ctx, Cell cell) {
        DType dtype = ctx.inputDType(X);
        int outputs = cell == Cell.LSTM ? 3 : 2;
        if (dtype == null) return Collections.nCopies(outputs, ValueType.UNKNOWN);
        Attributes a = ctx.attrs();
        boolean batchFirst = ctx.opset() >= 14 && a.getInt("layout", 0) == 1;
        Dim dirs = Dim.of(Direction.parse(a.getString("direction", "forward")).count());
        long hiddenSize = a.getInt("hidden_size", -1);
        Dim hidden = hiddenSize > 0 ? Dim.of(hiddenSize) : dimOf(ctx.tensorType(R), 2);
        TensorType x = ctx.tensorType(X);
        Dim seq = dimOf(x, batchFirst ? 1 : 0), batch = dimOf(x, batchFirst ? 0 : 1);
        ValueType y = new TensorType(dtype, batchFirst ? List.of(batch, seq, dirs, hidden) : List.of(seq, dirs, batch, hidden));
        ValueType state = new TensorType(dtype, batchFirst ? List.of(batch, dirs, hidden) : List.of(dirs, batch, hidden));
        return cell == Cell.LSTM ? List.of(y, state, state) : List.of(y, state);
    }

    private static Dim dimOf(TensorType t, int axis) {
        return t != null && t.hasRank() && t.rank() > axis ? t.dims().get(axis) : Dim.UNKNOWN;
    }
}
