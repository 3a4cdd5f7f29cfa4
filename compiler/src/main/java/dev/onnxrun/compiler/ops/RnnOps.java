package dev.onnxrun.compiler.ops;

import static dev.onnxrun.compiler.ops.TensorOps.tensor;

import dev.onnxrun.compiler.autodiff.GradientBuilder;
import dev.onnxrun.compiler.ir.Attribute;
import dev.onnxrun.compiler.ir.Attributes;
import dev.onnxrun.compiler.ir.Dim;
import dev.onnxrun.compiler.ir.OpsetImports;
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
import dev.onnxrun.runtime.kernels.RecurrentGradients;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Recurrent layers: RNN, GRU and LSTM, every opset version, and their gradients: each layer's
 * rule emits onnxrun's {@code RNNGrad}, {@code GRUGrad} or {@code LSTMGrad}, which recomputes
 * the forward pass and backpropagates through time ({@link RecurrentGradients}).
 */
public final class RnnOps {
    private RnnOps() {}

    /** Input positions shared by the three ops; LSTM adds initial_c and P. */
    private static final int X = 0, W = 1, R = 2, B = 3, SEQ_LENS = 4, INITIAL_H = 5, INITIAL_C = 6, PEEPHOLES = 7;

    public static List<OpDef> defs() {
        return List.of(layer("RNN", Cell.RNN), layer("GRU", Cell.GRU), layer("LSTM", Cell.LSTM),
                gradient("RNN", Cell.RNN), gradient("GRU", Cell.GRU), gradient("LSTM", Cell.LSTM));
    }

    /** How many inputs and outputs the layer may have. */
    private static int inputCount(Cell cell) { return cell == Cell.LSTM ? 8 : 6; }

    private static int outputCount(Cell cell) { return cell == Cell.LSTM ? 3 : 2; }

    /**
     * One registration covers opsets 1 to the latest: later versions only added the layout
     * attribute (14) and element types, and dropped the unused output_sequence attribute.
     */
    private static OpDef layer(String name, Cell cell) {
        return OpDef.onnx(name).since(1).types(DTypes.FLOATS)
                .inputs(3, inputCount(cell)).outputs(0, outputCount(cell))
                .infer(ctx -> infer(ctx, cell))
                .cpu(ctx -> lower(ctx, cell))
                .grad(g -> {
                    List<String> inputs = new ArrayList<>();
                    for (int i = 0; i < inputCount(cell); i++) inputs.add(g.x(i));
                    for (int i = 0; i < outputCount(cell); i++) inputs.add(g.dy(i));
                    // the gradient op reads layout at every version; before opset 14 the layer has none
                    Attribute[] attrs = g.node().attributes().values().stream()
                            .filter(a -> g.opset() >= 14 || !a.name().equals("layout")).toArray(Attribute[]::new);
                    List<String> d = g.ops(OpsetImports.ONNXRUN_DOMAIN, name + "Grad", inputs, cell == Cell.LSTM ? 7 : 5, attrs);
                    // in input order; sequence_lens has none
                    return cell == Cell.LSTM ? GradientBuilder.grads(d.get(0), d.get(1), d.get(2), d.get(3), null, d.get(4), d.get(5), d.get(6))
                            : GradientBuilder.grads(d.get(0), d.get(1), d.get(2), d.get(3), null, d.get(4));
                })
                .build();
    }

    /**
     * {@code dev.onnxrun.<name>Grad} with the layer's attributes: inputs are the layer's (every
     * position, omitted ones empty) followed by the gradients of its outputs (any may be
     * empty); outputs are dX, dW, dR, dB, d initial_h and, for LSTM, d initial_c and dP, each
     * shaped like its input, also where that input was omitted.
     */
    private static OpDef gradient(String name, Cell cell) {
        int inputs = inputCount(cell);
        return OpDef.op(OpsetImports.ONNXRUN_DOMAIN, name + "Grad").since(1).until(1).types(DTypes.FLOATS)
                .inputs(3, inputs + outputCount(cell)).outputs(cell == Cell.LSTM ? 7 : 5, cell == Cell.LSTM ? 7 : 5)
                .infer(ctx -> {
                    List<ValueType> forward = infer(ctx, cell);
                    if (ctx.inputDType(X) == null) return Collections.nCopies(cell == Cell.LSTM ? 7 : 5, ValueType.UNKNOWN);
                    DType dtype = ctx.inputDType(X);
                    TensorType w = ctx.tensorType(W);
                    Dim dirs = dimOf(w, 0), gateRows = dimOf(w, 1);
                    ValueType bias = new TensorType(dtype, List.of(dirs, gateRows instanceof Dim.Known k ? Dim.of(2 * k.size()) : Dim.UNKNOWN));
                    List<ValueType> out = new ArrayList<>(List.of(ctx.inputType(X), ctx.inputType(W), ctx.inputType(R), bias, forward.get(1)));
                    if (cell == Cell.LSTM) {
                        Dim hidden = ((TensorType) forward.get(1)).dims().get(2);
                        Dim peepholes = hidden instanceof Dim.Known k ? Dim.of(3 * k.size()) : Dim.UNKNOWN;
                        out.add(forward.get(2));
                        out.add(new TensorType(dtype, List.of(dirs, peepholes)));
                    }
                    return out;
                })
                .cpu(ctx -> {
                    Recurrent.Config cfg = config(ctx, cell);
                    boolean lstm = cell == Cell.LSTM;
                    return (in, ec) -> {
                        RecurrentGradients.Result r = RecurrentGradients.backward(cfg, tensor(in, X), tensor(in, W), tensor(in, R),
                                TensorOps.optional(in, B), TensorOps.optional(in, SEQ_LENS), TensorOps.optional(in, INITIAL_H),
                                lstm ? TensorOps.optional(in, INITIAL_C) : null, lstm ? TensorOps.optional(in, PEEPHOLES) : null,
                                TensorOps.optional(in, inputs), TensorOps.optional(in, inputs + 1),
                                lstm ? TensorOps.optional(in, inputs + 2) : null, ec.parallel());
                        return lstm ? new Value[] {r.dX(), r.dW(), r.dR(), r.dB(), r.dInitialH(), r.dInitialC(), r.dP()}
                                : new Value[] {r.dX(), r.dW(), r.dR(), r.dB(), r.dInitialH()};
                    };
                })
                .build();
    }

    /** The layout attribute, which the layers have from opset 14 and their gradient ops always. */
    private static long layout(NodeContext ctx) {
        boolean has = ctx.opset() >= 14 || ctx.node().domain().equals(OpsetImports.ONNXRUN_DOMAIN);
        return has ? ctx.attrs().getInt("layout", 0) : 0;
    }

    private static Recurrent.Config config(NodeContext ctx, Cell cell) {
        Attributes a = ctx.attrs();
        Direction direction = Direction.parse(a.getString("direction", "forward"));
        float clip = a.getFloat("clip", Float.POSITIVE_INFINITY);
        if (!(clip > 0)) throw ctx.error("clip must be positive, got " + clip);
        long layout = layout(ctx);
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
        RecurrentFloat.Weights prepared = constant ? ctx.packed(stored -> Recurrent.prepare(cfg, ctx.constantInput(W), ctx.constantInput(R),
                ctx.constantInput(B), lstm ? ctx.constantInput(PEEPHOLES) : null, stored)) : null;
        return (in, ec) -> {
            Recurrent.Result r = Recurrent.run(cfg, tensor(in, X), tensor(in, W), tensor(in, R), TensorOps.optional(in, B),
                    TensorOps.optional(in, SEQ_LENS), TensorOps.optional(in, INITIAL_H), lstm ? TensorOps.optional(in, INITIAL_C) : null,
                    lstm ? TensorOps.optional(in, PEEPHOLES) : null, prepared, ec);
            return lstm ? new Value[] {r.y(), r.yH(), r.yC()} : new Value[] {r.y(), r.yH()};
        };
    }

    /** Y [seq, dirs, batch, H] and states [dirs, batch, H], batch first under layout 1. */
    private static List<ValueType> infer(NodeContext ctx, Cell cell) {
        DType dtype = ctx.inputDType(X);
        int outputs = cell == Cell.LSTM ? 3 : 2;
        if (dtype == null) return Collections.nCopies(outputs, ValueType.UNKNOWN);
        Attributes a = ctx.attrs();
        boolean batchFirst = layout(ctx) == 1;
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
