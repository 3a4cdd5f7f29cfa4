package dev.onnxrun.cli;

import dev.onnxrun.CompiledModel;
import dev.onnxrun.compiler.passes.Optimizer;
import dev.onnxrun.compiler.passes.Pass;
import java.util.Iterator;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/** The options that shape compilation, shared by run, bench and test. */
final class CompileOptions {
    @Option(names = "--threads", paramLabel = "N", description = "Worker threads (default: available cores; 1 for test).")
    Integer threads;

    @Option(names = "--no-optimize", description = "Run no optimization passes.")
    boolean noOptimize;

    @Option(names = "--passes", paramLabel = "LIST", split = ",", completionCandidates = PassNames.class,
            description = "Run only these passes (comma-separated): ${COMPLETION-CANDIDATES}.")
    List<String> passes;

    /** The optimizer's pass names in pipeline order, for the help text (a list written out by hand had fallen behind). */
    static final class PassNames implements Iterable<String> {
        @Override
        public Iterator<String> iterator() { return Optimizer.DEFAULT_PASSES.stream().map(Pass::name).iterator(); }
    }

    @Option(names = "--no-warmup", description = "Do not warm the JIT up in the background while compiling.")
    boolean noWarmup;

    @CommandLine.Spec(CommandLine.Spec.Target.MIXEE)
    CommandLine.Model.CommandSpec spec;

    CompiledModel.Options toOptions(int defaultThreads) {
        int t = threads == null ? defaultThreads : threads;
        if (t < 1) throw new CommandLine.ParameterException(spec.commandLine(), "--threads must be at least 1");
        if (noOptimize && passes != null) throw new CommandLine.ParameterException(spec.commandLine(), "--no-optimize and --passes exclude each other");
        List<Pass> chosen = noOptimize ? List.of() : passes == null ? Optimizer.DEFAULT_PASSES : Optimizer.select(String.join(",", passes));
        return new CompiledModel.Options(t, chosen, !noWarmup);
    }
}
