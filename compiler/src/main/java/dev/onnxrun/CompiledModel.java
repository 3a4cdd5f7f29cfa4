package dev.onnxrun;

import dev.onnxrun.compiler.Artifact;
import dev.onnxrun.compiler.Compilation;
import dev.onnxrun.compiler.ModelFiles;
import dev.onnxrun.compiler.exec.Plan;
import dev.onnxrun.compiler.ir.Model;
import dev.onnxrun.compiler.ir.ValueInfo;
import dev.onnxrun.compiler.onnx.OnnxImporter;
import dev.onnxrun.compiler.passes.Optimizer;
import dev.onnxrun.compiler.passes.Pass;
import dev.onnxrun.runtime.OnnxrunException;
import dev.onnxrun.runtime.Parallel;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * A model compiled for the CPU: load once, then create a cheap {@link Session} per request.
 * Thread-safe and reusable; closing it stops its worker threads.
 *
 * <pre>{@code
 * try (CompiledModel model = CompiledModel.compile(Path.of("mlp.onnx"));
 *      Session session = model.newSession()) {
 *     Map<String, Tensor> out = session.run(Map.of("input", Tensor.of(pixels, 1, 784)));
 * }
 * }</pre>
 */
public final class CompiledModel implements AutoCloseable {
    /** Runs of a model before its workers spin through one ({@link #startRun}). */
    private static final int COLD_RUNS = 3;

    private final Model model;
    private final Plan plan;
    private final Parallel parallel;
    /** Runs finished before workers started spinning through them (stops counting at {@link #COLD_RUNS}). */
    private final AtomicInteger runs = new AtomicInteger();

    private CompiledModel(Model model, Plan plan, Parallel parallel) {
        this.model = model;
        this.plan = plan;
        this.parallel = parallel;
    }

    public static CompiledModel compile(Path file) {
        return compile(file, Options.DEFAULTS);
    }

    public static CompiledModel compile(Path file, Options options) {
        return compile(() -> ModelFiles.load(file), options);
    }

    public static CompiledModel compile(byte[] onnxBytes) {
        return compile(() -> OnnxImporter.load(onnxBytes), Options.DEFAULTS);
    }

    /** Validates, type-checks and lowers an imported model; every unsupported part is named at once. */
    public static CompiledModel compile(Model imported, Options options) {
        return compile(() -> imported, options);
    }

    /** Loads the model (the warm-up builds the op registry meanwhile) and compiles it, warming the JIT up alongside. */
    private static CompiledModel compile(Supplier<Model> load, Options options) {
        if (options.warmup()) Warmup.begin();
        try {
            Model imported = load.get();
            if (options.warmup()) Warmup.forModel(imported);
            try {
                return lower(imported, options);
            } catch (StackOverflowError e) {
                throw new OnnxrunException(OnnxrunException.Kind.LIMIT, "the model's graphs nest too deeply to compile");
            }
        } finally {
            if (options.warmup()) Warmup.end();
        }
    }

    /** A compiled model file ({@link Artifact}) lowers with the packed weights and memory plan it stores. */
    private static CompiledModel lower(Model imported, Options options) {
        Artifact.Contents file = Artifact.read(imported);
        Model m = Compilation.prepare(file.model(), options.passes()).model();
        Plan plan = Plan.compile(m.graph(), m.opsets(), Map.of(), file.packing());
        file.seedMemory(plan);
        return new CompiledModel(m.withGraph(plan.graph()), plan, new Parallel(options.threads()));
    }

    /**
     * Compile-time choices.
     *
     * @param threads worker threads for kernels
     * @param passes  optimization passes to run (see {@link Optimizer#DEFAULT_PASSES}); empty for none
     * @param warmup  while compiling, warm the JIT up in a background thread by calling the
     *                kernels the model's ops use on small tensors, so the first run is fast (see
     *                {@link Warmup}); costs up to two seconds of one core, once per JVM and kind of model
     */
    public record Options(int threads, List<Pass> passes, boolean warmup) {
        public static final Options DEFAULTS = new Options(Runtime.getRuntime().availableProcessors());

        public Options {
            if (threads < 1) throw new IllegalArgumentException("threads must be at least 1");
            passes = List.copyOf(passes);
        }

        /** {@code threads} workers, the default passes and warm-up. */
        public Options(int threads) {
            this(threads, Optimizer.DEFAULT_PASSES);
        }

        /** {@code threads} workers, these passes and warm-up. */
        public Options(int threads, List<Pass> passes) {
            this(threads, passes, true);
        }

        public Options withPasses(List<Pass> p) { return new Options(threads, p, warmup); }

        public Options withWarmup(boolean on) { return new Options(threads, passes, on); }
    }

    /** A new session; sessions are cheap and each is meant for one thread at a time. */
    public Session newSession() {
        return new Session(this);
    }

    /** The inputs a caller must feed (graph inputs that are not initializers), with their declared types. */
    public List<ValueInfo> inputs() { return model.graph().runtimeInputs(); }

    /** The outputs, with their inferred types. */
    public List<ValueInfo> outputs() {
        return model.graph().outputs().stream().map(o -> new ValueInfo(o.name(), model.graph().typeOf(o.name()))).toList();
    }

    /** The imported model after validation and inference. */
    public Model model() { return model; }

    Plan plan() { return plan; }

    Parallel parallel() { return parallel; }

    /**
     * A run of this model under way, until closed: once the model has finished {@link #COLD_RUNS}
     * runs, its workers spin through the run ({@link Parallel#running}). Its first runs are the
     * JIT's busiest, and workers spinning through them took the cores C2 needed (resnet18's first
     * run at two threads 477 → 754 ms).
     */
    Run startRun() {
        return new Run(runs.get() >= COLD_RUNS ? parallel.running() : null);
    }

    /** One run under way ({@link #startRun}); closing it counts it. */
    final class Run implements AutoCloseable {
        private final Parallel.Running spinning;

        private Run(Parallel.Running spinning) { this.spinning = spinning; }

        @Override
        public void close() {
            if (spinning != null) spinning.close();
            else runs.incrementAndGet();
        }
    }

    /** Worker threads the kernels use. */
    public int threads() { return parallel.threads(); }

    @Override
    public void close() {
        parallel.close();
    }
}
