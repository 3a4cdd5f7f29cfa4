package dev.onnxrun.compiler.training;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.onnxrun.CompiledModel;
import dev.onnxrun.Session;
import dev.onnxrun.compiler.ir.Model;
import dev.onnxrun.compiler.ir.OpsetImports;
import dev.onnxrun.compiler.ir.ValueInfo;
import dev.onnxrun.runtime.Tensor;
import dev.onnxrun.runtime.kernels.Optimizers;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The training step graph trains as the trainer does: three steps of the graph on one batch,
 * each step's {@code .new} outputs fed back, against three epochs of {@link Trainer} over the
 * same batch (graph for gradients, {@link UpdateRule} in Java for the update).
 */
class UpdateGraphTest {
    /** Batchnorm after the activation: a bias right before it would get a gradient of rounding noise only, which Adam's and
     *  Adagrad's first steps scale up to ±lr whatever its size, so each path's rounding would decide that bias. */
    static final String NET = """
            input float[N,1,6,6]
            conv 2 kernel 3
            relu
            batchnorm
            avgpool 2
            flatten
            dense 3
            """;
    static final int BATCH = 6;
    static final int STEPS = 3;

    static Stream<UpdateRule> rules() {
        return Stream.of(
                UpdateRule.parse("sgd", 0.1, Map.of()),
                UpdateRule.parse("momentum", 0.1, Map.of("weight_decay", 0.01)),
                UpdateRule.parse("nesterov", 0.1, Map.of()),
                UpdateRule.parse("adam", 0.01, Map.of("weight_decay", 0.01)),
                UpdateRule.parse("adagrad", 0.1, Map.of()),
                // the settings parse never makes: a first-step gradient weight, a decaying rate, decay after Adam's step
                new UpdateRule.Momentum(0.1, new Optimizers.MomentumParams(0.9, 0.5, 0, Optimizers.MomentumMode.STANDARD)),
                new UpdateRule.Adagrad(0.1, new Optimizers.AdagradParams(0.5, 1e-6, 0.01)),
                new UpdateRule.Adam(0.01, new Optimizers.AdamParams(0.9, 0.999, 1e-8, 0, 0.01)));
    }

    @ParameterizedTest
    @MethodSource("rules")
    void stepsOfTheGraphMatchTheTrainer(UpdateRule rule) {
        Model inference = NetworkSpec.parse(NET, 3).model();
        ImageDataset data = dataset();
        Trainer.Result trained = Trainer.train(inference, data, data, new Trainer.Options(STEPS, BATCH, 1, 1, rule), new Trainer.Listener() {});

        Model step = UpdateGraph.of(inference, rule, BATCH);
        TrainingGraph graphs = TrainingGraph.of(inference);
        int[] order = {0, 1, 2, 3, 4, 5};
        Map<String, Tensor> values = UpdateGraph.initialValues(inference, rule);
        double loss = Double.NaN;
        try (CompiledModel c = CompiledModel.compile(step, new CompiledModel.Options(1)); Session s = c.newSession()) {
            for (int i = 0; i < STEPS; i++) {
                Map<String, Tensor> feed = new HashMap<>(values);
                feed.put(graphs.images(), data.images(order, 0, BATCH, new long[] {1, 6, 6}));
                feed.put(TrainingGraph.LABELS, data.labels(order, 0, BATCH));
                Map<String, Tensor> out = s.run(feed);
                loss = out.get(TrainingGraph.LOSS).getDouble(0);
                values = UpdateGraph.next(values, out);
            }
        }
        assertEquals(trained.epochs().getLast().loss(), loss, 1e-5 * Math.abs(loss), "loss of the last step");
        for (var e : trained.trained().graph().initializers().entrySet()) {
            if (!values.containsKey(e.getKey())) continue;
            float[] want = e.getValue().toFloatArray(), got = values.get(e.getKey()).toFloatArray();
            for (int i = 0; i < want.length; i++) {
                assertEquals(want[i], got[i], 1e-6 + 1e-5 * Math.abs(want[i]), e.getKey() + " element " + i);
            }
        }
    }

    @Test
    void inputsAndOutputsAreNamedAfterWhatTheyHold() {
        Model inference = NetworkSpec.parse(NET, 3).model();
        TrainingGraph graphs = TrainingGraph.of(inference);
        Model step = UpdateGraph.of(inference, UpdateRule.parse("adam", 0.001, Map.of()), 4);
        List<String> inputs = step.graph().inputs().stream().map(ValueInfo::name).toList();
        List<String> outputs = step.graph().outputs().stream().map(ValueInfo::name).toList();
        String w = graphs.parameters().getFirst();
        assertTrue(inputs.containsAll(List.of(graphs.images(), TrainingGraph.LABELS, w, w + ".adam_m", w + ".adam_v", UpdateGraph.STEP)), inputs.toString());
        assertTrue(outputs.containsAll(List.of(TrainingGraph.LOSS, w + ".new", w + ".adam_m.new", w + ".adam_v.new", "step.new")), outputs.toString());
        for (String input : inputs) {
            if (!input.equals(graphs.images()) && !input.equals(TrainingGraph.LABELS)) assertTrue(outputs.contains(input + ".new"), input);
        }
        assertTrue(step.graph().nodes().stream().noneMatch(n -> n.domain().equals(OpsetImports.ONNXRUN_DOMAIN)), "own-domain ops left");
        assertEquals(List.of(), UpdateGraph.stateSuffixes(UpdateRule.parse("sgd", 0.1, Map.of())), "plain SGD keeps no state");
    }

    /** Six 6×6 images, two per class. */
    static ImageDataset dataset() {
        SplittableRandom r = new SplittableRandom(11);
        byte[] pixels = new byte[BATCH * 36], labels = new byte[BATCH];
        for (int i = 0; i < pixels.length; i++) pixels[i] = (byte) r.nextInt(256);
        for (int i = 0; i < BATCH; i++) labels[i] = (byte) (i % 3);
        return new ImageDataset(pixels, labels, BATCH, 36);
    }
}
