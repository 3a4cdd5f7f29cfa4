package dev.onnxrun.benchmarks;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.onnxrun.CompiledModel;
import dev.onnxrun.Session;
import dev.onnxrun.runtime.Tensor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * First-inference latency in a fresh JVM ({@code compare --cold}): each (model, runtime) pair
 * runs in its own child JVM with this JVM's flags, which times loading and compiling the model
 * (ONNX Runtime: creating its environment and session) and then the first run; making the inputs
 * is not timed. The two runtimes alternate which goes first, and each figure is the median of
 * {@code --runs} children. {@code --aot} measures both starting from a JVM AOT cache, as an
 * embedder would deploy one.
 */
final class FirstInference {
    /** What one child measured, in milliseconds. */
    record Times(double prepareMs, double firstRunMs) {
        double totalMs() { return prepareMs + firstRunMs; }
    }

    private FirstInference() {}

    static void child(String runtime, Path model, int threads) throws Exception {
        Times t = switch (runtime) {
            case "onnxrun" -> onnxrun(model, threads, true);
            case "onnxrun-nowarmup" -> onnxrun(model, threads, false);
            case "ort" -> ort(model, threads);
            default -> throw new IllegalArgumentException("unknown runtime " + runtime);
        };
        System.out.printf(Locale.ROOT, "%.3f %.3f%n", t.prepareMs(), t.firstRunMs());
    }

    private static Times onnxrun(Path model, int threads, boolean warmup) {
        long t0 = System.nanoTime();
        try (CompiledModel m = CompiledModel.compile(model, new CompiledModel.Options(threads).withWarmup(warmup)); Session s = m.newSession()) {
            long t1 = System.nanoTime();
            Map<String, Tensor> inputs = CompareWithOnnxRuntime.inputs(m.inputs(), 1);
            long t2 = System.nanoTime();
            s.run(inputs);
            return new Times((t1 - t0) / 1e6, (System.nanoTime() - t2) / 1e6);
        }
    }

    private static Times ort(Path model, int threads) throws Exception {
        long t0 = System.nanoTime();
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setIntraOpNumThreads(threads);
            options.setInterOpNumThreads(1);
            try (OrtSession s = env.createSession(model.toString(), options)) {
                long t1 = System.nanoTime();
                Map<String, OnnxTensor> inputs = new HashMap<>();
                for (var e : s.getInputInfo().entrySet()) inputs.put(e.getKey(), PeakMemory.zeros(env, (TensorInfo) e.getValue().getInfo()));
                long t2 = System.nanoTime();
                s.run(inputs).close();
                return new Times((t1 - t0) / 1e6, (System.nanoTime() - t2) / 1e6);
            }
        }
    }

    /** Runs each model once in each runtime: the training run of the JVM's AOT cache ({@code --aot}). */
    static void train(List<Path> models, int threads) throws Exception {
        for (Path m : models) {
            onnxrun(m, threads, false);
            ort(m, threads);
        }
    }

    static Times spawn(String runtime, Path model, int threads, List<String> jvmFlags) throws Exception {
        String[] ms = ChildJvm.run(CompareWithOnnxRuntime.class, jvmFlags, List.of("--cold-child", runtime, model.toString(), Integer.toString(threads))).split(" ");
        return new Times(Double.parseDouble(ms[0]), Double.parseDouble(ms[1]));
    }

    /**
     * Runs every model {@code runs} times per runtime and thread count (onnxrun with or without
     * warm-up) and prints the Markdown table. With {@code aot}, a training run over all the models
     * first writes a JVM AOT cache, and both runtimes' children start from it.
     */
    static void compare(List<Path> models, int[] threads, int runs, boolean warmup, boolean aot) throws Exception {
        String ourRuntime = warmup ? "onnxrun" : "onnxrun-nowarmup";
        List<String> flags = List.of();
        if (aot) {
            Path cache = Path.of("benchmarks", "target", "first-inference.aot").toAbsolutePath();
            List<String> args = new ArrayList<>(List.of("--cold-train", Integer.toString(threads[0])));
            models.forEach(m -> args.add(m.toString()));
            ChildJvm.run(CompareWithOnnxRuntime.class, List.of("-XX:AOTCacheOutput=" + cache, "-Xlog:aot*=off", "-Xlog:cds*=off"), args);
            flags = List.of("-XX:AOTCache=" + cache, "-Xlog:aot*=off", "-Xlog:cds*=off");
        }
        StringBuilder table = new StringBuilder();
        table.append(String.format(Locale.ROOT, "First inference in a fresh JVM, median of %d JVMs per cell; load = load + compile (ONNX Runtime: environment + session)%s%s.%n%n",
                runs, warmup ? "" : "; onnxrun without warm-up", aot ? "; both JVMs start from an AOT cache" : ""));
        table.append("| model | threads | onnxrun load ms | onnxrun first run ms | onnxrun total ms | ONNX Runtime load ms | ONNX Runtime first run ms | ONNX Runtime total ms | ratio |\n");
        table.append("|---|---|---|---|---|---|---|---|---|\n");
        for (int t : threads) {
            for (Path m : models) {
                Times[] ours = new Times[runs], ort = new Times[runs];
                for (int r = 0; r < runs; r++) {
                    if (r % 2 == 0) {
                        ours[r] = spawn(ourRuntime, m, t, flags);
                        ort[r] = spawn("ort", m, t, flags);
                    } else {
                        ort[r] = spawn("ort", m, t, flags);
                        ours[r] = spawn(ourRuntime, m, t, flags);
                    }
                }
                String name = m.getParent().getFileName().toString();
                double oursTotal = median(ours, Times::totalMs), ortTotal = median(ort, Times::totalMs);
                System.err.printf(Locale.ROOT, "%s threads=%d: onnxrun %.1f ms, ONNX Runtime %.1f ms, ratio %.2f%n", name, t, oursTotal, ortTotal, oursTotal / ortTotal);
                table.append(String.format(Locale.ROOT, "| %s | %d | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.2f |%n", name, t,
                        median(ours, Times::prepareMs), median(ours, Times::firstRunMs), oursTotal,
                        median(ort, Times::prepareMs), median(ort, Times::firstRunMs), ortTotal, oursTotal / ortTotal));
            }
        }
        System.out.println(table);
    }

    private static double median(Times[] times, java.util.function.ToDoubleFunction<Times> f) {
        double[] v = Arrays.stream(times).mapToDouble(f).sorted().toArray();
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }
}
