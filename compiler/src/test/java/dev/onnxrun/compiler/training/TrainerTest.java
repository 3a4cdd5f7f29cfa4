package dev.onnxrun.compiler.training;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.onnxrun.compiler.ir.Model;
import dev.onnxrun.runtime.OnnxrunException;
import dev.onnxrun.runtime.Tensor;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Training end to end on a small synthetic dataset: checkpoints, resuming, the loss options. */
class TrainerTest {
    @TempDir
    Path tmp;

    /** {@code n} 6×6 samples for {@link TrainingGraphTest#NET}; class c raises rows 2c and 2c+1. */
    static Dataset data(int n, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] x = new float[n * 36];
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            labels[i] = random.nextInt(3);
            for (int f = 0; f < 36; f++) x[i * 36 + f] = (float) (random.nextDouble(-0.5, 0.5) + (f / 12 == labels[i] ? 1 : 0));
        }
        return Dataset.ofFloats(x, labels, 36);
    }

    static Model model() { return NetworkSpec.parse(TrainingGraphTest.NET, 4).model(); }

    static Trainer.Options options(int epochs, Path checkpoint, boolean resume) {
        UpdateRule rule = UpdateRule.parse("adamw", Map.of());
        // the schedule and clipping make steps depend on the epoch and the whole gradient (a cosine schedule spans
        // --epochs, so a 1-epoch run anneals differently from the first epoch of a 2-epoch one)
        return new Trainer.Options(epochs, 16, 9, 2, rule, new LearningRate(0.05, LearningRate.Schedule.STEP, 1, 0.5), 0.5,
                Losses.Spec.of("cross-entropy"), checkpoint, resume);
    }

    @Test
    void resumingFromAnEpochsCheckpointEndsWhereAnUninterruptedRunEnds() {
        Dataset train = data(90, 1), test = data(30, 2);
        Path straight = tmp.resolve("straight.ckpt"), split = tmp.resolve("split.ckpt");
        Trainer.Result whole = Trainer.train(model(), train, test, options(2, straight, false), new Trainer.Listener() {});
        Trainer.train(model(), train, test, options(1, split, false), new Trainer.Listener() {});
        assertEquals(1, Checkpoint.read(split).epoch());
        Trainer.Result resumed = Trainer.train(model(), train, test, options(2, split, true), new Trainer.Listener() {});
        assertEquals(1, resumed.epochs().size());
        assertEquals(2, resumed.epochs().getFirst().epoch());
        Map<String, Tensor> a = whole.trained().graph().initializers(), b = resumed.trained().graph().initializers();
        assertEquals(a.keySet(), b.keySet());
        a.forEach((name, t) -> assertArrayEquals(t.toFloatArray(), b.get(name).toFloatArray(), name));
        assertEquals(whole.epochs().getLast().loss(), resumed.epochs().getLast().loss(), 0);

        Checkpoint c = Checkpoint.read(straight);
        assertEquals(2, c.epoch());
        assertEquals(2 * 6, c.step());
        assertEquals(9, c.shuffleSeed());
        c.values().forEach((name, t) -> assertArrayEquals(a.get(name).toFloatArray(), t.toFloatArray(), name));
        // AdamW keeps two moments per parameter; the running statistics are values too
        TrainingGraph graphs = TrainingGraph.of(model());
        graphs.parameters().forEach(p -> assertEquals(2, c.state().get(p).length, p));
        assertTrue(c.values().keySet().containsAll(graphs.statistics().keySet()));
    }

    @Test
    void resumingWithAnotherOptimizerIsRefused() {
        Path file = tmp.resolve("c.ckpt");
        Trainer.train(model(), data(40, 1), data(10, 2), options(1, file, false), new Trainer.Listener() {});
        Trainer.Options sgd = new Trainer.Options(2, 16, 9, 1, UpdateRule.parse("sgd", Map.of()), LearningRate.constant(0.1), 0,
                Losses.Spec.of("cross-entropy"), file, true);
        OnnxrunException e = assertThrows(OnnxrunException.class,
                () -> Trainer.train(model(), data(40, 1), data(10, 2), sgd, new Trainer.Listener() {}));
        assertTrue(e.getMessage().contains("optimizer"), e.getMessage());
    }

    @Test
    void everyLossTrainsTheClassifier() {
        Dataset train = data(120, 1), test = data(60, 2);
        for (String loss : Losses.names()) {
            if (loss.equals("nll")) continue; // reads log-probabilities: the model below ends in LogSoftmax
            Trainer.Options o = new Trainer.Options(6, 16, 1, 1, UpdateRule.parse("adam", Map.of()), LearningRate.constant(0.02), 0,
                    Losses.Spec.of(loss), null, false);
            Trainer.Result r = Trainer.train(model(), train, test, o, new Trainer.Listener() {});
            assertTrue(r.epochs().getLast().loss() < r.epochs().getFirst().loss(), loss + " " + r.epochs());
            assertTrue(r.testAccuracy() > 0.8, loss + " " + r.epochs());
        }
        Model logProbabilities = NetworkSpec.parse(TrainingGraphTest.NET + "logsoftmax\n", 4).model();
        Trainer.Options o = new Trainer.Options(6, 16, 1, 1, UpdateRule.parse("adam", Map.of()), LearningRate.constant(0.02), 0,
                Losses.Spec.of("nll"), null, false);
        assertTrue(Trainer.train(logProbabilities, train, test, o, new Trainer.Listener() {}).testAccuracy() > 0.8);
    }

    @Test
    void labelsBeyondTheModelsClassesAreNamed() {
        Dataset bad = Dataset.ofFloats(new float[72], new int[] {0, 5}, 36);
        // a one-hot of label 5 among 3 classes would be all zeros, silently
        Trainer.Options mse = new Trainer.Options(1, 2, 1, 1, UpdateRule.parse("sgd", Map.of()), LearningRate.constant(0.1), 0,
                Losses.Spec.of("mse"), null, false);
        OnnxrunException e = assertThrows(OnnxrunException.class, () -> Trainer.train(model(), bad, bad, mse, new Trainer.Listener() {}));
        assertTrue(e.getMessage().contains("label 5"), e.getMessage());
    }
}
