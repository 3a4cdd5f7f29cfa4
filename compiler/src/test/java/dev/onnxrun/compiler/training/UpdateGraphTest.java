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
 * same batch (graph for gradients, {@link UpdateRule} in Java for the update), for every
 * optimizer, every loss, clipping and a scheduled rate fed through the {@code lr} input.
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
    static final Losses.Spec CROSS_ENTROPY = Losses.Spec.of("cross-entropy");

    /**
     * One setup of the step.
     *
     * @param rate     the learning rate of every step, or a schedule fed through the lr input
     * @param clipNorm the clipping bound, 0 for none
     */
    record Case(String name, UpdateRule rule, LearningRate rate, boolean rateInput, Losses.Spec loss, double clipNorm, String net) {
        static Case of(String optimizer, double rate, Map<String, Double> settings) {
            return of(optimizer + " " + settings, UpdateRule.parse(optimizer, settings), rate);
        }

        static Case of(String name, UpdateRule rule, double rate) {
            return new Case(name, rule, LearningRate.constant(rate), false, CROSS_ENTROPY, 0, NET);
        }

        static Case loss(Losses.Spec loss, String net) {
            return new Case(loss.name(), UpdateRule.parse("sgd", Map.of()), LearningRate.constant(0.1), false, loss, 0, net);
        }

        @Override
        public String toString() { return name; }
    }

    static Stream<Case> rules() {
        return Stream.of(
                Case.of("sgd", 0.1, Map.of()),
                Case.of("momentum", 0.1, Map.of("weight_decay", 0.01)),
                Case.of("nesterov", 0.1, Map.of()),
                Case.of("adam", 0.01, Map.of("weight_decay", 0.01)),
                Case.of("adamw", 0.01, Map.of()),
                Case.of("adagrad", 0.1, Map.of("weight_decay", 0.01)),
                Case.of("rmsprop", 0.01, Map.of()),
                Case.of("rmsprop", 0.01, Map.of("centered", 1.0, "momentum", 0.9, "weight_decay", 0.01)),
                Case.of("rmsprop", 0.01, Map.of("momentum", 0.5)),
                // the settings parse never makes: a first-step gradient weight, a decaying rate
                Case.of("momentum beta 0.5", new UpdateRule.Momentum(new Optimizers.MomentumParams(0.9, 0.5, 0, Optimizers.MomentumMode.STANDARD)), 0.1),
                Case.of("adagrad decay 0.5", new UpdateRule.Adagrad(new Optimizers.AdagradParams(0.5, 1e-6, 0.01)), 0.1),
                // schedules through the lr input; clipping tight enough to scale every step (Adam's steps would hardly
                // change: scaling all gradients by one factor scales its moments' ratio by nothing)
                new Case("adamw cosine lr input", UpdateRule.parse("adamw", Map.of("weight_decay", 0.1)),
                        new LearningRate(0.02, LearningRate.Schedule.COSINE, 1, 1), true, CROSS_ENTROPY, 0, NET),
                new Case("momentum step lr input, clipped", UpdateRule.parse("momentum", Map.of()),
                        new LearningRate(0.1, LearningRate.Schedule.STEP, 1, 0.5), true, CROSS_ENTROPY, 0.05, NET));
    }

    static Stream<Case> losses() {
        Stream<Case> plain = Losses.names().stream().filter(n -> !n.equals("nll")).map(n -> Case.loss(Losses.Spec.of(n), NET));
        return Stream.concat(plain, Stream.of(
                // nll reads log-probabilities
                Case.loss(Losses.Spec.of("nll"), NET + "logsoftmax\n"),
                Case.loss(new Losses.Spec("cross-entropy", Losses.Reduction.SUM, 1, new float[] {1, 2, 0.5f}, 2L), NET),
                Case.loss(new Losses.Spec("nll", Losses.Reduction.MEAN, 1, new float[] {0.5f, 1, 3}, 0L), NET + "logsoftmax\n"),
                Case.loss(new Losses.Spec("huber", Losses.Reduction.SUM, 0.3, null, null), NET)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource({"rules", "losses"})
    void stepsOfTheGraphMatchTheTrainer(Case c) {
        Model inference = NetworkSpec.parse(c.net(), 3).model();
        Dataset data = dataset();
        Trainer.Options options = new Trainer.Options(STEPS, BATCH, 1, 1, c.rule(), c.rate(), c.clipNorm(), c.loss(), null, false);
        Trainer.Result trained = Trainer.train(inference, data, data, options, new Trainer.Listener() {});

        Model step = UpdateGraph.of(inference, new UpdateGraph.Options(c.loss(), c.rule(), c.rateInput() ? null : c.rate().base(), c.clipNorm()), BATCH);
        assertTrue(step.graph().nodes().stream().noneMatch(n -> n.domain().equals(OpsetImports.ONNXRUN_DOMAIN)), "own-domain ops left");
        TrainingGraph graphs = TrainingGraph.of(inference);
        int[] order = {0, 1, 2, 3, 4, 5};
        Map<String, Tensor> values = UpdateGraph.initialValues(inference, c.rule());
        double loss = Double.NaN;
        try (CompiledModel compiled = CompiledModel.compile(step, new CompiledModel.Options(1)); Session s = compiled.newSession()) {
            for (int i = 1; i <= STEPS; i++) {
                Map<String, Tensor> feed = new HashMap<>(values);
                feed.put(graphs.images(), data.features(order, 0, BATCH, new long[] {1, 6, 6}));
                feed.put(TrainingGraph.LABELS, data.labels(order, 0, BATCH));
                // one step per epoch, as the trainer takes them on one batch
                if (c.rateInput()) feed.put(UpdateGraph.RATE, Tensor.scalar((float) c.rate().at(i, i, STEPS)));
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
        UpdateRule adam = UpdateRule.parse("adam", Map.of());
        Model step = UpdateGraph.of(inference, new UpdateGraph.Options(CROSS_ENTROPY, adam, null, 1), 4);
        List<String> inputs = step.graph().inputs().stream().map(ValueInfo::name).toList();
        List<String> outputs = step.graph().outputs().stream().map(ValueInfo::name).toList();
        String w = graphs.parameters().getFirst();
        assertTrue(inputs.containsAll(List.of(graphs.images(), TrainingGraph.LABELS, w, w + ".adam_m", w + ".adam_v", UpdateGraph.STEP,
                UpdateGraph.RATE)), inputs.toString());
        assertTrue(outputs.containsAll(List.of(TrainingGraph.LOSS, w + ".new", w + ".adam_m.new", w + ".adam_v.new", "step.new")), outputs.toString());
        for (String input : inputs) {
            boolean fedEachStep = List.of(graphs.images(), TrainingGraph.LABELS, UpdateGraph.RATE).contains(input);
            assertEquals(!fedEachStep, outputs.contains(input + ".new"), input);
        }
        assertEquals(List.of(), UpdateGraph.stateSuffixes(UpdateRule.parse("sgd", Map.of())), "plain SGD keeps no state");
        // the graph's state inputs are the trainer's state tensors, in order
        for (String optimizer : List.of("momentum", "adam", "adamw", "adagrad", "rmsprop")) {
            UpdateRule rule = UpdateRule.parse(optimizer, Map.of("centered", 1.0, "momentum", 0.9));
            assertEquals(rule.initialState(Tensor.scalar(0f)).length, UpdateGraph.stateSuffixes(rule).size(), optimizer);
        }
    }

    /** Six 6×6 samples, two per class. */
    static Dataset dataset() {
        SplittableRandom r = new SplittableRandom(11);
        byte[] pixels = new byte[BATCH * 36];
        int[] labels = new int[BATCH];
        for (int i = 0; i < pixels.length; i++) pixels[i] = (byte) r.nextInt(256);
        for (int i = 0; i < BATCH; i++) labels[i] = i % 3;
        return Dataset.ofBytes(pixels, labels, 36);
    }
}
