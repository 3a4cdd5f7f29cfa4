package dev.onnxrun.compiler.training;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.onnxrun.CompiledModel;
import dev.onnxrun.Session;
import dev.onnxrun.compiler.ir.Model;
import dev.onnxrun.compiler.ir.Node;
import dev.onnxrun.runtime.Tensor;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The committed example specs' training graphs: recurrent layers and dropout train through their gradients. */
class SpecTrainingTest {
    static NetworkSpec.Parsed spec(String file) {
        return NetworkSpec.read(Path.of("../testmodels/specs", file), 1);
    }

    /**
     * Sequences of 28 steps of 28 features where class k lights features 2k to 2k+2 at every
     * step, under uniform noise: a task the last hidden state can tell apart.
     */
    static Map<String, Tensor> batch(TrainingGraph g, int n, SplittableRandom r) {
        float[] x = new float[n * 28 * 28];
        long[] labels = new long[n];
        for (int i = 0; i < n; i++) {
            int k = r.nextInt(10);
            labels[i] = k;
            for (int t = 0; t < 28; t++) {
                for (int c = 0; c < 28; c++) x[(i * 28 + t) * 28 + c] = (float) (0.3 * r.nextDouble() + (c >= 2 * k && c <= 2 * k + 2 ? 0.7 : 0));
            }
        }
        return Map.of(g.images(), Tensor.of(x, n, 28, 28), TrainingGraph.LABELS, Tensor.of(labels, n));
    }

    @Test
    void lstmClassifierLossFallsOverAFewSteps() {
        TrainingGraph g = TrainingGraph.of(spec("lstm_classifier.net").model());
        assertTrue(g.parameters().size() >= 5, g.parameters().toString()); // W, R, B of the LSTM, dense weight and bias
        Map<String, Tensor> values = new HashMap<>(g.initialValues());
        SplittableRandom random = new SplittableRandom(2);
        List<Map<String, Tensor>> batches = List.of(batch(g, 16, random), batch(g, 16, random));
        double first = 0, last = 0;
        int epochs = 6;
        try (CompiledModel training = CompiledModel.compile(g.training(16, Losses.Spec.of("cross-entropy")), new CompiledModel.Options(1))) {
            for (int epoch = 0; epoch < epochs; epoch++) {
                double loss = 0;
                for (Map<String, Tensor> b : batches) {
                    Map<String, Tensor> feed = new HashMap<>(values);
                    feed.putAll(b);
                    Map<String, Tensor> out;
                    try (Session s = training.newSession()) {
                        out = s.run(feed);
                    }
                    loss += out.get(TrainingGraph.LOSS).getDouble(0) / batches.size();
                    for (String p : g.parameters()) values.put(p, sgdStep(values.get(p), out.get("grad/" + p), 0.5));
                }
                if (epoch == 0) first = loss;
                last = loss;
            }
        }
        // ln 10 = 2.30 at chance
        assertTrue(last < 0.7 * first, "mean loss " + first + " -> " + last);
    }

    private static Tensor sgdStep(Tensor p, Tensor grad, double rate) {
        Tensor next = Tensor.allocate(p.dtype(), p.shape());
        for (long i = 0; i < p.size(); i++) next.setDouble(i, p.getDouble(i) - rate * grad.getDouble(i));
        return next;
    }

    @Test
    void dropoutTrainsWithARandomMaskAndEvaluatesAsTheIdentity() {
        TrainingGraph g = TrainingGraph.of(spec("mlp.net").model());
        Model training = g.training(4, Losses.Spec.of("cross-entropy"));
        Node dropout = training.graph().nodes().stream().filter(n -> n.opType().equals("Dropout")).findFirst().orElseThrow();
        assertEquals(3, dropout.inputs().size());
        assertEquals(2, dropout.outputs().size(), "the mask its gradient reads");
        assertTrue(dropout.attrs().has("seed"));
        SplittableRandom r = new SplittableRandom(4);
        float[] x = new float[4 * 784];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextDouble();
        Map<String, Tensor> feed = new HashMap<>(g.initialValues());
        feed.put(g.images(), Tensor.of(x, 4, 784));
        feed.put(TrainingGraph.LABELS, Tensor.of(new long[] {1, 2, 3, 4}, 4));
        try (CompiledModel c = CompiledModel.compile(training, new CompiledModel.Options(1)); Session s = c.newSession()) {
            // each step draws a new mask, so the same batch gives another loss
            assertNotEquals(s.run(feed).get(TrainingGraph.LOSS).getDouble(0), s.run(feed).get(TrainingGraph.LOSS).getDouble(0));
        }
        feed.remove(TrainingGraph.LABELS);
        try (CompiledModel c = CompiledModel.compile(g.evaluation(), new CompiledModel.Options(1)); Session s = c.newSession()) {
            Tensor a = s.run(feed).get(g.logits()), b = s.run(feed).get(g.logits());
            // float rounding may differ between runs as the JIT swaps kernel code; a dropped unit would differ by far more
            for (long i = 0; i < a.size(); i++) assertEquals(a.getDouble(i), b.getDouble(i), 1e-5 * (1 + Math.abs(a.getDouble(i))));
        }
    }
}
