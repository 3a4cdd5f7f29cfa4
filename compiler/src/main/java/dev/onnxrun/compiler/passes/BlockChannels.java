package dev.onnxrun.compiler.passes;

import dev.onnxrun.compiler.ir.Attribute;
import dev.onnxrun.compiler.ir.Graph;
import dev.onnxrun.compiler.ir.Node;
import dev.onnxrun.compiler.ir.OpsetImports;
import dev.onnxrun.compiler.ir.ValueType;
import dev.onnxrun.compiler.ops.ConvolutionDefs;
import dev.onnxrun.runtime.DType;
import dev.onnxrun.runtime.Tensor;
import dev.onnxrun.runtime.kernels.Blocked;
import dev.onnxrun.runtime.kernels.BlockedConv;
import dev.onnxrun.runtime.kernels.Conv;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * Runs float32 CNN layers in the channel-blocked layout ({@link Blocked}, NCHWc), where the
 * convolution kernel needs neither to pack its input nor to transpose its output:
 * <ul>
 *   <li>Conv and FusedConv (2-D, constant W, X of known shape) ⇒ BlockedConv, whose output is
 *       blocked: with one group X may be either, depthwise it must be blocked;</li>
 *   <li>MaxPool, AveragePool, GlobalAveragePool, GlobalMaxPool of a blocked value ⇒ BlockedPool;</li>
 *   <li>Concat along the channels of blocked values, each a whole number of blocks, stays Concat
 *       (along the block axis).</li>
 * </ul>
 * A value read by anything else, or a graph output, gets an Unblock back to its plain form.
 * Which layers go blocked is settled from the top: all that qualify, then, until nothing changes,
 * those dropped whose blocked inputs are not blocked after all (a pool, a concat, a residual),
 * and convolutions that would stand alone, X plain and no blocked reader (the plain kernel then
 * writes the plain output directly, with no Unblock). Depthwise convolutions go blocked where
 * both their X and a reader are; other grouped ones stay plain, as do 3×3 layers that Winograd
 * runs.
 *
 * <p>Only where {@link BlockedConv#suited()} (AVX-512 and AVX2), unless built to run everywhere (tests); on 16-register
 * machines one-group layers with a megabyte of weights or more stay plain on maps larger than 8×8 ({@link BlockedConv#suits}).
 */
public final class BlockChannels implements Pass {
    static final String DOMAIN = OpsetImports.ONNXRUN_DOMAIN;
    /** What a layer becomes when blocked. */
    private enum Kind { CONV, DEPTHWISE, POOL, CONCAT }

    private final boolean everywhere;

    public BlockChannels() { this(false); }

    /** With {@code everywhere}, also where the CPU does not suit the blocked kernel (for tests). */
    BlockChannels(boolean everywhere) { this.everywhere = everywhere; }

    @Override
    public String name() { return "block-channels"; }

    /** Last: the layers it takes are the ones the fusions made, and nothing else rewrites blocked ops. */
    @Override
    public boolean waitsForTheOthers() { return true; }

    @Override
    public Graph run(Graph g, OpsetImports opsets) {
        if (!everywhere && !BlockedConv.suited()) return g;
        if (!GraphEdits.hasNode(g, DOMAIN, "FusedConv") && !GraphEdits.hasNode(g, "", "Conv")) return g;
        Graph typed = InferTypes.run(g, opsets).graph();
        List<Node> nodes = g.nodes();
        Map<Integer, Kind> blocked = new LinkedHashMap<>();
        Set<String> inputs = GraphEdits.inputNames(g);
        for (int i = 0; i < nodes.size(); i++) {
            Kind k = kind(nodes.get(i), typed, inputs);
            if (k != null) blocked.put(i, k);
        }
        if (blocked.isEmpty()) return g;
        Map<String, Integer> producer = new HashMap<>();
        for (int i = 0; i < nodes.size(); i++) for (String out : nodes.get(i).outputs()) producer.put(out, i);
        Map<String, List<int[]>> readers = new HashMap<>(); // value → (node, input slot)
        for (int i = 0; i < nodes.size(); i++) {
            List<String> ins = nodes.get(i).inputs();
            for (int s = 0; s < ins.size(); s++) if (!ins.get(s).isEmpty()) readers.computeIfAbsent(ins.get(s), v -> new ArrayList<>()).add(new int[] {i, s});
        }
        for (boolean changed = true; changed; ) {
            changed = false;
            for (var it = blocked.entrySet().iterator(); it.hasNext(); ) {
                var e = it.next();
                if (!stays(nodes.get(e.getKey()), e.getValue(), blocked, producer, readers)) {
                    it.remove();
                    changed = true;
                }
            }
        }
        if (blocked.isEmpty()) return g;
        Map<String, Integer> uses = GraphEdits.useCounts(g);
        Set<String> taken = new HashSet<>(typed.initializers().keySet());
        g.inputs().forEach(v -> taken.add(v.name()));
        nodes.forEach(n -> taken.addAll(n.outputs()));
        Map<String, String> blockedNames = new HashMap<>();
        Function<String, String> blockedName = v -> blockedNames.computeIfAbsent(v, u -> {
            String name = u + "#blocked";
            while (taken.contains(name)) name += "#"; // a name the model already uses
            taken.add(name);
            return name;
        });
        List<Node> out = new ArrayList<>();
        for (int i = 0; i < nodes.size(); i++) {
            Node n = nodes.get(i);
            Kind k = blocked.get(i);
            if (k == null) {
                out.add(n);
                continue;
            }
            List<String> ins = new ArrayList<>(n.inputs());
            for (int s = 0; s < ins.size(); s++) if (blockedSlot(k, s) && blocked.containsKey(producer.get(ins.get(s)))) ins.set(s, blockedName.apply(ins.get(s)));
            String value = n.outputs().getFirst();
            List<String> outs = List.of(blockedName.apply(value));
            out.add(switch (k) {
                case CONV, DEPTHWISE -> new Node(n.name(), DOMAIN, "BlockedConv", ins, outs, n.attributes());
                case POOL -> {
                    Map<String, Attribute> attrs = new LinkedHashMap<>(n.attributes());
                    attrs.put("pool", Attribute.of("pool", n.opType()));
                    yield new Node(n.name(), DOMAIN, "BlockedPool", ins, outs, attrs);
                }
                case CONCAT -> {
                    Map<String, Attribute> attrs = new LinkedHashMap<>(n.attributes());
                    attrs.put("axis", Attribute.of("axis", 1L));
                    yield new Node(n.name(), "", "Concat", ins, outs, attrs);
                }
            });
            long blockedReads = readers.getOrDefault(value, List.of()).stream()
                    .filter(r -> blocked.containsKey(r[0]) && blockedSlot(blocked.get(r[0]), r[1])).count();
            if (uses.getOrDefault(value, 0) > blockedReads) {
                long channels = floatShape4d(typed, value)[1];
                out.add(new Node(n.name() + "/unblock", DOMAIN, "Unblock", List.of(blockedName.apply(value)), List.of(value),
                        Map.of("channels", Attribute.of("channels", channels))));
            }
        }
        return g.withNodes(out);
    }

    /** Whether input {@code slot} of a blocked layer reads the blocked form of its value: X and the residual, every input of a pool or concat. */
    private static boolean blockedSlot(Kind k, int slot) { return k != Kind.CONV && k != Kind.DEPTHWISE || slot == 0 || slot == 3; }

    /** What {@code n} would become blocked, or null where it cannot be ({@code inputs}: the graph's, which W must not be). */
    private static Kind kind(Node n, Graph typed, Set<String> inputs) {
        if (n.outputs().size() != 1 && !(n.opType().equals("MaxPool") && n.outputs().size() == 2 && n.outputs().get(1).isEmpty())) return null;
        boolean conv = n.domain().isEmpty() && n.opType().equals("Conv") || n.domain().equals(DOMAIN) && n.opType().equals("FusedConv");
        if (conv) {
            String w = n.inputs().get(1);
            long[] x = floatShape4d(typed, n.inputs().getFirst());
            Tensor weights = inputs.contains(w) ? null : typed.initializers().get(w);
            long[] y = floatShape4d(typed, n.outputs().getFirst());
            if (weights == null || weights.rank() != 4 || x == null || y == null) return null;
            long[] ws = weights.shape();
            long group = n.attrs().getInt("group", 1);
            if (group > 1) return group == x[1] && group == ws[0] && ws[1] == 1 ? Kind.DEPTHWISE : null;
            // Winograd does fewer multiply-adds than any direct kernel: resnet18's 3×3 layers ran 10–50 % slower blocked
            return Conv.runsWinograd(x, ws, ConvolutionDefs.params(n.attrs())) || !BlockedConv.suits(ws, y[2] * y[3]) ? null : Kind.CONV;
        }
        if (!n.domain().isEmpty() || floatShape4d(typed, n.outputs().getFirst()) == null) return null;
        return switch (n.opType()) {
            case "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool" -> Kind.POOL;
            case "Concat" -> {
                long axis = n.attrs().getInt("axis", 0);
                boolean wholeBlocks = n.inputs().stream().allMatch(v -> floatShape4d(typed, v) instanceof long[] shape && shape[1] % Blocked.BLOCK == 0);
                yield (axis == 1 || axis == -3) && wholeBlocks ? Kind.CONCAT : null;
            }
            default -> null;
        };
    }

    /** The shape of a float32 value of rank 4 whose sizes are all known, else null. */
    private static long[] floatShape4d(Graph typed, String value) {
        if (!(typed.typeOf(value) instanceof ValueType.TensorType t) || t.dtype() != DType.FLOAT || !t.hasRank() || t.rank() != 4) return null;
        long[] shape = t.dims().stream().mapToLong(d -> d.sizeOrMinus1()).toArray();
        return Arrays.stream(shape).allMatch(d -> d >= 0) ? shape : null;
    }

    /**
     * Whether a layer still qualifies, given the others: what it reads blocked comes from blocked
     * layers (a one-group convolution's X excepted, which it reads either way); a one-group
     * convolution reads a blocked X or has a blocked reader (else blocking it would only add an
     * Unblock after it); a depthwise one has a blocked reader (its blocked kernel is no faster
     * than the plain one, so blocked it only saves an Unblock: mobilenet_block's depthwise
     * layer, read by a plain projection, made the block 0.032 → 0.049 ms).
     */
    private static boolean stays(Node n, Kind k, Map<Integer, Kind> blocked, Map<String, Integer> producer, Map<String, List<int[]>> readers) {
        List<String> ins = n.inputs();
        for (int s = k == Kind.CONV ? 1 : 0; s < ins.size(); s++) {
            if (!ins.get(s).isEmpty() && blockedSlot(k, s) && !blocked.containsKey(producer.get(ins.get(s)))) return false;
        }
        if (k == Kind.POOL || k == Kind.CONCAT || k == Kind.CONV && blocked.containsKey(producer.get(ins.getFirst()))) return true;
        return readers.getOrDefault(n.outputs().getFirst(), List.of()).stream().anyMatch(r -> blocked.containsKey(r[0]) && blockedSlot(blocked.get(r[0]), r[1]));
    }
}
