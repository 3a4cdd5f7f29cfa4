package dev.onnxrun.benchmarks;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.onnxrun.CompiledModel;
import dev.onnxrun.Session;
import dev.onnxrun.compiler.ir.Dim;
import dev.onnxrun.compiler.ir.ValueInfo;
import dev.onnxrun.compiler.ir.ValueType;
import dev.onnxrun.runtime.DType;
import dev.onnxrun.runtime.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;

/**
 * Loads each model in onnxrun and in ONNX Runtime's Java API in one JVM, feeds both the same
 * seeded inputs, checks that the outputs agree, then interleaves timed runs (alternating which
 * goes first) and prints a Markdown table: medians, their ratio, and first-inference latency
 * (load + compile + first run). Ratios are what to read: absolute times on a shared machine are noise.
 * Symbolic input dimensions take each size of {@code --batch} in turn; models without any run once.
 * With {@code --forks N}, each model, thread count and batch runs so in N fresh JVMs instead, and
 * the table gives the medians over them: what C2 makes of a kernel, and where the JVM's memory
 * lands, differ from one JVM to the next, and so does a model's time after other models in one JVM.
 */
public final class CompareWithOnnxRuntime {
    /** One table row; {@code ratio} is ours / ONNX Runtime's in one JVM, or the median of the forks' ratios, which range over [{@code ratioLow}, {@code ratioHigh}]. */
    record Row(String model, int threads, long batch, double oursMs, double ortMs, double oursFirstMs, double ortFirstMs, double maxDiff,
               double ratio, double ratioLow, double ratioHigh) {
        Row(String model, int threads, long batch, double oursMs, double ortMs, double oursFirstMs, double ortFirstMs, double maxDiff) {
            this(model, threads, batch, oursMs, ortMs, oursFirstMs, ortFirstMs, maxDiff, oursMs / ortMs, oursMs / ortMs, oursMs / ortMs);
        }
    }

    private static final long WARMUP_NS = 2_000_000_000L, WINDOW_NS = 500_000_000L, MAX_WARMUP_NS = 30_000_000_000L;
    private static final long TIMED_NS = 1_000_000_000L;
    private static final int MAX_TIMED_RUNS = 1 << 14;

    public static void main(String[] args) throws Exception {
        if (args.length == 4 && args[0].equals("--cold-child")) {
            FirstInference.child(args[1], Path.of(args[2]), Integer.parseInt(args[3]));
            return;
        }
        if (args.length == 7 && args[0].equals("--fork-child")) {
            Row r = compare(OrtEnvironment.getEnvironment(), Path.of(args[1]), Integer.parseInt(args[2]), Long.parseLong(args[3]), Integer.parseInt(args[4]),
                    Integer.parseInt(args[5]), Boolean.parseBoolean(args[6]));
            System.out.printf(Locale.ROOT, "%s %s %s %s %s%n", r.oursMs(), r.ortMs(), r.oursFirstMs(), r.ortFirstMs(), r.maxDiff());
            return;
        }
        if (args.length > 2 && args[0].equals("--cold-train")) {
            FirstInference.train(Arrays.stream(args, 2, args.length).map(Path::of).toList(), Integer.parseInt(args[1]));
            return;
        }
        List<Path> models = new ArrayList<>();
        int[] threads = {1, 2};
        long[] batches = {1};
        int warmup = 200, iterations = 50; // the JIT needs a few hundred runs to compile the kernels
        boolean cold = false, compileWarmup = true, aot = false, ortSpinning = true;
        int coldRuns = 5, forks = 0;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--threads" -> threads = Arrays.stream(Usage.numbers("compare", args, i++)).mapToInt(Math::toIntExact).toArray();
                case "--batch" -> batches = Usage.numbers("compare", args, i++);
                case "--warmup" -> warmup = Usage.number("compare", args, i++);
                case "--iterations" -> iterations = Usage.number("compare", args, i++);
                case "--cold" -> cold = true;
                case "--runs" -> coldRuns = Usage.number("compare", args, i++);
                case "--no-warmup" -> compileWarmup = false;
                case "--aot" -> aot = true;
                case "--ort-no-spinning" -> ortSpinning = false;
                case "--forks" -> forks = Usage.number("compare", args, i++);
                default -> models.addAll(Usage.models("compare", args[i]));
            }
        }
        if (models.isEmpty()) {
            models.addAll(find(Path.of("testmodels", "cases")));
            if (Files.isDirectory(Path.of("benchmarks", "models"))) models.addAll(find(Path.of("benchmarks", "models")));
        }
        if (cold) {
            FirstInference.compare(models, threads, coldRuns, compileWarmup, aot);
            return;
        }
        OrtEnvironment env = forks > 0 ? null : OrtEnvironment.getEnvironment();
        List<Row> rows = new ArrayList<>();
        for (int t : threads) {
            for (int bi = 0; bi < batches.length; bi++) {
                for (Path m : models) {
                    if (bi > 0 && !hasSymbolicInput(m)) continue;
                    Row r = forks > 0 ? forked(m, t, batches[bi], warmup, iterations, ortSpinning, forks)
                            : compare(env, m, t, batches[bi], warmup, iterations, ortSpinning);
                    rows.add(r);
                    System.err.printf(Locale.ROOT, "%s threads=%d batch=%d: onnxrun %.3f ms, ONNX Runtime %.3f ms, ratio %.2f%n",
                            r.model(), t, r.batch(), r.oursMs(), r.ortMs(), r.ratio());
                }
            }
        }
        System.out.println(table(rows, warmup, iterations, forks));
    }

    /** {@link #compare} in {@code forks} fresh JVMs, one after another: the medians of their figures, the median and range of their ratios. */
    static Row forked(Path modelFile, int threads, long batch, int warmup, int iterations, boolean ortSpinning, int forks) throws Exception {
        String name = modelFile.getParent().getFileName().toString();
        double[][] figures = new double[5][forks];
        double[] ratios = new double[forks];
        for (int f = 0; f < forks; f++) {
            String[] out = ChildJvm.run(CompareWithOnnxRuntime.class, List.of(), List.of("--fork-child", modelFile.toString(), Integer.toString(threads),
                    Long.toString(batch), Integer.toString(warmup), Integer.toString(iterations), Boolean.toString(ortSpinning))).split(" ");
            for (int k = 0; k < 5; k++) figures[k][f] = Double.parseDouble(out[k]);
            ratios[f] = figures[0][f] / figures[1][f];
            System.err.printf(Locale.ROOT, "%s threads=%d batch=%d, JVM %d of %d: onnxrun %.3f ms, ONNX Runtime %.3f ms, ratio %.2f%n",
                    name, threads, batch, f + 1, forks, figures[0][f], figures[1][f], ratios[f]);
        }
        return new Row(name, threads, batch, median(figures[0]), median(figures[1]), median(figures[2]), median(figures[3]),
                Arrays.stream(figures[4]).max().orElseThrow(), median(ratios), Arrays.stream(ratios).min().orElseThrow(), Arrays.stream(ratios).max().orElseThrow());
    }

    static List<Path> find(Path p) throws Exception {
        if (Files.isRegularFile(p)) return List.of(p);
        if (Files.isRegularFile(p.resolve("model.onnx"))) return List.of(p.resolve("model.onnx"));
        try (Stream<Path> s = Files.list(p)) {
            return s.map(d -> d.resolve("model.onnx")).filter(Files::isRegularFile).sorted().toList();
        }
    }

    static boolean hasSymbolicInput(Path modelFile) {
        try (CompiledModel m = CompiledModel.compile(modelFile, new CompiledModel.Options(1))) {
            return m.inputs().stream().anyMatch(in -> ((ValueType.TensorType) in.type()).dims().stream().anyMatch(d -> !(d instanceof Dim.Known)));
        }
    }

    static Row compare(OrtEnvironment env, Path modelFile, int threads, long batch, int warmup, int iterations, boolean ortSpinning)
            throws OrtException {
        String name = modelFile.getParent().getFileName().toString();
        long t0 = System.nanoTime();
        CompiledModel ours = CompiledModel.compile(modelFile, new CompiledModel.Options(threads));
        Session session = ours.newSession();
        Map<String, Tensor> inputs = inputs(ours.inputs(), batch);
        Map<String, Tensor> oursOut = session.run(inputs);
        double oursFirst = (System.nanoTime() - t0) / 1e6;

        long t1 = System.nanoTime();
        OrtSession.SessionOptions options = new OrtSession.SessionOptions();
        options.setIntraOpNumThreads(threads);
        options.setInterOpNumThreads(1);
        // Both runtimes' workers spin through a run and stop when it ends. ORT's spin on after each
        // run by default, which interleaved on few cores takes the CPU from onnxrun's turn (its
        // times doubled), so they stop at the end of a run; --ort-no-spinning turns its spinning
        // off altogether (the tables before 2026-11-24 06:41: 20-25 % slower at two threads).
        if (ortSpinning) options.addConfigEntry("session.force_spinning_stop", "1");
        else options.addConfigEntry("session.intra_op.allow_spinning", "0");
        OrtSession ort = env.createSession(modelFile.toString(), options);
        Map<String, OnnxTensor> ortInputs = new HashMap<>();
        for (var e : inputs.entrySet()) ortInputs.put(e.getKey(), toOrt(env, e.getValue()));
        double maxDiff;
        try (OrtSession.Result first = ort.run(ortInputs)) {
            double ortFirst0 = (System.nanoTime() - t1) / 1e6;
            maxDiff = maxDifference(oursOut, first);
            double ortFirst = ortFirst0;
            // Tiny models finish thousands of runs before the JIT has compiled their kernels (on a busy
            // machine its queue drains slowly): warm up for at least `warmup` runs and WARMUP_NS, then
            // on in windows of WINDOW_NS until onnxrun's median stops improving; ORT runs alongside.
            long warmStart = System.nanoTime();
            double previous = Double.MAX_VALUE;
            for (int i = 0; ; ) {
                long windowStart = System.nanoTime();
                List<Long> window = new ArrayList<>();
                while (System.nanoTime() - windowStart < WINDOW_NS || window.size() < 20) {
                    window.add(timeOurs(session, inputs));
                    ort.run(ortInputs).close();
                    i++;
                }
                double median = median(window.stream().mapToLong(Long::longValue).toArray());
                long elapsed = System.nanoTime() - warmStart;
                boolean settled = median > previous * 0.97;
                if (i >= warmup && elapsed >= WARMUP_NS && settled || elapsed >= MAX_WARMUP_NS) break;
                previous = Math.min(previous, median);
            }
            int runs = iterations;
            long timedEnd = System.nanoTime() + TIMED_NS;
            long[] oursNs = new long[iterations], ortNs = new long[iterations];
            for (int i = 0; i < runs; i++) {
                if (i == runs - 1 && System.nanoTime() < timedEnd && runs < MAX_TIMED_RUNS) {
                    runs = Math.min(MAX_TIMED_RUNS, runs * 2);
                    oursNs = Arrays.copyOf(oursNs, runs);
                    ortNs = Arrays.copyOf(ortNs, runs);
                }
                // alternate which runs first, so neither always finds the caches warm
                if (i % 2 == 0) {
                    oursNs[i] = timeOurs(session, inputs);
                    ortNs[i] = timeOrt(ort, ortInputs);
                } else {
                    ortNs[i] = timeOrt(ort, ortInputs);
                    oursNs[i] = timeOurs(session, inputs);
                }
            }
            return new Row(name, threads, batch, median(oursNs), median(ortNs), oursFirst, ortFirst, maxDiff);
        } finally {
            ortInputs.values().forEach(OnnxTensor::close);
            ort.close();
            options.close();
            session.close();
            ours.close();
        }
    }

    static long timeOurs(Session s, Map<String, Tensor> inputs) {
        long t = System.nanoTime();
        s.run(inputs);
        return System.nanoTime() - t;
    }

    static long timeOrt(OrtSession s, Map<String, OnnxTensor> inputs) throws OrtException {
        long t = System.nanoTime();
        s.run(inputs).close();
        return System.nanoTime() - t;
    }

    /** The median of nanosecond times, in milliseconds. */
    static double median(long[] ns) { return median(Arrays.stream(ns).asDoubleStream().toArray()) / 1e6; }

    static double median(double[] xs) {
        double[] s = xs.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    /** Largest |ours − ONNX Runtime| over float outputs; fails loudly when they disagree beyond tolerance. */
    static double maxDifference(Map<String, Tensor> ours, OrtSession.Result theirs) {
        double max = 0;
        for (var e : ours.entrySet()) {
            OnnxTensor ref = (OnnxTensor) theirs.get(e.getKey()).orElseThrow();
            if (e.getValue().dtype() != DType.FLOAT) continue;
            var want = ref.getFloatBuffer();
            float[] got = e.getValue().toFloatArray();
            for (int i = 0; i < got.length; i++) {
                double d = Math.abs(got[i] - want.get(i));
                if (d > 1e-3 + 1e-2 * Math.abs(want.get(i))) {
                    throw new IllegalStateException(e.getKey() + "[" + i + "]: onnxrun " + got[i] + ", ONNX Runtime " + want.get(i));
                }
                max = Math.max(max, d);
            }
        }
        return max;
    }

    /** Seeded inputs of the declared shapes (symbolic dimensions {@code batch}): floats in [-1, 1), integers in [0, 10). */
    static Map<String, Tensor> inputs(List<ValueInfo> declared, long batch) {
        SplittableRandom r = new SplittableRandom(0);
        Map<String, Tensor> out = new HashMap<>();
        for (ValueInfo in : declared) {
            ValueType.TensorType t = (ValueType.TensorType) in.type();
            long[] shape = t.dims().stream().mapToLong(d -> d instanceof Dim.Known k ? k.size() : batch).toArray();
            Tensor x = Tensor.allocate(t.dtype(), shape);
            for (long i = 0; i < x.size(); i++) x.setDouble(i, t.dtype().isFloatingPoint() ? r.nextDouble(-1, 1) : r.nextInt(10));
            out.put(in.name(), x);
        }
        return out;
    }

    static OnnxTensor toOrt(OrtEnvironment env, Tensor t) throws OrtException {
        ByteBuffer b = ByteBuffer.allocateDirect((int) (t.size() * t.dtype().byteSize())).order(ByteOrder.nativeOrder());
        java.lang.foreign.MemorySegment.copy(t.segment(), 0, java.lang.foreign.MemorySegment.ofBuffer(b), 0, b.capacity());
        return switch (t.dtype()) {
            case FLOAT -> OnnxTensor.createTensor(env, b.asFloatBuffer(), t.shape());
            case INT64 -> OnnxTensor.createTensor(env, b.asLongBuffer(), t.shape());
            case INT32 -> OnnxTensor.createTensor(env, b.asIntBuffer(), t.shape());
            case DOUBLE -> OnnxTensor.createTensor(env, b.asDoubleBuffer(), t.shape());
            default -> throw new IllegalArgumentException("no ONNX Runtime input for " + t.dtype());
        };
    }

    static String table(List<Row> rows, int warmup, int iterations, int forks) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "Median of at least %d interleaved runs (and %.1f s) after at least %d warm-up runs (and %.1f s, "
                + "until onnxrun's median over %.1f s stops improving); first = load + compile + first run.%n", iterations, TIMED_NS / 1e9,
                warmup, WARMUP_NS / 1e9, WINDOW_NS / 1e9));
        if (forks > 0) sb.append(String.format(Locale.ROOT, "Each row in %d fresh JVMs: the medians of their figures; ratio = the median of their ratios, and their range.%n", forks));
        sb.append('\n');
        sb.append("| model | threads | batch | onnxrun ms | ONNX Runtime ms | ratio |" + (forks > 0 ? " JVMs' ratios |" : "")
                + " onnxrun first ms | ONNX Runtime first ms | max abs diff |\n");
        sb.append("|---|---|---|---|---|---|" + (forks > 0 ? "---|" : "") + "---|---|---|\n");
        double logSum = 0;
        for (Row r : rows) {
            logSum += Math.log(r.ratio());
            String range = forks > 0 ? String.format(Locale.ROOT, " %.2f–%.2f |", r.ratioLow(), r.ratioHigh()) : "";
            sb.append(String.format(Locale.ROOT, "| %s | %d | %d | %.3f | %.3f | %.2f |%s %.1f | %.1f | %.1e |%n",
                    r.model(), r.threads(), r.batch(), r.oursMs(), r.ortMs(), r.ratio(), range, r.oursFirstMs(), r.ortFirstMs(), r.maxDiff()));
        }
        sb.append(String.format(Locale.ROOT, "%nGeometric mean ratio (onnxrun / ONNX Runtime): %.2f%n", Math.exp(logSum / rows.size())));
        return sb.toString();
    }
}
