package dev.onnxrun;

import dev.onnxrun.compiler.ir.Graph;
import dev.onnxrun.compiler.ir.Model;
import dev.onnxrun.compiler.ir.Node;
import dev.onnxrun.compiler.ops.OpRegistry;
import dev.onnxrun.runtime.DType;
import dev.onnxrun.runtime.ExecContext;
import dev.onnxrun.runtime.Parallel;
import dev.onnxrun.runtime.Tensor;
import dev.onnxrun.runtime.kernels.Activation;
import dev.onnxrun.runtime.kernels.AxisLayout;
import dev.onnxrun.runtime.kernels.Conv;
import dev.onnxrun.runtime.kernels.FusedGemm;
import dev.onnxrun.runtime.kernels.MatrixOps;
import dev.onnxrun.runtime.kernels.Normalization;
import dev.onnxrun.runtime.kernels.Pooling;
import dev.onnxrun.runtime.kernels.Softmax;
import dev.onnxrun.runtime.kernels.Windows;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * Warms the JIT up in the background while a model compiles, so that its first run finds the hot
 * kernels compiled. Vector API code runs boxed, one object per vector operation, until C2 compiles
 * it, and a cold JVM's first run of a CNN used to spend most of its time there; worse, a long
 * kernel loop met cold gets compiled twice (on-stack replacement, then the method), each costing
 * C2 a large share of a second. While the compiler works on the model (one thread), a daemon
 * thread builds the op registry (which the compiler needs right after reading the file) and then
 * calls the kernels the model's ops use on small tensors, many times over with short loops, so
 * the JIT sees them invoked often enough to compile whole methods. It stops when no compile is
 * in progress, after {@link #BUDGET_NANOS} or after {@link #ROUNDS} rounds; each workload
 * runs once per JVM, and only when the machine has cores to spare ({@link #coresToSpare}).
 * Off with {@link CompiledModel.Options#warmup}.
 */
final class Warmup {
    /** The longest a model's warm-up runs. */
    private static final long BUDGET_NANOS = 2_000_000_000L;

    /**
     * Kernel calls on small tensors standing for one family of kernels, and the nodes that call
     * for them. A model warms only the families its nodes use: warming a kernel it never runs
     * costs the JIT's threads time the first run needs (in resnet18's start, which has no
     * depthwise convolution, C1 spent 0.2 s on the depthwise kernel). DEPTHWISE also comes with
     * grouped convolutions that are not depthwise: the node alone does not say which.
     */
    enum Workload {
        CONVOLUTION(n -> n.opType().equals("Conv")) {
            @Override
            Runnable prepare() {
                Tensor x = random(1, 4, 8, 8), w = random(16, 4, 3, 3), bias = random(16), residual = random(1, 16, 8, 8);
                // 36 outputs: a last GEMM panel of 4 columns, which takes Gemm's narrow micro-kernel
                Tensor pointwise = random(16, 16, 1, 1), ragged = random(1, 16, 6, 6);
                // deeper than Gemm's depth block (32 channels × 9 taps > 256): its micro-kernel then adds into C as
                // well as writing it, and C2 compiles both sides rather than a trap the first deep layer would hit
                Tensor deep = random(1, 32, 8, 8), deepW = random(16, 32, 3, 3);
                Tensor fc = random(10, 16), fcBias = random(10);
                var fcPacked = MatrixOps.packRight(fc, true);
                Activation relu = new Activation(Activation.Kind.RELU, 0, 0);
                Conv.Params same = conv(3, 1, 1), one = conv(1, 1, 1), strided = conv(3, 2, 1);
                Conv.PackedWeights packedSame = Conv.pack(w, same), packedPointwise = Conv.pack(pointwise, one);
                Conv.PackedWeights packedStrided = Conv.pack(w, strided), packedDeep = Conv.pack(deepW, strided);
                return () -> {
                    Tensor y = Conv.conv(x, w, packedSame, bias, residual, relu, same, ExecContext.singleThreaded());
                    Conv.conv(y, pointwise, packedPointwise, null, null, Activation.NONE, one, ExecContext.singleThreaded());
                    Conv.conv(ragged, pointwise, packedPointwise, null, null, Activation.NONE, one, ExecContext.singleThreaded());
                    Conv.conv(x, w, packedStrided, bias, null, relu, strided, ExecContext.singleThreaded());
                    Conv.conv(deep, deepW, packedDeep, bias, null, relu, strided, ExecContext.singleThreaded());
                    Tensor g = Pooling.global(y, Pooling.Kind.AVERAGE, 2, ExecContext.singleThreaded()).reshape(1, 16);
                    FusedGemm.gemm(g, fc, fcPacked, fcBias, null, false, true, 1, 1, Activation.NONE, ExecContext.singleThreaded());
                };
            }
        },
        DEPTHWISE(n -> n.opType().equals("Conv") && n.attrs().getInt("group", 1) > 1) {
            @Override
            Runnable prepare() {
                Tensor depthwise = random(16, 1, 3, 3), bias = random(16);
                // maps narrow enough for the channel-block kernel, and wide enough for the channel-by-channel one
                Tensor square = random(1, 16, 8, 8), narrow = random(1, 16, 4, 4), wide = random(1, 16, 4, 20);
                Activation relu6 = new Activation(Activation.Kind.CLIP, 0, 6);
                Conv.Params dw = conv(3, 1, 16);
                Conv.PackedWeights packed = Conv.pack(depthwise, dw);
                return () -> {
                    for (Tensor x : new Tensor[] {square, narrow, wide}) Conv.conv(x, depthwise, packed, bias, null, relu6, dw, ExecContext.singleThreaded());
                };
            }
        },
        POOLING(n -> n.opType().equals("MaxPool") || n.opType().equals("AveragePool")) {
            @Override
            Runnable prepare() {
                Tensor x = random(1, 16, 8, 8);
                Pooling.Params pool = new Pooling.Params(new long[] {3, 3}, new long[] {2, 2}, null, new long[] {1, 1, 1, 1},
                        Windows.AutoPad.NOTSET, false, false, 2, false);
                return () -> Pooling.pool(x, Pooling.Kind.MAX, pool, false, ExecContext.singleThreaded());
            }
        },
        MATRIX_PRODUCT(n -> n.opType().equals("Gemm") || n.opType().equals("MatMul")) {
            @Override
            Runnable prepare() {
                Tensor rows = random(2, 32), sequence = random(1, 10, 32), w = random(32, 32), bias = random(32);
                Tensor keys = random(1, 2, 16, 10), gamma = random(32), beta = random(32);
                var packed = MatrixOps.packRight(w, false);
                Activation relu = new Activation(Activation.Kind.RELU, 0, 0);
                return () -> {
                    FusedGemm.gemm(rows, w, packed, bias, null, false, false, 1, 1, relu, ExecContext.singleThreaded());
                    Tensor h = FusedGemm.gemm(sequence, w, packed, bias, null, false, false, 1, 1, Activation.NONE, ExecContext.singleThreaded());
                    Tensor scores = MatrixOps.matMul(h.reshape(1, 2, 10, 16), keys, Parallel.SERIAL);
                    Softmax.apply(scores, AxisLayout.around(scores.shape(), 3), Softmax.Kind.SOFTMAX, ExecContext.singleThreaded());
                    Normalization.layerNorm(h, gamma, beta, -1, 1e-5, DType.FLOAT, ExecContext.singleThreaded());
                };
            }
        };

        /** Whether a node (of the standard domain) runs this family's kernels. */
        private final Predicate<Node> usedBy;

        Workload(Predicate<Node> usedBy) {
            this.usedBy = usedBy;
        }

        /** Makes the inputs; returns one round of kernel calls on them. */
        abstract Runnable prepare();
    }

    /** The most rounds of a model's workloads. */
    private static final int ROUNDS = 1500;

    private static final Set<Workload> STARTED = EnumSet.noneOf(Workload.class);
    /** Compiles in progress: the warm-up only runs while the JVM has nothing better to do with a core. */
    private static final AtomicInteger COMPILING = new AtomicInteger();
    private static ExecutorService worker;

    private Warmup() {}

    /**
     * Marks a compile as started and, when a core is free for it, starts building the registry's
     * elementwise family (every model needs it, and it costs the most) while the caller reads the
     * model file.
     */
    static void begin() {
        COMPILING.incrementAndGet();
        if (coresToSpare()) submit(() -> OpRegistry.get().knows("", "Add"));
    }

    /**
     * Whether the JVM has a second core, for the warm-up beside the compile. Measured on a 2-core
     * VM at load average 4-5 (other processes), with the JIT settings of jvm.options and this
     * workload: mobilenet_v2's, squeezenet1_1's and the encoder's first inference 3-14 % faster,
     * resnet18's a wash, small models within the noise without an AOT cache; from one, small
     * recurrent models (lstm2, gru) up to 23 % slower, their load being short enough for the
     * warm-up's CPU to show. An earlier gate on two idle cores kept it off on any loaded machine; that was
     * measured when the micro-kernel was compiled twice over and the warm-up never accumulated.
     */
    private static boolean coresToSpare() {
        return Runtime.getRuntime().availableProcessors() >= 2;
    }

    /**
     * Queues the workloads {@code model}'s nodes call for that this JVM has not run yet, when a
     * core is free for them: one task calls them in turn, round after round, so each family is
     * warm by the time the compile ends.
     */
    static void forModel(Model model) {
        if (!coresToSpare()) return;
        List<Workload> fresh = new ArrayList<>();
        synchronized (STARTED) {
            for (Workload w : workloadsFor(model.graph())) if (STARTED.add(w)) fresh.add(w);
        }
        if (fresh.isEmpty()) return;
        submit(() -> {
            long deadline = System.nanoTime() + BUDGET_NANOS;
            List<Runnable> rounds = fresh.stream().map(Workload::prepare).toList();
            for (int i = 0; i < ROUNDS && COMPILING.get() > 0 && System.nanoTime() < deadline; i++) rounds.forEach(Runnable::run);
        });
    }

    /** The workloads whose kernels the nodes of {@code g} (and its subgraphs) use. */
    static Set<Workload> workloadsFor(Graph g) {
        Set<Workload> out = EnumSet.noneOf(Workload.class);
        collectWorkloads(g, out);
        return out;
    }

    /** Marks a compile begun with {@link #begin} as finished. */
    static void end() {
        COMPILING.decrementAndGet();
    }

    private static void collectWorkloads(Graph g, Set<Workload> out) {
        for (Node n : g.nodes()) {
            if (n.domain().isEmpty()) {
                for (Workload w : Workload.values()) if (w.usedBy.test(n)) out.add(w);
            }
            n.attributes().values().forEach(a -> {
                if (a.value() instanceof Graph sub) collectWorkloads(sub, out);
            });
        }
    }

    private static synchronized void submit(Runnable task) {
        if (worker == null) {
            worker = Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, "onnxrun-warmup");
                t.setDaemon(true);
                return t;
            });
        }
        worker.execute(() -> {
            try {
                task.run();
            } catch (RuntimeException e) {
                // the warm-up only saves time; a kernel that rejects these shapes costs nothing else
            }
        });
    }

    private static Conv.Params conv(long kernel, long stride, long group) {
        long pad = kernel / 2;
        return new Conv.Params(new long[] {kernel, kernel}, new long[] {stride, stride}, null, new long[] {pad, pad, pad, pad},
                Windows.AutoPad.NOTSET, group, null, null);
    }

    /** Seeded float32 values in [-1, 1). */
    private static Tensor random(long... shape) {
        SplittableRandom r = new SplittableRandom(shape.length);
        Tensor t = Tensor.allocate(DType.FLOAT, shape);
        for (long i = 0; i < t.size(); i++) t.setFloat(i, (float) r.nextDouble(-1, 1));
        return t;
    }
}
