package dev.onnxrun.benchmarks;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.onnxrun.CompiledModel;
import dev.onnxrun.Session;
import dev.onnxrun.runtime.DType;
import dev.onnxrun.runtime.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Peak resident memory (RSS) of running each model in onnxrun and in ONNX Runtime's Java API.
 * Peak RSS belongs to a process, so each (model, runtime) pair runs in a fresh child JVM with the
 * same flags: load, compile, then {@code --runs} inferences (onnxrun on the seeded inputs of
 * {@link CompareWithOnnxRuntime}, ONNX Runtime on zeros of the same shapes); the child reports the kernel's high-water mark (VmHWM) and the
 * RSS at the end. A child that loads nothing gives the JVM's own floor, which both include.
 */
public final class PeakMemory {
    /**
     * Peak and final RSS, how many garbage collections ran during the runs after ten warm-up runs,
     * and the bytes the model's threads allocated per run after the first {@link #SETTLED_AFTER}
     * (-1 where there are not that many); until C2 has compiled a kernel its vector code boxes,
     * so small models, which take thousands of runs to get there, still show that garbage.
     */
    record Figures(long peakKiB, long endKiB, long collections, long bytesPerRun) {}

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("--child")) {
            child(args[1], args.length > 2 ? Path.of(args[2]) : null, args.length > 3 ? Integer.parseInt(args[3]) : 0,
                    args.length > 4 ? Integer.parseInt(args[4]) : 1);
            return;
        }
        List<Path> models = new ArrayList<>();
        int runs = 100, threads = 1;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--runs" -> runs = Usage.number("memory", args, i++);
                case "--threads" -> threads = Usage.number("memory", args, i++);
                default -> models.addAll(Usage.models("memory", args[i]));
            }
        }
        if (models.isEmpty()) {
            models.addAll(CompareWithOnnxRuntime.find(Path.of("testmodels", "cases")));
            if (Files.isDirectory(Path.of("benchmarks", "models"))) models.addAll(CompareWithOnnxRuntime.find(Path.of("benchmarks", "models")));
        }
        Figures floor = spawn("none", null, 0, threads);
        StringBuilder table = new StringBuilder();
        table.append(String.format(Locale.ROOT, "Peak RSS of a JVM that loads the model, compiles it and runs it %d times (%d thread%s); the JVM alone: %.0f MB. GCs: collections during runs 11..%d; allocated: bytes per run over runs %d..%d by the calling thread and onnxrun's workers.%n%n",
                runs, threads, threads == 1 ? "" : "s", floor.peakKiB() / 1024.0, runs, SETTLED_AFTER + 1, runs));
        table.append("| model | onnxrun peak MB | ONNX Runtime peak MB | ratio | onnxrun end MB | ONNX Runtime end MB | onnxrun GCs in runs | onnxrun allocated per run |\n|---|---|---|---|---|---|---|---|\n");
        for (Path m : models) {
            Figures ours = spawn("onnxrun", m, runs, threads), ort = spawn("ort", m, runs, threads);
            String name = m.getParent().getFileName().toString();
            System.err.printf(Locale.ROOT, "%s: onnxrun %.0f MB, ONNX Runtime %.0f MB%n", name, ours.peakKiB() / 1024.0, ort.peakKiB() / 1024.0);
            table.append(String.format(Locale.ROOT, "| %s | %.0f | %.0f | %.2f | %.0f | %.0f | %d | %s |%n", name, ours.peakKiB() / 1024.0,
                    ort.peakKiB() / 1024.0, (double) ours.peakKiB() / ort.peakKiB(), ours.endKiB() / 1024.0, ort.endKiB() / 1024.0, ours.collections(),
                    ours.bytesPerRun() < 0 ? "-" : ours.bytesPerRun() + " B"));
        }
        System.out.println(table);
    }

    /** Runs one child JVM with this JVM's flags and reads its figures. */
    static Figures spawn(String runtime, Path model, int runs, int threads) throws IOException, InterruptedException {
        List<String> args = new ArrayList<>(List.of("--child", runtime));
        if (model != null) args.addAll(List.of(model.toString(), Integer.toString(runs), Integer.toString(threads)));
        String[] figures = ChildJvm.run(PeakMemory.class, List.of(), args).split(" ");
        return new Figures(Long.parseLong(figures[0]), Long.parseLong(figures[1]), Long.parseLong(figures[2]), Long.parseLong(figures[3]));
    }

    private static void child(String runtime, Path model, int runs, int threads) throws Exception {
        long collections = 0, bytesPerRun = -1;
        switch (runtime) {
            case "none" -> { }
            case "onnxrun" -> {
                try (CompiledModel m = CompiledModel.compile(model, new CompiledModel.Options(threads)); Session s = m.newSession()) {
                    Map<String, Tensor> inputs = CompareWithOnnxRuntime.inputs(m.inputs(), 1);
                    for (int i = 0; i < Math.min(WARM_UP_RUNS, runs); i++) s.run(inputs);
                    long before = collections(), allocatedBefore = 0;
                    for (int i = WARM_UP_RUNS; i < runs; i++) {
                        if (i == SETTLED_AFTER) allocatedBefore = allocated();
                        s.run(inputs);
                    }
                    collections = collections() - before;
                    if (runs > SETTLED_AFTER) bytesPerRun = (allocated() - allocatedBefore) / (runs - SETTLED_AFTER);
                }
            }
            case "ort" -> {
                OrtEnvironment env = OrtEnvironment.getEnvironment();
                try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
                    options.setIntraOpNumThreads(threads);
                    options.setInterOpNumThreads(1);
                    try (OrtSession s = env.createSession(model.toString(), options)) {
                        Map<String, OnnxTensor> inputs = new HashMap<>();
                        for (var e : s.getInputInfo().entrySet()) inputs.put(e.getKey(), zeros(env, (TensorInfo) e.getValue().getInfo()));
                        for (int i = 0; i < runs; i++) s.run(inputs).close();
                    }
                }
            }
            default -> throw new IllegalArgumentException("unknown runtime " + runtime);
        }
        System.out.println(status("VmHWM") + " " + status("VmRSS") + " " + collections + " " + bytesPerRun);
    }

    private static final int WARM_UP_RUNS = 10, SETTLED_AFTER = 100;

    /**
     * Bytes allocated so far by the threads that run the model: this one and onnxrun's resident
     * pool workers (not the JIT warm-up thread, which may still be finishing its round).
     */
    private static long allocated() {
        long[] ids = Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t == Thread.currentThread() || t.getName().startsWith("onnxrun-worker-")).mapToLong(Thread::threadId).toArray();
        return java.util.Arrays.stream(((com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean())
                .getThreadAllocatedBytes(ids)).sum();
    }

    private static long collections() {
        return java.lang.management.ManagementFactory.getGarbageCollectorMXBeans().stream()
                .mapToLong(java.lang.management.GarbageCollectorMXBean::getCollectionCount).filter(c -> c > 0).sum();
    }

    /** Zeros of a declared input (symbolic dimensions 1), read from ONNX Runtime's own view of the model so this child loads nothing of onnxrun's. */
    static OnnxTensor zeros(OrtEnvironment env, TensorInfo info) throws OrtException {
        long[] shape = info.getShape().clone();
        for (int i = 0; i < shape.length; i++) if (shape[i] < 0) shape[i] = 1;
        Tensor t = Tensor.allocate(switch (info.type) {
            case FLOAT -> DType.FLOAT;
            case INT64 -> DType.INT64;
            case INT32 -> DType.INT32;
            case DOUBLE -> DType.DOUBLE;
            default -> throw new IllegalArgumentException("no input of type " + info.type);
        }, shape);
        return CompareWithOnnxRuntime.toOrt(env, t);
    }

    /** A kB figure from /proc/self/status. */
    private static long status(String field) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith(field + ":")) return Long.parseLong(line.substring(field.length() + 1).replace("kB", "").trim());
        }
        throw new IllegalStateException(field + " not in /proc/self/status");
    }
}
