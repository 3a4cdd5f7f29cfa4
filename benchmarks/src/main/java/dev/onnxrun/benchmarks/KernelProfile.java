package dev.onnxrun.benchmarks;

import dev.onnxrun.CompiledModel;
import dev.onnxrun.Session;
import dev.onnxrun.runtime.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordingFile;

/**
 * Where a model's run time goes inside onnxrun, method by method ({@code benchmarks/run profile}):
 * after the warm-up runs, JDK Flight Recorder samples every thread's stack each millisecond
 * through the timed runs, and each sample counts for its innermost onnxrun method (a kernel's
 * micro-kernel, not the JDK's vector classes it calls), thread by thread. Finer than
 * {@code onnxrun bench --profile}, which times whole ops. Samples are taken where the JIT's code
 * has debug information, so a few land on a neighbouring line or method: read shares of a few
 * percent as approximate. A worker spinning for work ({@code Parallel.idle}) is over-counted:
 * squeezenet1_1 at two threads showed it in 37–42 % of the worker's samples where the pool's
 * ranges, timed directly, left the worker waiting 9–10 % of the run.
 */
public final class KernelProfile {
    private KernelProfile() {}

    public static void main(String[] args) throws Exception {
        List<Path> models = new ArrayList<>();
        int threads = 1, runs = 1000, warmup = 300, top = 15;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--threads" -> threads = Usage.number("profile", args, i++);
                case "--runs" -> runs = Usage.number("profile", args, i++);
                case "--warmup" -> warmup = Usage.number("profile", args, i++);
                case "--top" -> top = Usage.number("profile", args, i++);
                default -> models.addAll(Usage.models("profile", args[i]));
            }
        }
        if (models.isEmpty()) throw Usage.fail("profile", "no model given (a model file or its folder)");
        if (threads < 1 || runs < 1 || warmup < 0 || top < 1) throw Usage.fail("profile", "--threads, --runs and --top take positive numbers");
        for (Path model : models) profile(model, threads, runs, warmup, top);
    }

    private static void profile(Path model, int threads, int runs, int warmup, int top) throws Exception {
        Path file = Files.createTempFile("onnxrun-profile", ".jfr");
        double msPerRun;
        try (CompiledModel m = CompiledModel.compile(model, new CompiledModel.Options(threads)); Session s = m.newSession()) {
            Map<String, Tensor> inputs = CompareWithOnnxRuntime.inputs(m.inputs(), 1);
            for (int i = 0; i < warmup; i++) s.run(inputs);
            try (Recording recording = new Recording()) {
                recording.enable("jdk.ExecutionSample").withPeriod(Duration.ofMillis(1));
                recording.start();
                long start = System.nanoTime();
                for (int i = 0; i < runs; i++) s.run(inputs);
                msPerRun = (System.nanoTime() - start) / 1e6 / runs;
                recording.stop();
                recording.dump(file);
            }
        }
        Map<String, Map<String, Integer>> byThread = new TreeMap<>(); // thread → method → samples
        try {
            for (RecordedEvent e : RecordingFile.readAllEvents(file)) {
                if (!e.getEventType().getName().equals("jdk.ExecutionSample") || e.getStackTrace() == null) continue;
                String thread = e.getThread("sampledThread") == null ? "?" : e.getThread("sampledThread").getJavaName();
                byThread.computeIfAbsent(thread, t -> new HashMap<>()).merge(innermost(e.getStackTrace()), 1, Integer::sum);
            }
        } finally {
            Files.deleteIfExists(file);
        }
        String name = model.getFileName().toString().equals("model.onnx") ? model.getParent().getFileName().toString() : model.toString();
        System.out.printf(Locale.ROOT, "%s: %d runs at %d thread%s, %.3f ms a run (while sampled)%n", name, runs, threads, threads == 1 ? "" : "s", msPerRun);
        byThread.forEach((thread, counts) -> {
            int total = counts.values().stream().mapToInt(Integer::intValue).sum();
            System.out.printf(Locale.ROOT, "  thread %s: %d samples%n", thread, total);
            counts.entrySet().stream().sorted(Map.Entry.<String, Integer>comparingByValue().reversed()).limit(top)
                    .forEach(c -> System.out.printf(Locale.ROOT, "    %5.1f%%  %s%n", 100.0 * c.getValue() / total, c.getKey()));
        });
    }

    /**
     * The sample's innermost method of onnxrun's own code, without the package prefix
     * ({@code runtime.kernels.Gemm.microKernel}), or the innermost frame of all where none is
     * onnxrun's (the JDK, the JIT's helpers).
     */
    static String innermost(RecordedStackTrace stack) {
        List<String> frames = new ArrayList<>();
        for (RecordedFrame f : stack.getFrames()) frames.add(f.getMethod().getType().getName() + "." + f.getMethod().getName());
        return innermost(frames);
    }

    /** {@link #innermost(RecordedStackTrace)} over qualified method names, innermost first. */
    static String innermost(List<String> frames) {
        for (String f : frames) if (f.startsWith("dev.onnxrun.")) return f.substring("dev.onnxrun.".length());
        return frames.isEmpty() ? "(no frames)" : "(outside onnxrun) " + frames.get(0);
    }
}
