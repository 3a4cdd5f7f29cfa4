package dev.onnxrun.cli;

import dev.onnxrun.compiler.Artifact;
import dev.onnxrun.compiler.Compilation;
import dev.onnxrun.compiler.ModelFiles;
import dev.onnxrun.compiler.exec.MemoryPlan;
import dev.onnxrun.compiler.ir.Graph;
import dev.onnxrun.compiler.ir.Node;
import dev.onnxrun.compiler.ir.OpsetImports;
import dev.onnxrun.compiler.onnx.OnnxExporter;
import dev.onnxrun.compiler.passes.InferTypes;
import dev.onnxrun.compiler.passes.Optimizer;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** Optimizes a model once and writes the result. */
@Command(name = "compile", mixinStandardHelpOptions = true,
        description = {"Optimize a model and write it: -o as onnxrun's compiled model (loads without re-running the passes,",
                "packing the weights or planning memory for the declared input shapes),",
                "--emit-onnx as standard ONNX that any runtime reads. --report prints what each pass did and ends with",
                "'nodes=B->A batchnorm=N fused=N arena_bytes=N naive_bytes=N bound_bytes=N'."})
final class CompileCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "MODEL", description = "The model: an .onnx file, or a .net network spec.")
    Path model;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE",
            description = "Write the compiled model: ONNX with onnxrun's own ops, marked optimized, with the weights also packed for this machine's kernels and the memory plan.")
    Path output;

    @Option(names = "--emit-onnx", paramLabel = "FILE", description = "Write the optimized graph with onnxrun's own ops expanded back to standard ONNX.")
    Path emitOnnx;

    @Option(names = "--report", description = "Print node counts per pass and the memory plan's figures.")
    boolean report;

    @picocli.CommandLine.Mixin
    CompileOptions compile;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        if (output == null && emitOnnx == null && !report) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "give -o FILE, --emit-onnx FILE or --report");
        }
        PrintWriter out = spec.commandLine().getOut();
        Compilation.Prepared p = Compilation.prepare(Artifact.read(ModelFiles.load(model)).model(), compile.toOptions(1).passes());
        if (output != null) OnnxExporter.write(Artifact.write(p.markedOptimized()), output);
        if (emitOnnx != null) OnnxExporter.writePortable(p.model(), emitOnnx);
        if (report) {
            printSteps(p, out);
            out.println(summary(p));
        }
        return Main.EXIT_OK;
    }

    static void printSteps(Compilation.Prepared p, PrintWriter out) {
        out.println("passes:");
        for (Optimizer.Step s : p.steps()) out.printf("  %-26s round %d: %d -> %d nodes%n", s.pass(), s.round(), s.nodesBefore(), s.nodesAfter());
        out.printf("optimized: %d -> %d nodes%n", p.nodesBefore(), p.model().graph().nodes().size());
    }

    /** The closing line of {@code --report}. */
    static String summary(Compilation.Prepared p) {
        Graph g = InferTypes.run(p.model().graph(), p.model().opsets()).graph();
        MemoryPlan plan = MemoryPlan.of(g);
        long batchNorms = g.nodes().stream().filter(n -> n.opType().equals("BatchNormalization")).count();
        long fused = g.nodes().stream().filter(CompileCommand::isFusedLayer).count();
        return "nodes=" + p.nodesBefore() + "->" + g.nodes().size() + " batchnorm=" + batchNorms + " fused=" + fused
                + " arena_bytes=" + plan.arenaBytes() + " naive_bytes=" + plan.naiveBytes() + " bound_bytes=" + plan.boundBytes();
    }

    private static boolean isFusedLayer(Node n) {
        return n.domain().equals(OpsetImports.ONNXRUN_DOMAIN) && n.opType().startsWith("Fused");
    }
}
