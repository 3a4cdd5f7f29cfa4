package dev.onnxrun.compiler.exec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.onnxrun.compiler.ir.Graph;
import dev.onnxrun.compiler.ir.GraphText;
import dev.onnxrun.compiler.ir.OpsetImports;
import dev.onnxrun.compiler.passes.GraphValidator;
import dev.onnxrun.compiler.passes.InferTypes;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class MemoryPlanTest {
    static Graph typed(String text) {
        Graph g = GraphValidator.validate(GraphText.parse(text, 1));
        return InferTypes.run(g, new OpsetImports(Map.of("", 17))).graph();
    }

    private static final String CHAIN = """
            graph g(x: float[256]) -> (y: float[256])
              a = Softmax(x)
              b = Transpose(a)
              c = Softmax(b)
              d = Transpose(c)
              y = Softmax(d)
            """;

    /**
     * {@link #CHAIN}: x → a → b → c → d → y, float[256] (1 KiB) values through Softmax and
     * Transpose, which do not work in place. Step by step:
     * <pre>
     *   step 0: a = Softmax(x)      live {a}
     *   step 1: b = Transpose(a)    live {a, b}      (a's last read)
     *   step 2: c = Softmax(b)      live {b, c}      (a is dead: c takes a's place)
     *   step 3: d = Transpose(c)    live {c, d}      (d takes b's place)
     *   step 4: y = Softmax(d)      y is a graph output: not planned
     * </pre>
     * Two 1 KiB places suffice: arena 2 KiB, bound 2 KiB, naive 4 KiB.
     */
    @Test
    void chainAlternatesBetweenTwoPlaces() {
        MemoryPlan p = MemoryPlan.of(typed(CHAIN));
        assertEquals(4096, p.naiveBytes());
        assertEquals(2048, p.boundBytes());
        assertEquals(2048, p.arenaBytes());
        assertEquals(p.offsetOf("a"), p.offsetOf("c"));
        assertEquals(p.offsetOf("b"), p.offsetOf("d"));
        assertTrue(p.offsetOf("a") != p.offsetOf("b"));
    }

    /**
     * Offsets made earlier (as a compiled model stores them) give {@link #CHAIN}'s plan without
     * placing it; offsets that break it are refused.
     */
    @Test
    void storedOffsetsAreCheckedAndReadBack() {
        Graph g = typed(CHAIN);
        MemoryPlan made = MemoryPlan.of(g);
        long placements = MemoryPlan.placements();
        MemoryPlan read = MemoryPlan.withOffsets(g, made.arenaBytes(), made.offsets());
        assertEquals(placements, MemoryPlan.placements(), "nothing placed");
        assertEquals(made.slots(), read.slots());
        assertEquals(made.boundBytes(), read.boundBytes());
        long[] offsets = made.offsets(); // a, b, c, d; each lives with the next
        assertNull(MemoryPlan.withOffsets(g, made.arenaBytes(), new long[] {0, 0, 1024, 1024}), "a and b overlap");
        assertNotNull(MemoryPlan.withOffsets(g, made.arenaBytes(), new long[] {1024, 0, 1024, 0}), "the places swapped: as good");
        assertNull(MemoryPlan.withOffsets(g, made.arenaBytes() - 64, offsets), "past the arena");
        assertNull(MemoryPlan.withOffsets(g, made.arenaBytes(), new long[] {0, 1028, 0, 1028}), "unaligned");
        assertNull(MemoryPlan.withOffsets(g, made.arenaBytes(), new long[] {0, 1024, 0}), "a value missing");
    }

    /** Elementwise ops write over an input that dies at their step; an input still read later is kept. */
    @Test
    void elementwiseOpsReuseADyingInput() {
        MemoryPlan p = MemoryPlan.of(typed("""
                graph g(x: float[256]) -> (y: float[256])
                  a = Softmax(x)
                  b = Relu(a)
                  c = Sigmoid(b)
                  d = Add(c, b)
                  y = Softmax(d)
                """));
        assertEquals("a", p.storageOf("b"), "Relu overwrites a, which it reads last");
        assertEquals("c", p.storageOf("c"), "b is still read by Add, so Sigmoid needs its own memory");
        assertEquals("c", p.storageOf("d"), "Add overwrites c, its first input that dies here");
        assertEquals(2048, p.arenaBytes());
        assertEquals(4 * 1024, p.naiveBytes(), "naive counts a, b, c and d each, before they share memory");
    }

    @Test
    void viewsShareTheirBaseAndExtendItsLife() {
        MemoryPlan p = MemoryPlan.of(typed("""
                graph g(x: float[4,64]) -> (y: float[4,64])
                  shape: int64[2] = [64, 4]
                  a = Relu(x)
                  v = Reshape(a, shape)
                  b = Exp(x)
                  c = Add(b, b)
                  w = Reshape(c, shape)
                  s = PRelu(v, w)
                  back: int64[2] = [4, 64]
                  y = Reshape(s, back)
                """));
        assertFalse(p.slots().containsKey("v"), "views have no slot of their own");
        assertEquals("a", p.storageOf("v"));
        assertTrue(p.slots().get("a").last() >= 5, "a lives as long as its view v is read");
        assertFalse(p.slots().containsKey("s"), "s is viewed by the graph output, so it is not planned");
    }

    /**
     * A fire module's end: a and b (16·4 floats = 256 B each) die at the Concat, so they are
     * made inside c, a at c's start and b right after it, and c lives from a's step on:
     * <pre>
     *   step 0: a = Relu(x)              in c at 0
     *   step 1: b = Sigmoid(x)           in c at 256
     *   step 2: c = Concat(a, b)         nothing to copy
     *   step 3: y = Tanh(c)              graph output
     * </pre>
     */
    @Test
    void concatInputsAreMadeInsideItsOutput() {
        MemoryPlan p = MemoryPlan.of(typed(fireEnd("1,16,4", "1,32,4")));
        assertEquals(List.of("c"), List.copyOf(p.slots().keySet()));
        assertEquals("c", p.storageOf("a"));
        assertEquals(p.offsetOf("c"), p.offsetOf("a"));
        assertEquals(p.offsetOf("c") + 256, p.offsetOf("b"));
        assertEquals(256, p.bytesAt("b"));
        assertEquals(512, p.bytesAt("c"));
        assertEquals(0, p.slots().get("c").first(), "c's memory is taken when a is made");
    }

    @Test
    void concatInputsStayApartWhenReadLaterOrInterleaved() {
        MemoryPlan later = MemoryPlan.of(typed("""
                graph g(x: float[1,16,4]) -> (y: float[1,32,4])
                  a = Relu(x)
                  b = Sigmoid(x)
                  c = Concat(a, b) {axis: 1}
                  d = Concat(a, b) {axis: 1}
                  y = Add(c, d)
                """));
        assertEquals("d", later.storageOf("a"), "a and b are read after c's Concat: made in d, where they die");
        assertEquals("d", later.storageOf("b"));
        assertTrue(later.slots().containsKey("c"), "c copies them");
        MemoryPlan interleaved = MemoryPlan.of(typed(fireEnd("2,16,4", "2,32,4")));
        assertTrue(interleaved.slots().containsKey("a"), "with two images each input is two blocks of the output");
        MemoryPlan unaligned = MemoryPlan.of(typed(fireEnd("1,3,1", "1,6,1")));
        assertTrue(unaligned.slots().containsKey("b"), "b's block starts 12 bytes in: not aligned");
    }

    /** a = Relu(x), b = Sigmoid(x) joined along axis 1 into c, read by the graph output's Tanh. */
    private static String fireEnd(String xShape, String yShape) {
        return """
                graph g(x: float[%s]) -> (y: float[%s])
                  a = Relu(x)
                  b = Sigmoid(x)
                  c = Concat(a, b) {axis: 1}
                  y = Tanh(c)
                """.formatted(xShape, yShape);
    }

    @Test
    void randomLifetimesNeverShareMemoryWhileBothAlive() {
        SplittableRandom r = new SplittableRandom(3);
        for (int trial = 0; trial < 200; trial++) {
            int steps = 1 + r.nextInt(40);
            List<MemoryPlan.Slot> values = new ArrayList<>();
            for (int i = 0; i < 1 + r.nextInt(60); i++) {
                int first = r.nextInt(steps), last = first + r.nextInt(steps - first);
                values.add(new MemoryPlan.Slot("v" + i, 1 + r.nextInt(5000), first, last, -1));
            }
            MemoryPlan p = MemoryPlan.place(values, Map.of(), Map.of(), steps, 0);
            List<MemoryPlan.Slot> slots = new ArrayList<>(p.slots().values());
            assertEquals(values.size(), slots.size());
            for (MemoryPlan.Slot a : slots) {
                assertEquals(0, a.offset() % MemoryPlan.ALIGNMENT);
                assertTrue(a.offset() + a.bytes() <= p.arenaBytes());
                for (MemoryPlan.Slot b : slots) {
                    if (a != b && a.livesWith(b)) assertFalse(a.overlapsInMemory(b), a + " overlaps " + b);
                }
            }
            assertTrue(p.arenaBytes() >= p.boundBytes());
        }
    }
}
