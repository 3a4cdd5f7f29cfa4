package dev.onnxrun.compiler.training;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.onnxrun.CompiledModel;
import dev.onnxrun.Session;
import dev.onnxrun.compiler.ir.Model;
import dev.onnxrun.compiler.ir.Node;
import dev.onnxrun.compiler.ir.ValueInfo;
import dev.onnxrun.runtime.Parallel;
import dev.onnxrun.runtime.Tensor;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class TrainingGraphTest {
    static final String NET = """
            input float[N,1,6,6]
            conv 2 kernel 3
            batchnorm
            relu
            flatten
            dense 3
            """;

    static TrainingGraph graphs() {
        return TrainingGraph.of(NetworkSpec.parse(NET, 3).model());
    }

    static Map<String, Tensor> batch(TrainingGraph g, int n) {
        SplittableRandom r = new SplittableRandom(5);
        float[] x = new float[n * 36];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextDouble();
        long[] labels = new long[n];
        for (int i = 0; i < n; i++) labels[i] = r.nextInt(3);
        Map<String, Tensor> feed = new HashMap<>(g.initialValues());
        feed.put(g.images(), Tensor.of(x, n, 1, 6, 6));
        feed.put(TrainingGraph.LABELS, Tensor.of(labels, n));
        return feed;
    }

    static Map<String, Tensor> run(Model m, Map<String, Tensor> feed) {
        try (CompiledModel c = CompiledModel.compile(m, new CompiledModel.Options(1)); Session s = c.newSession()) {
            return s.run(feed);
        }
    }

    @Test
    void runningStatisticsAreFedAndUpdatedButNotTrained() {
        TrainingGraph g = graphs();
        assertEquals(6, g.parameters().size(), g.parameters().toString());
        assertEquals(2, g.statistics().size());
        g.statistics().keySet().forEach(s -> assertTrue(!g.parameters().contains(s), s));
        Model training = g.training(4, Losses.Spec.of("cross-entropy"));
        Node bn = training.graph().nodes().stream().filter(n -> n.opType().equals("BatchNormalization")).findFirst().orElseThrow();
        assertEquals(1L, bn.attrs().getInt("training_mode", 0));
        List<String> outputs = training.graph().outputs().stream().map(ValueInfo::name).toList();
        assertEquals(TrainingGraph.LOSS, outputs.getFirst());
        g.parameters().forEach(p -> assertTrue(outputs.contains("grad/" + p), p));
        assertTrue(outputs.containsAll(g.statistics().values()), outputs.toString());

        Map<String, Tensor> out = run(training, batch(g, 4));
        String mean = g.statistics().keySet().iterator().next();
        // momentum 0.9: the running mean moves a tenth of the way from 0 to the batch mean
        Tensor updated = out.get(g.statistics().get(mean));
        assertTrue(updated.getDouble(0) != 0 || updated.getDouble(1) != 0, "running mean not updated");
    }

    @Test
    void oneSgdStepLowersTheLossOnItsBatch() {
        TrainingGraph g = graphs();
        Map<String, Tensor> feed = batch(g, 4);
        Model training = g.training(4, Losses.Spec.of("cross-entropy"));
        Map<String, Tensor> out = run(training, feed);
        UpdateRule sgd = UpdateRule.parse("sgd", Map.of());
        for (String p : g.parameters()) {
            feed.put(p, sgd.apply(1, 0.1, feed.get(p), out.get("grad/" + p), sgd.initialState(feed.get(p)), Parallel.SERIAL)[0]);
        }
        double before = out.get(TrainingGraph.LOSS).getDouble(0), after = run(training, feed).get(TrainingGraph.LOSS).getDouble(0);
        assertTrue(after < before, before + " -> " + after);
    }

    @Test
    void adamsFirstStepIsTheRateAgainstTheGradientsSign() {
        UpdateRule adam = UpdateRule.parse("adam", Map.of());
        Tensor x = Tensor.of(new float[] {1, 1}, 2);
        Tensor[] next = adam.apply(1, 0.01, x, Tensor.of(new float[] {0.5f, -2}, 2), adam.initialState(x), Parallel.SERIAL);
        // bias-corrected moments on step 1 are g and g², so the step is rate·g/|g|
        assertEquals(0.99, next[0].getDouble(0), 1e-6);
        assertEquals(1.01, next[0].getDouble(1), 1e-6);
    }

    @Test
    void evaluationKeepsBatchNormalizationInInferenceModeWithFedStatistics() {
        TrainingGraph g = graphs();
        Model eval = g.evaluation();
        assertTrue(eval.graph().nodes().stream().filter(n -> n.opType().equals("BatchNormalization"))
                .allMatch(n -> n.attrs().getInt("training_mode", 0) == 0));
        Map<String, Tensor> feed = batch(g, 2);
        feed.remove(TrainingGraph.LABELS);
        Tensor fed = run(eval, feed).get(g.logits());
        Map<String, Tensor> plain = Map.of(g.images(), feed.get(g.images()));
        Tensor inference = run(g.inference(g.initialValues()), plain).get(g.logits());
        for (int i = 0; i < fed.size(); i++) assertEquals(inference.getDouble(i), fed.getDouble(i), 1e-5);
    }
}
