package dev.onnxrun.compiler.exec;

import dev.onnxrun.compiler.ir.Graph;
import dev.onnxrun.compiler.ir.Node;
import dev.onnxrun.compiler.ir.OpsetImports;
import dev.onnxrun.compiler.ir.ValueInfo;
import dev.onnxrun.compiler.ir.ValueType;
import dev.onnxrun.compiler.ops.ElementwiseOps;
import dev.onnxrun.runtime.DType;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Static memory plan for the float32 intermediates of a graph whose shapes are known.
 *
 * <p>Stages:
 * <ol>
 *   <li><b>Values.</b> Every node output that is neither a graph output nor a graph input is an
 *       intermediate. Outputs of view ops (Reshape, Flatten, Squeeze, Unsqueeze, Identity) share
 *       their input's memory, so they are folded into the value they view.</li>
 *   <li><b>Lifetimes.</b> A value lives from the step that produces it to the last step that
 *       reads it or any view of it, in execution order.</li>
 *   <li><b>In place.</b> An elementwise op ({@link #IN_PLACE_OPS}) whose input dies at its step
 *       writes its output over that input when both have the same size: the two are folded into
 *       one value, as views are.</li>
 *   <li><b>Concat in place.</b> A Concat whose inputs are each one contiguous block of its
 *       output (all dims before the axis are 1) and all die at its step has its inputs made
 *       inside its output: each input is folded into the output at its block's offset (when
 *       that offset is aligned), the output living from the first input's step. The kernels
 *       that make the inputs write them in place, and Concat finds them there and copies
 *       nothing.</li>
 *   <li><b>Placement.</b> Greedy by size for offset calculation (Pisarchyk and Lee, 2020):
 *       values in decreasing size each take the lowest {@link #ALIGNMENT}-aligned offset in one
 *       arena that overlaps no already placed value whose lifetime overlaps theirs.</li>
 * </ol>
 * Three figures describe the result: the naive total (every intermediate in its own memory,
 * counted before in-place folding), the lower bound (the most bytes simultaneously live at any
 * step, in-place pairs counted once) and the arena size. Values of other element types, or of
 * unknown size, are left to the heap.
 */
public final class MemoryPlan {
    /** Offsets are multiples of this, so every slice suits a 512-bit vector load. */
    public static final long ALIGNMENT = 64;

    /** Ops whose output is a view of their first input. */
    static final Set<String> VIEW_OPS = Set.of("Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity");

    /** Ops whose output may overwrite a same-sized input that dies at their step. */
    static final Set<String> IN_PLACE_OPS = java.util.stream.Stream.concat(ElementwiseOps.SAME_INDEX_UNARY.stream(),
            ElementwiseOps.SAME_INDEX_BINARY.stream()).collect(java.util.stream.Collectors.toUnmodifiableSet());

    /** One planned intermediate: its size, lifetime [first, last] in steps, and arena offset. */
    public record Slot(String value, long bytes, int first, int last, long offset) {
        boolean livesWith(Slot o) { return first <= o.last && o.first <= last; }

        boolean overlapsInMemory(Slot o) { return offset < o.offset + o.bytes && o.offset < offset + bytes; }
    }

    private final Map<String, Slot> slots;
    private final Map<String, String> storageOf;
    /** Values laid inside the value they share (Concat's inputs): byte offset in it, and their own bytes. */
    private final Map<String, long[]> within;
    private final long naiveBytes;
    private final long boundBytes;
    private final long arenaBytes;

    private MemoryPlan(Map<String, Slot> slots, Map<String, String> storageOf, Map<String, long[]> within, long naiveBytes, long boundBytes,
                       long arenaBytes) {
        this.slots = slots;
        this.storageOf = storageOf;
        this.within = within;
        this.naiveBytes = naiveBytes;
        this.boundBytes = boundBytes;
        this.arenaBytes = arenaBytes;
    }

    private static final java.util.concurrent.atomic.AtomicLong PLACEMENTS = new java.util.concurrent.atomic.AtomicLong();

    /** How many plans this JVM has placed (stage 4): shows that a loaded compiled model planned none. */
    public static long placements() { return PLACEMENTS.get(); }

    /** The values to place (stages 1 to 3): unplaced slots in the order their values are made, and which value shares whose memory. */
    private record Values(List<Slot> sized, Map<String, String> shares, Map<String, long[]> within, int steps, long naive) {}

    /** Plans {@code g}'s float32 intermediates of known size. */
    public static MemoryPlan of(Graph g) {
        Values v = values(g);
        return place(v.sized(), v.shares(), v.within(), v.steps(), v.naive());
    }

    /**
     * The plan for {@code g} whose offsets, in the order {@link #offsets} lists them, were made
     * earlier (a compiled model stores them), or null when they do not fit g's values: another
     * count, an offset unaligned or past {@code arenaBytes}, or two values live at one step that
     * overlap in memory. Stages 1 to 3 run again, which is cheap; only the placement is skipped.
     */
    public static MemoryPlan withOffsets(Graph g, long arenaBytes, long[] offsets) {
        Values v = values(g);
        if (offsets.length != v.sized().size()) return null;
        List<Slot> placed = new ArrayList<>();
        for (int i = 0; i < offsets.length; i++) {
            Slot s = v.sized().get(i);
            long at = offsets[i];
            if (at < 0 || at % ALIGNMENT != 0 || at > arenaBytes - s.bytes()) return null;
            placed.add(new Slot(s.value(), s.bytes(), s.first(), s.last(), at));
        }
        for (int i = 0; i < placed.size(); i++) {
            for (int j = i + 1; j < placed.size(); j++) {
                if (placed.get(i).livesWith(placed.get(j)) && placed.get(i).overlapsInMemory(placed.get(j))) return null;
            }
        }
        return finish(placed, v.shares(), v.within(), v.steps(), v.naive(), arenaBytes);
    }

    /** Stages 1 to 3 of the plan of {@code g}. */
    private static Values values(Graph g) {
        Set<String> external = new HashSet<>();
        g.inputs().forEach(v -> external.add(v.name()));
        g.outputs().forEach(v -> external.add(v.name()));
        external.addAll(g.initializers().keySet());
        Map<String, String> shares = new HashMap<>();
        Map<String, Integer> first = new LinkedHashMap<>(), last = new HashMap<>();
        List<Node> nodes = g.nodes();
        for (int step = 0; step < nodes.size(); step++) {
            Node n = nodes.get(step);
            for (String in : n.inputs()) {
                String base = root(in, shares);
                if (first.containsKey(base)) last.put(base, step);
            }
            boolean view = VIEW_OPS.contains(n.opType()) && n.domain().isEmpty() && !n.inputs().isEmpty();
            for (String out : n.outputs()) {
                if (out.isEmpty()) continue;
                if (view) {
                    shares.put(out, n.inputs().getFirst());
                } else if (!external.contains(out) && bytesOf(g.typeOf(out)) >= 0) {
                    first.put(out, step);
                    last.put(out, step);
                }
            }
        }
        long naive = 0;
        for (String v : first.keySet()) if (!isViewedByOutput(v, g, shares)) naive += bytesOf(g.typeOf(v));
        foldInPlace(g, nodes, first, last, shares);
        // a value viewed by a graph output must outlive the run: leave it out of the arena
        for (ValueInfo out : g.outputs()) first.remove(root(out.name(), shares));
        Map<String, long[]> within = foldConcatInputs(g, nodes, first, last, shares);
        List<Slot> sized = new ArrayList<>();
        for (var e : first.entrySet()) {
            sized.add(new Slot(e.getKey(), bytesOf(g.typeOf(e.getKey())), e.getValue(), last.get(e.getKey()), -1));
        }
        return new Values(sized, shares, within, nodes.size(), naive);
    }

    /**
     * Folds the inputs of each Concat into its output where each input is one block of it and
     * dies there (stage 4); returns each folded input's offset and bytes in the output.
     */
    private static Map<String, long[]> foldConcatInputs(Graph g, List<Node> nodes, Map<String, Integer> first, Map<String, Integer> last,
                                                        Map<String, String> shares) {
        Map<String, long[]> within = new HashMap<>();
        for (int step = 0; step < nodes.size(); step++) {
            Node n = nodes.get(step);
            if (!n.opType().equals("Concat") || !n.domain().isEmpty() || n.outputs().size() != 1) continue;
            String out = n.outputs().getFirst();
            if (!first.containsKey(out) || !(g.typeOf(out) instanceof ValueType.TensorType t) || !t.isStatic()) continue;
            long[] shape = t.shape();
            int axis = (int) Math.floorMod(n.attrs().getInt("axis", 0), (long) shape.length);
            long outer = 1;
            for (int d = 0; d < axis; d++) outer *= shape[d];
            if (outer != 1) continue; // each input would be several blocks of the output
            List<String> parts = new ArrayList<>();
            long[] at = new long[n.inputs().size()];
            long offset = 0;
            boolean fits = true;
            for (int i = 0; i < n.inputs().size() && fits; i++) {
                String in = n.inputs().get(i);
                if (in.isEmpty()) continue;
                // the memory the input lies in: made in the arena, of the input's size, read last here, its block aligned
                String base = root(in, shares);
                fits = first.containsKey(base) && last.get(base) == step && bytesOf(g.typeOf(base)) == bytesOf(g.typeOf(in))
                        && !parts.contains(base) && offset % ALIGNMENT == 0;
                parts.add(base);
                at[parts.size() - 1] = offset;
                offset += bytesOf(g.typeOf(in));
            }
            if (!fits || parts.isEmpty() || offset != bytesOf(t)) continue;
            for (int i = 0; i < parts.size(); i++) {
                String part = parts.get(i);
                first.put(out, Math.min(first.get(out), first.get(part)));
                shares.put(part, out);
                within.put(part, new long[] {at[i], bytesOf(g.typeOf(part))});
                first.remove(part);
                last.remove(part);
            }
        }
        return within;
    }

    private static boolean isViewedByOutput(String value, Graph g, Map<String, String> shares) {
        return g.outputs().stream().anyMatch(o -> root(o.name(), shares).equals(value));
    }

    /** Folds the output of each in-place op into an input that dies at that step and has its size. */
    private static void foldInPlace(Graph g, List<Node> nodes, Map<String, Integer> first, Map<String, Integer> last,
                                    Map<String, String> shares) {
        for (int step = 0; step < nodes.size(); step++) {
            Node n = nodes.get(step);
            int candidates = inPlaceInputs(n, shares);
            if (candidates == 0 || n.outputs().size() != 1) continue;
            String out = n.outputs().getFirst();
            if (!first.containsKey(out)) continue;
            for (String in : n.inputs().subList(0, Math.min(candidates, n.inputs().size()))) {
                if (in.isEmpty()) continue;
                String base = root(in, shares);
                if (first.containsKey(base) && last.get(base) == step && bytesOf(g.typeOf(base)) == bytesOf(g.typeOf(out))) {
                    shares.put(out, base);
                    last.put(base, last.get(out));
                    first.remove(out);
                    last.remove(out);
                    break;
                }
            }
        }
    }

    /**
     * How many of {@code n}'s first inputs its output may overwrite: any input of an
     * {@link #IN_PLACE_OPS} op; the first input of a fused elementwise chain unless it is also one
     * of the chain's operands (later ops read those after the first op has written).
     */
    private static int inPlaceInputs(Node n, Map<String, String> shares) {
        if (n.domain().isEmpty()) return IN_PLACE_OPS.contains(n.opType()) ? n.inputs().size() : 0;
        if (!n.domain().equals(OpsetImports.ONNXRUN_DOMAIN) || !n.opType().equals("FusedElementwise")) return 0;
        String start = root(n.inputs().getFirst(), shares);
        return n.inputs().stream().skip(1).anyMatch(in -> root(in, shares).equals(start)) ? 0 : 1;
    }

    /** Greedy by size for offset calculation; also computes the lower bound. */
    static MemoryPlan place(List<Slot> sized, Map<String, String> shares, Map<String, long[]> within, int steps, long naive) {
        PLACEMENTS.incrementAndGet();
        List<Slot> bySize = new ArrayList<>(sized);
        bySize.sort(Comparator.comparingLong(Slot::bytes).reversed().thenComparingInt(Slot::first));
        List<Slot> placed = new ArrayList<>();
        long arena = 0;
        for (Slot s : bySize) {
            List<Slot> rivals = placed.stream().filter(s::livesWith).sorted(Comparator.comparingLong(Slot::offset)).toList();
            long offset = 0;
            for (Slot r : rivals) {
                if (offset + s.bytes() <= r.offset()) break;
                offset = Math.max(offset, align(r.offset() + r.bytes()));
            }
            Slot p = new Slot(s.value(), s.bytes(), s.first(), s.last(), offset);
            placed.add(p);
            arena = Math.max(arena, offset + s.bytes());
        }
        Map<String, Slot> byValue = new HashMap<>();
        placed.forEach(p -> byValue.put(p.value(), p));
        return finish(sized.stream().map(s -> byValue.get(s.value())).toList(), shares, within, steps, naive, arena);
    }

    /** The plan of these placed slots, kept in the order given; computes the lower bound. */
    private static MemoryPlan finish(List<Slot> placed, Map<String, String> shares, Map<String, long[]> within, int steps, long naive,
                                     long arena) {
        long[] live = new long[Math.max(steps, 1)];
        for (Slot s : placed) for (int t = s.first(); t <= s.last(); t++) live[t] += s.bytes();
        long bound = 0;
        for (long b : live) bound = Math.max(bound, b);
        Map<String, Slot> slots = new LinkedHashMap<>();
        placed.forEach(p -> slots.put(p.value(), p));
        return new MemoryPlan(slots, shares, within, naive, bound, arena);
    }

    static long align(long offset) {
        return (offset + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
    }

    private static String root(String value, Map<String, String> shares) {
        String v = value;
        while (shares.containsKey(v)) v = shares.get(v);
        return v;
    }

    /** Bytes of a statically shaped float32 tensor, or -1 for other values. */
    static long bytesOf(ValueType t) {
        if (!(t instanceof ValueType.TensorType tt) || !tt.isStatic() || tt.dtype() != DType.FLOAT) return -1;
        long n = tt.dtype().byteSize();
        try {
            for (long d : tt.shape()) n = Math.multiplyExact(n, d);
        } catch (ArithmeticException e) {
            return -1;
        }
        return n;
    }

    /** The planned values, in the order they are made. */
    public Map<String, Slot> slots() { return slots; }

    /** Each planned value's offset, in the order of {@link #slots}: what {@link #withOffsets} reads back. */
    public long[] offsets() { return slots.values().stream().mapToLong(Slot::offset).toArray(); }

    /** The value whose memory {@code value} uses (through views and in-place ops), or {@code value} itself. */
    public String storageOf(String value) { return root(value, storageOf); }

    /** The arena offset of {@code value}'s elements, or -1 when the plan leaves it to the heap. */
    public long offsetOf(String value) {
        Slot s = slots.get(storageOf(value));
        if (s == null) return -1;
        long at = s.offset();
        for (String v = value; storageOf.containsKey(v); v = storageOf.get(v)) {
            long[] part = within.get(v);
            if (part != null) at += part[0];
        }
        return at;
    }

    /** Bytes the arena holds for {@code value} from {@link #offsetOf}: its own, or its storage's where it shares one (views, in place). */
    public long bytesAt(String value) {
        Slot s = slots.get(storageOf(value));
        if (s == null) return 0;
        for (String v = value; storageOf.containsKey(v); v = storageOf.get(v)) {
            long[] part = within.get(v);
            if (part != null) return part[1];
        }
        return s.bytes();
    }

    /** Sum of all intermediates' sizes: what allocating each separately would take. */
    public long naiveBytes() { return naiveBytes; }

    /** The largest total of bytes live at one step: no plan can use less. */
    public long boundBytes() { return boundBytes; }

    /** The arena this plan needs. */
    public long arenaBytes() { return arenaBytes; }
}
