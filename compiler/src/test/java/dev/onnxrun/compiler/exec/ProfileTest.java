package dev.onnxrun.compiler.exec;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class ProfileTest {
    /** A run the host stalled does not move a line's time: each is its median over the runs. */
    @Test
    void nodesTakeTheirMedianRun() {
        Profile p = new Profile(Profile.By.NODE);
        long[] conv = {10, 12, 1000};
        for (int run = 0; run < 3; run++) {
            p.record("Conv", "conv1", "[1, 8]", conv[run]);
            p.record("Relu", "relu1", "[1, 8]", 2);
            if (run == 2) p.record("Add", "late", "[1]", 50); // first seen in the last run: 0 in the two before
            p.endRun();
        }
        List<Profile.Entry> e = p.entries();
        assertEquals(List.of("conv1", "relu1", "late"), e.stream().map(Profile.Entry::name).toList());
        assertEquals(12, e.get(0).nanos());
        assertEquals(1, e.get(0).calls());
        assertEquals("[1, 8]", e.get(0).shape());
        assertEquals(0, e.get(2).nanos());
        assertEquals(14, p.totalNanos());
    }

    /** Per op, a run's time is the sum over the op's nodes in it; calls are per run. */
    @Test
    void opsSumTheirNodesWithinARun() {
        Profile p = new Profile(Profile.By.OP);
        long[][] convs = {{3, 4}, {5, 4}, {100, 4}, {3, 6}};
        for (long[] run : convs) {
            p.record("Conv", "a", "[2]", run[0]);
            p.record("Conv", "b", "[2]", run[1]);
            p.endRun();
        }
        Profile.Entry conv = p.entries().getFirst();
        assertEquals("Conv", conv.name());
        assertEquals(9, conv.nanos()); // runs of 7, 9, 104 and 9
        assertEquals(2, conv.calls());
        assertEquals("", conv.shape());
    }

    /** Steps recorded with no run closed count as one run. */
    @Test
    void anOpenRunCountsAsOne() {
        Profile p = new Profile(Profile.By.OP);
        p.record("MatMul", "m", "", 40);
        assertEquals(40, p.entries().getFirst().nanos());
        assertEquals(40, p.totalNanos());
    }
}
