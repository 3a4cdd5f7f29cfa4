package dev.onnxrun.cli;

import dev.onnxrun.CompiledModel;
import dev.onnxrun.Session;
import dev.onnxrun.compiler.exec.Profile;
import dev.onnxrun.compiler.ModelFiles;
import dev.onnxrun.runtime.Tensor;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** Times repeated runs of a model. */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Time repeated runs of a model.",
                "Ends with a line 'median_ms=X min_ms=Y max_ms=Z'; --profile adds the median time a run per op type (or per node) before it."})
final class BenchCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "MODEL", description = "The model: an .onnx file, or a .net network spec.")
    Path model;

    @picocli.CommandLine.Mixin
    CompileOptions compile;

    @Option(names = "--warmup", description = "Untimed runs first (default: ${DEFAULT-VALUE}).", defaultValue = "5")
    int warmup;

    @Option(names = "--iterations", description = "Timed runs (default: ${DEFAULT-VALUE}).", defaultValue = "20")
    int iterations;

    @picocli.CommandLine.Mixin
    InputOptions modelInputs;

    @Option(names = "--profile", arity = "0..1", fallbackValue = "op", paramLabel = "op|node",
            description = "Also print the median time a run per op type (--profile, --profile=op) or per node with its output shape (--profile=node), largest share first.")
    String profile;


    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        if (profile != null) profileBy(); // a bad value fails before the model loads
        if (iterations < 1 || warmup < 0) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--iterations must be at least 1 and --warmup at least 0");
        }
        PrintWriter out = spec.commandLine().getOut();
        try (CompiledModel compiled = CompiledModel.compile(ModelFiles.load(model), compile.toOptions(CompiledModel.Options.DEFAULTS.threads()));
             Session session = compiled.newSession()) {
            Map<String, Tensor> feed = modelInputs.build(compiled.inputs()).tensors();
            out.printf("model %s: threads=%d warmup=%d iterations=%d%n", model, compiled.threads(), warmup, iterations);
            for (int i = 0; i < warmup; i++) session.run(feed);
            long[] nanos = new long[iterations];
            Profile ops = profile == null ? null : new Profile(profileBy());
            for (int i = 0; i < iterations; i++) {
                long t0 = System.nanoTime();
                session.run(feed, ops);
                nanos[i] = System.nanoTime() - t0;
            }
            if (ops != null) printProfile(ops, out);
            long median = Profile.median(nanos); // sorts them
            out.printf("median_ms=%s min_ms=%s max_ms=%s%n", Summary.ms(median), Summary.ms(nanos[0]), Summary.ms(nanos[iterations - 1]));
        }
        return Main.EXIT_OK;
    }

    private Profile.By profileBy() {
        return switch (profile) {
            case "op" -> Profile.By.OP;
            case "node" -> Profile.By.NODE;
            default -> throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--profile takes 'op' or 'node', not '" + profile + "'");
        };
    }

    private void printProfile(Profile p, PrintWriter out) {
        double total = p.totalNanos();
        if (p.by() == Profile.By.OP) {
            out.printf("%-32s %10s %7s %8s%n", "op", "ms/run", "share", "calls");
            for (Profile.Entry e : p.entries()) {
                out.printf("%-32s %10s %6.1f%% %8d%n", e.name(), Summary.ms(e.nanos()), 100 * e.nanos() / total, e.calls());
            }
            return;
        }
        out.printf("%10s %7s  %-24s %-20s %s%n", "ms/run", "share", "op", "output shape", "node");
        for (Profile.Entry e : p.entries()) {
            out.printf("%10s %6.1f%%  %-24s %-20s %s%n", Summary.ms(e.nanos()), 100 * e.nanos() / total, e.op(), e.shape(), e.name());
        }
    }
}
