package dev.onnxrun.compiler.exec;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Time spent per op type, or per node, over one or more runs, for {@code onnxrun bench --profile}.
 * Per node, a step is named by its node's name (or its position in the plan when unnamed) and
 * shows the shape of its first output, so a user can tell the layers of one op type apart.
 * Each line's time is its median over the runs ({@link #endRun} closes one), not its mean: at two
 * threads a few runs stalled by the host (a core taken from one thread holds up the other) took
 * 8–20 ms beside 5 ms medians, and their means added up to more than the median run.
 */
public final class Profile {
    /** What one line of the profile stands for. */
    public enum By { OP, NODE }

    /** One op type or node: its median time in a run and its calls per run; {@code shape} is the node's first output's (empty per op). */
    public record Entry(String name, String op, String shape, long nanos, long calls) {}

    /** One line's times, run by run. */
    private static final class Line {
        final String op, shape;
        /** Time in each finished run, [0, count); runs before the line was first seen took no time in it. */
        long[] runs;
        int count;
        long current, calls;

        Line(String op, String shape, int runsBefore) {
            this.op = op;
            this.shape = shape;
            runs = new long[Math.max(16, 2 * runsBefore)];
            count = runsBefore;
        }
    }

    private final By by;
    private final Map<String, Line> lines = new LinkedHashMap<>();
    private int runs;

    public Profile(By by) { this.by = by; }

    public Profile() { this(By.OP); }

    public By by() { return by; }

    /** Adds one step of the current run: {@code node} names it (used per node), {@code shape} describes its first output. */
    void record(String op, String node, String shape, long nanos) {
        String key = by == By.OP ? op : node;
        Line line = lines.computeIfAbsent(key, k -> new Line(op, by == By.OP ? "" : shape, runs));
        line.current += nanos;
        line.calls++;
    }

    /** Closes the current run: each line's time in it becomes one sample of its median. */
    public void endRun() {
        for (Line line : lines.values()) {
            if (line.count == line.runs.length) line.runs = Arrays.copyOf(line.runs, 2 * line.count);
            line.runs[line.count++] = line.current;
            line.current = 0;
        }
        runs++;
    }

    /** Entries sorted by median time, largest first; a run not closed by {@link #endRun} counts as one. */
    public List<Entry> entries() {
        if (lines.values().stream().anyMatch(l -> l.current > 0)) endRun();
        List<Entry> out = new ArrayList<>();
        for (Map.Entry<String, Line> e : lines.entrySet()) {
            Line line = e.getValue();
            out.add(new Entry(e.getKey(), line.op, line.shape, median(Arrays.copyOf(line.runs, line.count)), runs == 0 ? 0 : line.calls / runs));
        }
        out.sort(Comparator.comparingLong(Entry::nanos).reversed());
        return out;
    }

    /** The sum of the entries' median times. */
    public long totalNanos() {
        return entries().stream().mapToLong(Entry::nanos).sum();
    }

    /** The median of run times, sorted in place (0 for none); {@code onnxrun bench}'s too. */
    public static long median(long[] nanos) {
        if (nanos.length == 0) return 0;
        Arrays.sort(nanos);
        int n = nanos.length;
        return n % 2 == 1 ? nanos[n / 2] : (nanos[n / 2 - 1] + nanos[n / 2]) / 2;
    }
}
