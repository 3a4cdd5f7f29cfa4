package dev.onnxrun.compiler.ops;

import dev.onnxrun.runtime.DType;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/** The supported-ops table, generated from the registry (for {@code onnxrun ops} and the README). */
public final class OpsTable {
    private OpsTable() {}

    /** One row per op: opset ranges joined, element types summarized. */
    record Row(String op, String opsets, String types, boolean gradient) {}

    static List<Row> rows() {
        Map<String, List<OpDef>> byOp = new LinkedHashMap<>();
        for (OpDef d : OpRegistry.get().all()) {
            byOp.computeIfAbsent(d.domain().isEmpty() ? d.name() : d.domain() + "." + d.name(), k -> new ArrayList<>()).add(d);
        }
        List<Row> rows = new ArrayList<>();
        byOp.forEach((op, defs) -> {
            List<String> ranges = new ArrayList<>();
            Set<DType> types = new TreeSet<>();
            boolean gradient = false;
            for (OpDef d : defs) {
                gradient |= OpRegistry.get().gradientOf(d) != null;
                ranges.add(d.untilVersion() >= OpDef.LATEST_OPSET ? d.sinceVersion() + "+" : d.sinceVersion() + "–" + d.untilVersion());
                types.addAll(d.types());
            }
            rows.add(new Row(op, String.join(", ", ranges), typesText(types), gradient));
        });
        return rows;
    }

    /** Names well-known type sets instead of listing them. */
    static String typesText(Set<DType> types) {
        if (types.containsAll(DTypes.ALL)) return "all";
        List<String> parts = new ArrayList<>();
        Set<DType> rest = new TreeSet<>(types);
        for (var named : List.of(Map.entry("floats", DTypes.FLOATS), Map.entry("ints", DTypes.INTS))) {
            if (rest.containsAll(named.getValue())) {
                parts.add(named.getKey());
                rest.removeAll(named.getValue());
            }
        }
        rest.forEach(t -> parts.add(t.onnxName()));
        return String.join(", ", parts);
    }

    public static String text() {
        StringBuilder sb = new StringBuilder();
        List<Row> rows = rows();
        for (Row r : rows) {
            sb.append(String.format("%-32s opsets %-12s %-4s %s%n", r.op(), r.opsets(), r.gradient() ? "grad" : "", r.types()));
        }
        sb.append(rows.size()).append(" ops\n");
        return sb.toString();
    }

    public static String markdown() {
        StringBuilder sb = new StringBuilder("| op | opsets | element types | gradient |\n|---|---|---|---|\n");
        List<Row> rows = rows();
        for (Row r : rows) sb.append("| ").append(r.op()).append(" | ").append(r.opsets()).append(" | ").append(r.types()).append(" | ")
                .append(r.gradient() ? "✓" : "–").append(" |\n");
        sb.append("\n").append(rows.size()).append(" ops.\n");
        return sb.toString();
    }
}
