package dev.onnxrun.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.onnxrun.CompiledModel;
import dev.onnxrun.Session;
import dev.onnxrun.compiler.ModelFiles;
import dev.onnxrun.compiler.ir.Dim;
import dev.onnxrun.compiler.ir.Graph;
import dev.onnxrun.compiler.ir.Model;
import dev.onnxrun.compiler.ir.OpsetImports;
import dev.onnxrun.compiler.ir.ValueInfo;
import dev.onnxrun.compiler.ir.ValueType;
import dev.onnxrun.compiler.ir.ValueType.TensorType;
import dev.onnxrun.compiler.onnx.OnnxExporter;
import dev.onnxrun.compiler.onnx.OnnxImporter;
import dev.onnxrun.compiler.training.Dataset;
import dev.onnxrun.compiler.training.LearningRate;
import dev.onnxrun.compiler.training.Losses;
import dev.onnxrun.compiler.training.NetworkSpec;
import dev.onnxrun.compiler.training.Trainer;
import dev.onnxrun.compiler.training.TrainingGraph;
import dev.onnxrun.compiler.training.UpdateGraph;
import dev.onnxrun.compiler.training.UpdateRule;
import dev.onnxrun.runtime.DType;
import dev.onnxrun.runtime.Tensor;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * One training step exported as standard ONNX ({@code onnxrun grad}) runs in ONNX Runtime and
 * agrees with onnxrun running the same file and with onnxrun's {@link Trainer} (its own graph
 * for the gradients, the update in Java) on the same batch: the loss and every updated
 * parameter, running statistic and optimizer state.
 */
class TrainingStepOracleTest {
    static final int BATCH = 8;
    /** Average pooling and a grouped, strided convolution: the AveragePoolGrad form, and ConvWeightGrad's with groups and a cut. */
    static final String POOLED = """
            input float[N,1,28,28]
            conv 4 kernel 3 pad 1
            relu
            avgpool 3 stride 2
            conv 4 kernel 2 stride 2 groups 2
            relu
            flatten
            dense 10
            """;

    /**
     * One exported step.
     *
     * @param rateInput the learning rate fed through the lr input instead of a constant of the graph
     * @param clipNorm  the clipping bound, 0 for none
     */
    record Case(String model, Model inference, String optimizer, Losses.Spec loss, boolean rateInput, double clipNorm) {
        Case(String model, Model inference, String optimizer) { this(model, inference, optimizer, Losses.Spec.of("cross-entropy"), false, 0); }

        @Override
        public String toString() {
            return model + " " + optimizer + " " + loss.name() + (rateInput ? " lr input" : "") + (clipNorm > 0 ? " clipped" : "");
        }
    }

    static Stream<Case> cases() {
        Model mlp = anyBatch(ModelFiles.load(Path.of("testmodels/cases/mlp/model.onnx")));
        Model lenet = ModelFiles.load(Path.of("testmodels/cases/lenet_train/model.onnx"));
        Model lenetSpec = NetworkSpec.read(Path.of("testmodels/specs/lenet.net"), 0).model(), pooled = NetworkSpec.parse(POOLED, 0).model();
        Stream<Case> optimizers = Stream.of(
                new Case("mlp", mlp, "sgd"),
                new Case("mlp", mlp, "momentum"),
                new Case("mlp", mlp, "nesterov"),
                new Case("mlp", mlp, "adam"),
                new Case("mlp", mlp, "adamw"),
                new Case("mlp", mlp, "adagrad"),
                new Case("mlp", mlp, "rmsprop"),
                new Case("lenet_train", lenet, "sgd"),
                new Case("lenet_train", lenet, "adam"),
                new Case("lenet_train", lenet, "adamw"),
                new Case("lenet_train", lenet, "rmsprop"),
                new Case("lenet.net", lenetSpec, "sgd"),
                new Case("lenet.net", lenetSpec, "adam"),
                new Case("lenet.net", lenetSpec, "adamw", Losses.Spec.of("cross-entropy"), true, 0),
                // clipping with a plain step, where it shows (Adam's ratio of moments hardly changes with a common factor)
                new Case("lenet.net", lenetSpec, "sgd", Losses.Spec.of("cross-entropy"), true, 0.1),
                new Case("pooled", pooled, "sgd"),
                new Case("pooled", pooled, "adam"));
        // every other loss (nll reads the MLP's scores as log-probabilities, which changes nothing of its arithmetic)
        Stream<Case> losses = Losses.names().stream().filter(n -> !n.equals("cross-entropy"))
                .map(n -> new Case("mlp", mlp, "sgd", Losses.Spec.of(n), false, 0));
        return Stream.concat(optimizers, losses);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void oneStepAgreesInOnnxRuntimeOnnxrunAndTheTrainer(Case c) throws Exception {
        Model inference = c.inference();
        boolean normalizing = !List.of("sgd", "momentum", "nesterov").contains(c.optimizer());
        // the first step of Adam, AdamW, Adagrad and RMSprop moves each weight by about lr·g / (c·|g| + ε) (c = 1, RMSprop's
        // 0.1): with the default ε a gradient that is rounding noise (a conv bias before batchnorm has a true gradient of 0,
        // and gets some 1e-7) moves its weight by up to ±lr, differently for each summation order, so the comparison takes
        // ε = 1e-2, where such noise moves a weight by 1e-8
        UpdateRule rule = UpdateRule.parse(c.optimizer(), normalizing ? Map.of("epsilon", 1e-2) : Map.of());
        double rate = normalizing ? 0.001 : 0.05;
        UpdateGraph.Options options = new UpdateGraph.Options(c.loss(), rule, c.rateInput() ? null : rate, c.clipNorm());
        byte[] exported = OnnxExporter.toProto(UpdateGraph.of(inference, options, BATCH)).toByteArray();
        Model step = OnnxImporter.load(exported);
        assertTrue(step.graph().nodes().stream().noneMatch(n -> n.domain().equals(OpsetImports.ONNXRUN_DOMAIN)), "own-domain ops left");

        TrainingGraph graphs = TrainingGraph.of(inference);
        Dataset data = dataset(graphs, inference);
        int[] order = new int[BATCH];
        for (int i = 0; i < BATCH; i++) order[i] = i;
        Map<String, Tensor> feed = new HashMap<>(UpdateGraph.initialValues(inference, rule));
        feed.put(graphs.images(), data.features(order, 0, BATCH, imageShape(inference, graphs)));
        feed.put(TrainingGraph.LABELS, data.labels(order, 0, BATCH));
        if (c.rateInput()) feed.put(UpdateGraph.RATE, Tensor.scalar((float) rate));

        Map<String, Tensor> ours;
        try (CompiledModel compiled = CompiledModel.compile(step, new CompiledModel.Options(1)); Session s = compiled.newSession()) {
            ours = s.run(feed);
        }
        Map<String, float[]> ort = runInOnnxRuntime(exported, feed);
        assertEquals(ours.keySet(), ort.keySet());
        for (var e : ours.entrySet()) assertClose(ort.get(e.getKey()), e.getValue().toFloatArray(), "ONNX Runtime vs onnxrun: " + e.getKey());

        Trainer.Options train = new Trainer.Options(1, BATCH, 1, 1, rule, LearningRate.constant(rate), c.clipNorm(), c.loss(), null, false);
        Trainer.Result trained = Trainer.train(inference, data, data, train, new Trainer.Listener() {});
        assertClose(new float[] {(float) trained.epochs().getFirst().loss()}, ours.get(TrainingGraph.LOSS).toFloatArray(), "trainer vs graph: loss");
        int compared = 0;
        for (var e : trained.trained().graph().initializers().entrySet()) {
            Tensor updated = ours.get(e.getKey() + UpdateGraph.NEW);
            if (updated == null) continue;
            assertClose(e.getValue().toFloatArray(), updated.toFloatArray(), "trainer vs graph: " + e.getKey());
            compared++;
        }
        assertEquals(graphs.parameters().size() + graphs.statistics().size(), compared);
    }

    /**
     * Each element within 1e-5 of the tensor's largest magnitude: an element near zero (a logit, a weight) is a sum of
     * larger terms, and its rounding is of their size, not its own.
     */
    static void assertClose(float[] want, float[] got, String what) {
        assertEquals(want.length, got.length, what);
        double scale = 0;
        for (float w : want) scale = Math.max(scale, Math.abs(w));
        for (int i = 0; i < want.length; i++) assertEquals(want[i], got[i], 1e-7 + 1e-5 * scale, what + " element " + i);
    }

    static Map<String, float[]> runInOnnxRuntime(byte[] model, Map<String, Tensor> feed) throws Exception {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        Map<String, OnnxTensor> inputs = new HashMap<>();
        try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
            o.setIntraOpNumThreads(1);
            try (OrtSession session = env.createSession(model, o)) {
                for (var e : feed.entrySet()) {
                    Tensor t = e.getValue();
                    inputs.put(e.getKey(), t.dtype() == DType.INT64
                            ? OnnxTensor.createTensor(env, LongBuffer.wrap(t.toLongArray()), t.shape())
                            : OnnxTensor.createTensor(env, FloatBuffer.wrap(t.toFloatArray()), t.shape()));
                }
                Map<String, float[]> out = new HashMap<>();
                try (OrtSession.Result r = session.run(inputs)) {
                    for (var e : r) {
                        OnnxTensor t = (OnnxTensor) e.getValue();
                        if (t.getInfo().type == ai.onnxruntime.OnnxJavaType.INT64) {
                            out.put(e.getKey(), toFloats(t.getLongBuffer()));
                        } else {
                            FloatBuffer b = t.getFloatBuffer();
                            float[] values = new float[b.remaining()];
                            b.get(values);
                            out.put(e.getKey(), values);
                        }
                    }
                }
                return out;
            } finally {
                inputs.values().forEach(OnnxTensor::close);
            }
        }
    }

    private static float[] toFloats(LongBuffer b) {
        float[] values = new float[b.remaining()];
        for (int i = 0; i < values.length; i++) values[i] = b.get(i);
        return values;
    }

    /** BATCH random images with labels 0..9. */
    static Dataset dataset(TrainingGraph graphs, Model inference) {
        long[] shape = imageShape(inference, graphs);
        int pixels = (int) java.util.Arrays.stream(shape).reduce(1, Math::multiplyExact);
        SplittableRandom r = new SplittableRandom(3);
        byte[] px = new byte[BATCH * pixels];
        int[] labels = new int[BATCH];
        for (int i = 0; i < px.length; i++) px[i] = (byte) r.nextInt(256);
        for (int i = 0; i < BATCH; i++) labels[i] = r.nextInt(10);
        return Dataset.ofBytes(px, labels, pixels);
    }

    /** {@code m} with a symbolic batch size: PyTorch exported the MLP for batches of two, the trainer evaluates one sample too. */
    static Model anyBatch(Model m) {
        Graph g = m.graph();
        Map<String, ValueType> types = new HashMap<>(g.valueTypes());
        List<ValueInfo> inputs = g.inputs().stream().map(v -> {
            if (g.initializers().containsKey(v.name()) || !(v.type() instanceof TensorType t) || !t.hasRank()) return v;
            List<Dim> dims = new ArrayList<>(t.dims());
            dims.set(0, new Dim.Symbolic("N"));
            TensorType batched = new TensorType(t.dtype(), dims);
            types.put(v.name(), batched);
            return new ValueInfo(v.name(), batched);
        }).toList();
        return m.withGraph(new Graph(g.name(), inputs, g.outputs(), g.initializers(), g.nodes(), types));
    }

    /** One image's shape: the model input's dims after the batch. */
    static long[] imageShape(Model inference, TrainingGraph graphs) {
        var t = (TensorType) inference.graph().typeOf(graphs.images());
        return t.dims().subList(1, t.rank()).stream().mapToLong(d -> ((Dim.Known) d).size()).toArray();
    }
}
