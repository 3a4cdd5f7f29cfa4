package dev.onnxrun.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.onnxrun.CompiledModel;
import dev.onnxrun.Session;
import dev.onnxrun.compiler.ModelFiles;
import dev.onnxrun.compiler.ir.Model;
import dev.onnxrun.compiler.ir.OpsetImports;
import dev.onnxrun.compiler.onnx.OnnxExporter;
import dev.onnxrun.compiler.onnx.OnnxImporter;
import dev.onnxrun.compiler.training.ImageDataset;
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
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
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

    static Stream<Arguments> cases() {
        Path mlp = Path.of("testmodels/cases/mlp/model.onnx"), lenet = Path.of("testmodels/cases/lenet_train/model.onnx");
        Path lenetSpec = Path.of("testmodels/specs/lenet.net");
        return Stream.of(
                Arguments.of("mlp", ModelFiles.load(mlp), "sgd"),
                Arguments.of("mlp", ModelFiles.load(mlp), "momentum"),
                Arguments.of("mlp", ModelFiles.load(mlp), "nesterov"),
                Arguments.of("mlp", ModelFiles.load(mlp), "adam"),
                Arguments.of("mlp", ModelFiles.load(mlp), "adagrad"),
                Arguments.of("lenet_train", ModelFiles.load(lenet), "sgd"),
                Arguments.of("lenet_train", ModelFiles.load(lenet), "adam"),
                Arguments.of("lenet.net", NetworkSpec.read(lenetSpec, 0).model(), "sgd"),
                Arguments.of("lenet.net", NetworkSpec.read(lenetSpec, 0).model(), "adam"),
                Arguments.of("pooled", NetworkSpec.parse(POOLED, 0).model(), "sgd"),
                Arguments.of("pooled", NetworkSpec.parse(POOLED, 0).model(), "adam"));
    }

    @ParameterizedTest(name = "{0} {2}")
    @MethodSource("cases")
    void oneStepAgreesInOnnxRuntimeOnnxrunAndTheTrainer(String name, Model inference, String optimizer) throws Exception {
        boolean normalizing = optimizer.equals("adam") || optimizer.equals("adagrad");
        // Adam's and Adagrad's first step moves each weight by about lr·g / (|g| + ε'): with the default ε a gradient that is
        // rounding noise (a conv bias before batchnorm has a true gradient of 0) moves its weight by up to ±lr, differently
        // for each summation order, so the comparison takes ε = 1e-4, where such noise moves nothing measurable
        UpdateRule rule = UpdateRule.parse(optimizer, normalizing ? 0.001 : 0.05, normalizing ? Map.of("epsilon", 1e-4) : Map.of());
        byte[] exported = OnnxExporter.toProto(UpdateGraph.of(inference, rule, BATCH)).toByteArray();
        Model step = OnnxImporter.load(exported);
        assertTrue(step.graph().nodes().stream().noneMatch(n -> n.domain().equals(OpsetImports.ONNXRUN_DOMAIN)), "own-domain ops left");

        TrainingGraph graphs = TrainingGraph.of(inference);
        ImageDataset data = dataset(graphs, inference);
        int[] order = new int[BATCH];
        for (int i = 0; i < BATCH; i++) order[i] = i;
        Map<String, Tensor> feed = new HashMap<>(UpdateGraph.initialValues(inference, rule));
        feed.put(graphs.images(), data.images(order, 0, BATCH, imageShape(inference, graphs)));
        feed.put(TrainingGraph.LABELS, data.labels(order, 0, BATCH));

        Map<String, Tensor> ours;
        try (CompiledModel c = CompiledModel.compile(step, new CompiledModel.Options(1)); Session s = c.newSession()) {
            ours = s.run(feed);
        }
        Map<String, float[]> ort = runInOnnxRuntime(exported, feed);
        assertEquals(ours.keySet(), ort.keySet());
        for (var e : ours.entrySet()) assertClose(ort.get(e.getKey()), e.getValue().toFloatArray(), "ONNX Runtime vs onnxrun: " + e.getKey());

        Trainer.Result trained = Trainer.train(inference, data, evaluation(data), new Trainer.Options(1, BATCH, 1, 1, rule), new Trainer.Listener() {});
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
    static ImageDataset dataset(TrainingGraph graphs, Model inference) {
        long[] shape = imageShape(inference, graphs);
        int pixels = (int) java.util.Arrays.stream(shape).reduce(1, Math::multiplyExact);
        SplittableRandom r = new SplittableRandom(3);
        byte[] px = new byte[BATCH * pixels], labels = new byte[BATCH];
        for (int i = 0; i < px.length; i++) px[i] = (byte) r.nextInt(256);
        for (int i = 0; i < BATCH; i++) labels[i] = (byte) r.nextInt(10);
        return new ImageDataset(px, labels, BATCH, pixels);
    }

    /** The first two images, as the trainer's evaluation after the step reads them: the MLP export takes batches of two only. */
    static ImageDataset evaluation(ImageDataset data) {
        return new ImageDataset(java.util.Arrays.copyOf(data.pixels(), 2 * data.pixelsPerImage()), java.util.Arrays.copyOf(data.labels(), 2), 2,
                data.pixelsPerImage());
    }

    /** One image's shape: the model input's dims after the batch. */
    static long[] imageShape(Model inference, TrainingGraph graphs) {
        var t = (dev.onnxrun.compiler.ir.ValueType.TensorType) inference.graph().typeOf(graphs.images());
        return t.dims().subList(1, t.rank()).stream().mapToLong(d -> ((dev.onnxrun.compiler.ir.Dim.Known) d).size()).toArray();
    }
}
