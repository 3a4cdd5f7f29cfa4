package dev.onnxrun.cli;

import dev.onnxrun.compiler.ir.Attribute;
import dev.onnxrun.compiler.ir.Graph;
import dev.onnxrun.compiler.ir.GraphText;
import dev.onnxrun.compiler.ir.Model;
import dev.onnxrun.compiler.ir.Node;
import dev.onnxrun.compiler.ir.ValueInfo;
import dev.onnxrun.compiler.ModelFiles;
import dev.onnxrun.compiler.Artifact;
import dev.onnxrun.compiler.Compilation;
import dev.onnxrun.compiler.passes.Optimizer;
import dev.onnxrun.runtime.Tensor;
import dev.onnxrun.runtime.kernels.Gemm;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** Describes a model without running it. */
@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = "Show a model's IR version, producer, opsets, inputs, outputs, op histogram and parameters.")
final class InspectCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "MODEL", description = "The model: an .onnx file, or a .net network spec.")
    Path model;


    @picocli.CommandLine.Option(names = "--graph", description = "Also print the graph in onnxrun's text form, as imported.")
    boolean graph;

    @picocli.CommandLine.Option(names = "--optimized", description = "Also print the graph after the optimization passes, with what each pass did.")
    boolean optimized;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        Artifact.Contents file = Artifact.read(ModelFiles.load(model));
        Model m = file.model();
        Graph g = m.graph();
        out.printf("model:     %s%n", model);
        out.printf("ir:        %d%n", m.irVersion());
        out.printf("producer:  %s %s%n", m.producerName().isEmpty() ? "(none)" : m.producerName(), m.producerVersion());
        out.print("opsets:   ");
        m.opsets().versions().forEach((d, v) -> out.printf(" %s=%d", d.isEmpty() ? "ai.onnx" : d, v));
        out.println();
        if (!m.functions().isEmpty()) out.printf("functions: %s%n", String.join(", ", m.functions().keySet()));
        out.println("inputs:");
        for (ValueInfo v : g.runtimeInputs()) out.printf("  %s: %s%n", v.name(), v.type());
        out.println("outputs:");
        for (ValueInfo v : g.outputs()) out.printf("  %s: %s%n", v.name(), v.type());
        Map<String, Integer> histogram = new TreeMap<>();
        countOps(g, histogram);
        int nodes = histogram.values().stream().mapToInt(Integer::intValue).sum();
        out.printf("nodes:     %d%n", nodes);
        histogram.entrySet().stream()
                .sorted(Map.Entry.<String, Integer>comparingByValue().reversed().thenComparing(Map.Entry.comparingByKey()))
                .forEach(e -> out.printf("  %-28s %d%n", e.getKey(), e.getValue()));
        long params = 0, bytes = 0;
        for (Tensor t : g.initializers().values()) {
            params += t.size();
            bytes += t.size() * Math.max(t.dtype().byteSize(), 1);
        }
        out.printf("parameters: %d in %d initializers, %s%n", params, g.initializers().size(), bytesText(bytes));
        printCompiled(file, out);
        if (graph) out.print("\n" + GraphText.print(g));
        if (optimized) printOptimized(m, out);
        return Main.EXIT_OK;
    }

    /** What a compiled model adds: its packed weights (how many suit this machine) and its memory plan. */
    private static void printCompiled(Artifact.Contents file, PrintWriter out) {
        List<Artifact.StoredPart> parts = file.packed().values().stream().flatMap(p -> p.values().stream()).toList();
        if (!parts.isEmpty()) {
            long bytes = parts.stream().mapToLong(p -> p.tensor().size() * Math.max(p.tensor().dtype().byteSize(), 1)).sum();
            long fitting = parts.stream().filter(p -> p.layout() != null && p.layout().endsWith(" " + Gemm.PANEL_LAYOUT)).count();
            out.printf("packed:    %d parts, %s, %d for this machine's layout (%s)%n", parts.size(), bytesText(bytes), fitting, Gemm.PANEL_LAYOUT);
        }
        if (file.memoryPlan() != null && file.memoryPlan().length > 0) {
            out.printf("memory plan: %d values in %s for inputs %s%n", file.memoryPlan().length - 1, bytesText(file.memoryPlan()[0]), file.memoryShape());
        }
    }

    private static void printOptimized(Model imported, PrintWriter out) {
        Compilation.Prepared p = Compilation.prepare(imported, Optimizer.DEFAULT_PASSES);
        out.println();
        CompileCommand.printSteps(p, out);
        out.println();
        out.print(GraphText.print(p.model().graph()));
    }

    /** Counts ops in the graph and its subgraphs. */
    private static void countOps(Graph g, Map<String, Integer> histogram) {
        for (Node n : g.nodes()) {
            histogram.merge(n.domain().isEmpty() ? n.opType() : n.domain() + "." + n.opType(), 1, Integer::sum);
            for (Attribute a : n.attributes().values()) {
                if (a.value() instanceof Graph body) countOps(body, histogram);
                if (a.value() instanceof List<?> list) for (Object o : list) if (o instanceof Graph body) countOps(body, histogram);
            }
        }
    }

    static String bytesText(long bytes) {
        if (bytes < 1024) return bytes + " B";
        if (bytes < 1024 * 1024) return String.format(java.util.Locale.ROOT, "%.1f KiB", bytes / 1024.0);
        return String.format(java.util.Locale.ROOT, "%.1f MiB", bytes / (1024.0 * 1024));
    }
}
