package dev.onnxrun.compiler.exec;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Time spent per op type, or per node, over one or more runs, for {@code onnxrun bench --profile}.
 * Per node, a step is named by its node's name (or its position in the plan when unnamed) and
 * shows the shape of its first output, so a user can tell the layers of one op type apart.
 */
public final class Profile {
    /** What one line of the profile stands for. */
    public enum By { OP, NODE }

    /** Accumulated time and call count of one op type or node; {@code shape} is the node's first output's (empty per op). */
    public record Entry(String name, String op, String shape, long nanos, long calls) {}

    private final By by;
    private final Map<String, Entry> entries = new LinkedHashMap<>();

    public Profile(By by) { this.by = by; }

    public Profile() { this(By.OP); }

    public By by() { return by; }

    /** Adds one run of a step: {@code node} names it (used per node), {@code shape} describes its first output. */
    void record(String op, String node, String shape, long nanos) {
        String key = by == By.OP ? op : node;
        Entry e = entries.get(key);
        entries.put(key, e == null ? new Entry(key, op, by == By.OP ? "" : shape, nanos, 1) : new Entry(key, op, e.shape(), e.nanos() + nanos, e.calls() + 1));
    }

    /** Entries sorted by time, largest first. */
    public List<Entry> entries() {
        List<Entry> out = new ArrayList<>(entries.values());
        out.sort(Comparator.comparingLong(Entry::nanos).reversed());
        return out;
    }

    public long totalNanos() {
        return entries.values().stream().mapToLong(Entry::nanos).sum();
    }
}
