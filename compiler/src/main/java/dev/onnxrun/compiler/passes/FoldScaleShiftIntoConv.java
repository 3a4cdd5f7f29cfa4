package dev.onnxrun.compiler.passes;

import dev.onnxrun.compiler.ir.Attribute;
import dev.onnxrun.compiler.ir.Graph;
import dev.onnxrun.compiler.ir.Node;
import dev.onnxrun.compiler.ir.OpsetImports;
import dev.onnxrun.runtime.DType;
import dev.onnxrun.runtime.Tensor;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Mul(Conv(x, W, b), k) ⇒ Conv(x, W·k, b·k) and Add(Conv(x, W, b), c) ⇒ Conv(x, W, b + c),
 * for k and c constant per output channel; likewise for ConvTranspose and for Gemm (per column).
 * With {@link BatchNormToScaleShift} this folds BatchNormalization into the layer before it,
 * and also catches the Conv → Mul patterns of PyTorch exports.
 *
 * <p>Guards: the layer's output has one reader and is not a graph output; its weights, bias and
 * k or c are constants of the layer's element type; k and c hold one value per output channel
 * (or one value in all).
 */
public final class FoldScaleShiftIntoConv implements Pass {
    @Override
    public String name() { return "fold-scale-shift"; }

    @Override
    public Graph run(Graph g, OpsetImports opsets) {
        Map<String, Integer> uses = GraphEdits.useCounts(g);
        Set<String> inputs = GraphEdits.inputNames(g);
        Map<String, Node> producers = new HashMap<>();
        for (Node n : g.nodes()) for (String o : n.outputs()) producers.put(o, n);
        Map<String, Tensor> inits = new LinkedHashMap<>(g.initializers());
        Map<Node, Node> replaced = new HashMap<>();
        List<Node> dropped = new ArrayList<>();
        for (Node n : g.nodes()) {
            if (!n.domain().isEmpty() || !(n.opType().equals("Mul") || n.opType().equals("Add"))) continue;
            for (int side = 0; side < 2; side++) {
                Node layer = producers.get(n.inputs().get(side));
                String constName = n.inputs().get(1 - side);
                Tensor k = inputs.contains(constName) ? null : inits.get(constName);
                if (layer == null || k == null || replaced.containsKey(layer) || dropped.contains(layer)) continue;
                if (uses.getOrDefault(layer.outputs().getFirst(), 0) != 1 || layer.outputs().size() != 1) continue;
                Node folded = fold(layer, k, n.opType().equals("Mul"), n.outputs().getFirst(), g, inputs, inits);
                if (folded == null) continue;
                replaced.put(n, folded);
                dropped.add(layer);
                break;
            }
        }
        if (replaced.isEmpty()) return g;
        List<Node> out = new ArrayList<>();
        for (Node n : g.nodes()) {
            if (dropped.contains(n)) continue;
            out.add(replaced.getOrDefault(n, n));
        }
        return new Graph(g.name(), g.inputs(), g.outputs(), inits, out, g.valueTypes());
    }

    /** The layer rewritten to produce {@code output} directly, or null when a guard fails. */
    private static Node fold(Node layer, Tensor k, boolean multiply, String output, Graph g, Set<String> inputs, Map<String, Tensor> inits) {
        if (!layer.domain().isEmpty()) return null;
        String op = layer.opType();
        if (!op.equals("Conv") && !op.equals("ConvTranspose") && !op.equals("Gemm")) return null;
        Tensor w = constant(layer.inputs().get(1), inputs, inits);
        if (w == null || w.dtype() != k.dtype() || !w.dtype().isFloatingPoint()) return null;
        boolean hasBias = layer.inputs().size() > 2 && !layer.inputs().get(2).isEmpty();
        Tensor b = hasBias ? constant(layer.inputs().get(2), inputs, inits) : null;
        if (hasBias && (b == null || b.dtype() != w.dtype())) return null;
        Layout layout = Layout.of(layer, w);
        if (layout == null) return null;
        long channels = layout.channels();
        if (!perChannel(k, channels, layout.outputRank(), op.equals("Gemm"))) return null;
        if (b != null && b.size() != channels && !(op.equals("Gemm") && b.size() == 1)) return null;
        Tensor newW = w, newB;
        Map<String, Attribute> attrs = new LinkedHashMap<>(layer.attributes());
        if (multiply) {
            newW = scaledWeights(w, layout, k);
            newB = b == null ? null : scaledBias(b, k, channels, true);
        } else {
            double beta = op.equals("Gemm") ? layer.attrs().getFloat("beta", 1f) : 1;
            if (b != null && beta == 0) return null;
            newB = b == null ? perChannelTensor(k, channels) : scaledBias(b, k, channels, false);
            if (op.equals("Gemm") && b != null && beta != 1) {
                for (long c = 0; c < channels; c++) newB.setDouble(c, b.getDouble(b.size() == 1 ? 0 : c) + value(k, c) / beta);
            } else if (op.equals("Gemm")) {
                attrs.put("beta", Attribute.of("beta", 1f));
            }
        }
        List<String> ins = new ArrayList<>(layer.inputs().subList(0, 2));
        String wName = newW == w ? layer.inputs().get(1) : GraphEdits.freshName(g, inits, layer.inputs().get(1) + "/folded");
        inits.put(wName, newW);
        ins.set(1, wName);
        if (newB != null) {
            String bName = GraphEdits.freshName(g, inits, (hasBias ? layer.inputs().get(2) : wName) + "/bias");
            inits.put(bName, newB);
            ins.add(bName);
        }
        return new Node(layer.name(), "", op, ins, List.of(output), attrs);
    }

    private static Tensor constant(String name, Set<String> inputs, Map<String, Tensor> inits) {
        return inputs.contains(name) ? null : inits.get(name);
    }

    /** k holds one value, or one per channel laid out along the channel axis of the layer's output. */
    private static boolean perChannel(Tensor k, long channels, int outputRank, boolean gemm) {
        if (k.size() == 1) return k.rank() <= outputRank;
        if (k.size() != channels || k.rank() > outputRank) return false;
        long[] shape = k.shape();
        // the channel axis of the output is 1 (Conv: N,C,...) or the last (Gemm: M,N)
        int channelAxis = gemm ? outputRank - 1 : 1;
        int offset = outputRank - shape.length;
        for (int i = 0; i < shape.length; i++) {
            if (i + offset != channelAxis && shape[i] != 1) return false;
        }
        return channelAxis >= offset;
    }

    /** w with every element times its output channel's factor in k, computed in double and rounded once. */
    private static Tensor scaledWeights(Tensor w, Layout layout, Tensor k) {
        double[] factor = new double[Math.toIntExact(layout.channels())];
        for (int c = 0; c < factor.length; c++) factor[c] = value(k, c);
        // on plain arrays: this runs over every weight of the model, often before the JIT has compiled anything
        // and a run of weights sharing an output channel at a time, not a channel lookup (divisions) per weight
        int run = Math.toIntExact(layout.run());
        if (w.dtype() == DType.FLOAT) {
            float[] v = w.toFloatArray();
            for (int start = 0; start < v.length; start += run) {
                double f = factor[(int) layout.channelOf(start)];
                for (int i = start; i < start + run; i++) v[i] = (float) (v[i] * f);
            }
            return Tensor.of(v, w.shape());
        }
        double[] v = w.toDoubleArray();
        for (int start = 0; start < v.length; start += run) {
            double f = factor[(int) layout.channelOf(start)];
            for (int i = start; i < start + run; i++) v[i] *= f;
        }
        Tensor out = Tensor.allocate(w.dtype(), w.shape());
        for (int i = 0; i < v.length; i++) out.setDouble(i, v[i]);
        return out;
    }

    private static double value(Tensor k, long channel) {
        return k.getDouble(k.size() == 1 ? 0 : channel);
    }

    private static Tensor perChannelTensor(Tensor k, long channels) {
        Tensor t = Tensor.allocate(k.dtype(), channels);
        for (long c = 0; c < channels; c++) t.setDouble(c, value(k, c));
        return t;
    }

    private static Tensor scaledBias(Tensor b, Tensor k, long channels, boolean multiply) {
        Tensor t = Tensor.allocate(b.dtype(), channels);
        for (long c = 0; c < channels; c++) {
            double bias = b.getDouble(b.size() == 1 ? 0 : c);
            t.setDouble(c, multiply ? bias * value(k, c) : bias + value(k, c));
        }
        return t;
    }

    /** Where a layer's output channels sit in its weight tensor. */
    private record Layout(long channels, int outputRank, long[] weightShape, String op, long group, boolean transB, long inner) {
        static Layout of(Node layer, Tensor w) {
            long[] s = w.shape();
            long inner = 1; // elements per (output, input) channel pair of a convolution's kernel
            for (int d = 2; d < s.length; d++) inner *= s[d];
            return switch (layer.opType()) {
                case "Conv" -> s.length < 3 ? null : new Layout(s[0], s.length, s, "Conv", 1, false, inner);
                case "ConvTranspose" -> {
                    long group = layer.attrs().getInt("group", 1);
                    yield s.length < 3 || group < 1 || s[0] % group != 0 ? null : new Layout(s[1] * group, s.length, s, "ConvTranspose", group, false, inner);
                }
                case "Gemm" -> {
                    boolean transB = layer.attrs().getInt("transB", 0) != 0;
                    yield s.length != 2 ? null : new Layout(transB ? s[0] : s[1], 2, s, "Gemm", 1, transB, inner);
                }
                default -> null;
            };
        }

        /** How many consecutive weights (row-major, from a multiple of it) share one output channel. */
        long run() {
            return switch (op) {
                case "Conv" -> weightShape[1] * inner;
                case "ConvTranspose" -> inner;
                default -> transB ? weightShape[1] : 1;
            };
        }

        /** The output channel that weight element {@code i} (row-major) contributes to. */
        long channelOf(long i) {
            return switch (op) {
                case "Conv" -> i / (weightShape[1] * inner);
                case "ConvTranspose" -> {
                    long ci = i / (weightShape[1] * inner), j = (i / inner) % weightShape[1];
                    yield (ci / (weightShape[0] / group)) * weightShape[1] + j;
                }
                default -> transB ? i / weightShape[1] : i % weightShape[1];
            };
        }
    }
}
