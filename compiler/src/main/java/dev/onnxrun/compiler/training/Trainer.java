package dev.onnxrun.compiler.training;

import dev.onnxrun.CompiledModel;
import dev.onnxrun.Session;
import dev.onnxrun.compiler.ir.Dim;
import dev.onnxrun.compiler.ir.Model;
import dev.onnxrun.compiler.ir.ValueType.TensorType;
import dev.onnxrun.runtime.OnnxrunException;
import dev.onnxrun.runtime.Parallel;
import dev.onnxrun.runtime.Tensor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Mini-batch training of a classifier: the {@link TrainingGraph} compiled once per batch size,
 * then per epoch a seeded shuffle, one run of the training graph per batch, optional clipping of
 * the gradients' global norm, one {@link UpdateRule} step per parameter at the
 * {@link LearningRate} of that step, an evaluation of the test split with the running
 * statistics, and optionally a {@link Checkpoint}. Parameters, running statistics and optimizer
 * state are tensors held here and fed to the graph each step.
 */
public final class Trainer {
    private Trainer() {}

    /**
     * Training settings.
     *
     * @param epochs     the epoch training ends after (counting those a resumed checkpoint did)
     * @param batch      samples per step; the last batch of an epoch may be smaller
     * @param seed       seed of the shuffle
     * @param threads    worker threads for the kernels and the updates
     * @param rule       the optimizer
     * @param rate       the learning rate of each step
     * @param clipNorm   when positive, gradients are scaled down together so that their global L2 norm is at most this
     * @param loss       the loss
     * @param checkpoint where to write a checkpoint after each epoch, or null for none
     * @param resume     start from {@code checkpoint} instead of the model's initial values
     */
    public record Options(int epochs, int batch, long seed, int threads, UpdateRule rule, LearningRate rate, double clipNorm,
                          Losses.Spec loss, Path checkpoint, boolean resume) {
        /** Plain settings: constant rate, no clipping, cross-entropy, no checkpoints. */
        public static Options of(int epochs, int batch, long seed, int threads, UpdateRule rule, double rate) {
            return new Options(epochs, batch, seed, threads, rule, LearningRate.constant(rate), 0, Losses.Spec.of("cross-entropy"), null, false);
        }
    }

    /** One epoch's figures: mean training loss and accuracy over its batches, throughput, test accuracy. */
    public record Epoch(int epoch, double loss, double accuracy, double samplesPerSecond, double testAccuracy) {}

    /** The trained inference model, each epoch's figures and the wall time of the epochs (steps and evaluations). */
    public record Result(Model trained, List<Epoch> epochs, double seconds) {
        public double testAccuracy() { return epochs.isEmpty() ? Double.NaN : epochs.getLast().testAccuracy(); }
    }

    /** Hears of each step and epoch, e.g. to print progress. */
    public interface Listener {
        /** After each step: samples done of the epoch's total, the epoch's mean loss and accuracy so far. */
        default void step(int epoch, int samplesDone, int samplesTotal, double meanLoss, double accuracy) {}

        /** When resuming: the epoch the checkpoint ended. */
        default void resumed(int epoch) {}

        default void epoch(Epoch e) {}
    }

    public static Result train(Model inference, Dataset trainSet, Dataset testSet, Options options, Listener listener) {
        if (options.batch() < 1 || options.epochs() < 0) throw OnnxrunException.invalidInput("batch must be positive, epochs non-negative");
        if (options.resume() && options.checkpoint() == null) throw OnnxrunException.invalidInput("resuming needs a checkpoint file");
        TrainingGraph graphs = TrainingGraph.of(inference);
        long[] sampleShape = sampleShape(inference, graphs.images(), trainSet.featuresPerSample());
        if (testSet.count() > 0 && testSet.featuresPerSample() != trainSet.featuresPerSample()) {
            throw OnnxrunException.invalidInput("test samples have " + testSet.featuresPerSample() + " values, training samples "
                    + trainSet.featuresPerSample());
        }
        CompiledModel.Options compile = new CompiledModel.Options(options.threads());
        List<Epoch> epochs = new ArrayList<>();
        long start = System.nanoTime();
        Map<Integer, CompiledModel> training = new HashMap<>();
        try (CompiledModel evaluation = CompiledModel.compile(graphs.evaluation(), compile);
             Session evalSession = evaluation.newSession();
             Parallel parallel = new Parallel(options.threads())) {
            // one graph per batch size (the full batches' and the last one's), compiled before the first epoch
            int count = trainSet.count();
            for (int size : new int[] {Math.min(options.batch(), count), count % options.batch()}) {
                if (size > 0) training.computeIfAbsent(size, b -> CompiledModel.compile(graphs.training(b, options.loss()), compile));
            }
            Steps steps = new Steps(graphs, options, training, parallel);
            checkClasses(evalSession, graphs, steps.values, trainSet, testSet, sampleShape);
            int[] order = identity(count);
            long shuffleSeed = options.seed();
            int first = 1;
            if (options.resume()) {
                Checkpoint c = Checkpoint.read(options.checkpoint());
                steps.restore(c, options.checkpoint());
                shuffleSeed = c.shuffleSeed();
                first = c.epoch() + 1;
                listener.resumed(c.epoch());
            }
            SplittableRandom random = new SplittableRandom(shuffleSeed);
            // the shuffle's state after the epochs done: their shuffles replayed
            for (int epoch = 1; epoch < first; epoch++) Dataset.shuffle(order, random);
            long stepsPerEpoch = (count + options.batch() - 1) / options.batch();
            for (int epoch = first; epoch <= options.epochs(); epoch++) {
                Dataset.shuffle(order, random);
                long epochStart = System.nanoTime();
                double lossSum = 0;
                long correct = 0;
                for (int from = 0; from < count; from += options.batch()) {
                    int to = Math.min(count, from + options.batch());
                    Tensor labels = trainSet.labels(order, from, to);
                    double rate = options.rate().at(epoch, steps.count + 1, stepsPerEpoch * options.epochs());
                    Map<String, Tensor> out = steps.run(trainSet.features(order, from, to, sampleShape), labels, rate);
                    lossSum += out.get(TrainingGraph.LOSS).getDouble(0) * (to - from);
                    correct += correct(out.get(graphs.logits()), labels);
                    listener.step(epoch, to, count, lossSum / to, (double) correct / to);
                }
                double seconds = (System.nanoTime() - epochStart) / 1e9;
                double testAccuracy = evaluate(evalSession, graphs, steps.values, testSet, sampleShape);
                Epoch e = new Epoch(epoch, lossSum / count, (double) correct / count, count / seconds, testAccuracy);
                epochs.add(e);
                if (options.checkpoint() != null) steps.checkpoint(epoch, shuffleSeed).write(options.checkpoint());
                listener.epoch(e);
            }
            return new Result(graphs.inference(steps.values), epochs, (System.nanoTime() - start) / 1e9);
        } finally {
            training.values().forEach(CompiledModel::close);
        }
    }

    /** The state that training steps carry: parameter and statistic values, and each parameter's optimizer state. */
    private static final class Steps {
        final TrainingGraph graphs;
        final Options options;
        final Map<Integer, CompiledModel> compiled;
        final Parallel parallel;
        final Map<String, Tensor> values;
        final Map<String, Tensor[]> state = new LinkedHashMap<>();
        /** One session per batch size, kept across steps so its arena is allocated once. */
        final Map<Integer, Session> sessions = new HashMap<>();
        long count;

        Steps(TrainingGraph graphs, Options options, Map<Integer, CompiledModel> compiled, Parallel parallel) {
            this.graphs = graphs;
            this.options = options;
            this.compiled = compiled;
            this.parallel = parallel;
            this.values = new LinkedHashMap<>(graphs.initialValues());
            graphs.parameters().forEach(p -> state.put(p, options.rule().initialState(values.get(p))));
        }

        /** One forward and backward pass over a batch, then one update of every parameter at {@code rate}; returns the graph's outputs. */
        Map<String, Tensor> run(Tensor features, Tensor labels, double rate) {
            Map<String, Tensor> feed = new HashMap<>(values);
            feed.put(graphs.images(), features);
            feed.put(TrainingGraph.LABELS, labels);
            Map<String, Tensor> out = sessions.computeIfAbsent((int) labels.size(), b -> compiled.get(b).newSession()).run(feed);
            count++;
            Map<String, Tensor> grads = new LinkedHashMap<>();
            for (String p : graphs.parameters()) grads.put(p, out.get("grad/" + p));
            if (options.clipNorm() > 0) grads = clipGlobalNorm(grads, options.clipNorm());
            for (String p : graphs.parameters()) {
                Tensor[] next = options.rule().apply(count, rate, values.get(p), grads.get(p), state.get(p), parallel);
                values.put(p, next[0]);
                state.put(p, Arrays.copyOfRange(next, 1, next.length));
            }
            graphs.statistics().forEach((stat, updated) -> values.put(stat, out.get(updated)));
            return out;
        }

        Checkpoint checkpoint(int epoch, long shuffleSeed) {
            return new Checkpoint(epoch, count, shuffleSeed, options.rule().toString(), values, state);
        }

        /** Takes values, optimizer state and step count from {@code c}, which must fit the model and the rule. */
        void restore(Checkpoint c, Path file) {
            if (!c.optimizer().equals(options.rule().toString())) {
                throw OnnxrunException.invalidInput(file + ": the checkpoint's optimizer " + c.optimizer() + " differs from "
                        + options.rule());
            }
            for (String name : values.keySet()) {
                Tensor saved = c.values().get(name);
                if (saved == null) throw OnnxrunException.invalidInput(file + ": the checkpoint has no value for '" + name + "'");
                requireLike(saved, values.get(name), file, name);
            }
            for (String p : graphs.parameters()) {
                Tensor[] saved = c.state().getOrDefault(p, new Tensor[0]), fresh = state.get(p);
                if (saved.length != fresh.length) {
                    throw OnnxrunException.invalidInput(file + ": '" + p + "' has " + saved.length + " optimizer state tensors, the optimizer keeps "
                            + fresh.length);
                }
                for (int k = 0; k < saved.length; k++) requireLike(saved[k], fresh[k], file, p + " state " + k);
            }
            values.replaceAll((name, v) -> c.values().get(name));
            graphs.parameters().forEach(p -> state.put(p, c.state().get(p)));
            count = c.step();
        }

        private static void requireLike(Tensor saved, Tensor expected, Path file, String what) {
            if (saved.dtype() != expected.dtype() || !Arrays.equals(saved.shape(), expected.shape())) {
                throw OnnxrunException.invalidInput(file + ": checkpoint " + what + " is " + saved.describe() + ", the model's is "
                        + expected.describe());
            }
        }
    }

    /**
     * {@code grads} scaled by {@code maxNorm / (norm + 1e-6)} when their global L2 norm (over all
     * tensors together) exceeds {@code maxNorm}, as PyTorch's {@code clip_grad_norm_}; else
     * unchanged.
     */
    static Map<String, Tensor> clipGlobalNorm(Map<String, Tensor> grads, double maxNorm) {
        double squares = 0;
        for (Tensor g : grads.values()) {
            for (long i = 0; i < g.size(); i++) squares += g.getDouble(i) * g.getDouble(i);
        }
        double norm = Math.sqrt(squares), scale = maxNorm / (norm + 1e-6);
        if (scale >= 1) return grads;
        Map<String, Tensor> scaled = new LinkedHashMap<>();
        grads.forEach((name, g) -> {
            Tensor s = Tensor.allocate(g.dtype(), g.shape());
            for (long i = 0; i < g.size(); i++) s.setDouble(i, g.getDouble(i) * scale);
            scaled.put(name, s);
        });
        return scaled;
    }

    /**
     * Labels must index the model's classes, which one sample through the evaluation graph
     * counts (a dense-target loss would silently read an all-zero one-hot row).
     */
    private static void checkClasses(Session session, TrainingGraph graphs, Map<String, Tensor> values, Dataset trainSet,
                                     Dataset testSet, long[] sampleShape) {
        if (trainSet.count() == 0) return;
        Map<String, Tensor> feed = new HashMap<>(values);
        feed.put(graphs.images(), trainSet.features(new int[] {0}, 0, 1, sampleShape));
        Tensor logits = session.run(feed).get(graphs.logits());
        int maxLabel = Math.max(trainSet.maxLabel(), testSet.maxLabel());
        if (maxLabel >= logits.dim(logits.rank() - 1)) {
            throw OnnxrunException.invalidInput("the data has label " + maxLabel + ", the model's output " + logits.describe()
                    + " has fewer classes");
        }
    }

    private static int[] identity(int n) {
        int[] a = new int[n];
        for (int i = 0; i < n; i++) a[i] = i;
        return a;
    }

    /** Accuracy of the inference graph (running statistics) on {@code set}. */
    private static double evaluate(Session session, TrainingGraph graphs, Map<String, Tensor> values, Dataset set, long[] sampleShape) {
        int[] order = identity(set.count());
        long correct = 0;
        int batch = 500;
        for (int from = 0; from < order.length; from += batch) {
            int to = Math.min(order.length, from + batch);
            Map<String, Tensor> feed = new HashMap<>(values);
            feed.put(graphs.images(), set.features(order, from, to, sampleShape));
            correct += correct(session.run(feed).get(graphs.logits()), set.labels(order, from, to));
        }
        return order.length == 0 ? Double.NaN : (double) correct / order.length;
    }

    /** How many rows of {@code logits} [B, classes] have their largest score at the label. */
    private static long correct(Tensor logits, Tensor labels) {
        long rows = logits.dim(0), classes = logits.size() / Math.max(1, rows);
        long hits = 0;
        for (long r = 0; r < rows; r++) {
            long best = 0;
            for (long c = 1; c < classes; c++) {
                if (logits.getDouble(r * classes + c) > logits.getDouble(r * classes + best)) best = c;
            }
            if (best == labels.getLong(r)) hits++;
        }
        return hits;
    }

    /**
     * One sample's shape as the model's input declares it after the batch axis: [1, 28, 28] for
     * NCHW image models, [784] for flat ones; {@code values} per sample must match.
     */
    static long[] sampleShape(Model m, String input, int values) {
        if (!(m.graph().typeOf(input) instanceof TensorType t) || !t.hasRank() || t.rank() < 2) {
            throw OnnxrunException.unsupported("input '" + input + "' needs a declared rank of at least 2 (batch first)");
        }
        long[] shape = new long[t.rank() - 1];
        long known = 1;
        int unknown = -1;
        for (int i = 1; i < t.rank(); i++) {
            if (t.dims().get(i) instanceof Dim.Known k) {
                shape[i - 1] = k.size();
                known *= k.size();
            } else if (unknown < 0) {
                unknown = i - 1;
            } else {
                throw OnnxrunException.unsupported("input '" + input + "' " + t + " has more than one unknown dim after the batch");
            }
        }
        if (unknown >= 0) shape[unknown] = values / known;
        if (Arrays.stream(shape).reduce(1, Math::multiplyExact) != values) {
            throw OnnxrunException.invalidInput("input '" + input + "' " + t + " does not hold samples of " + values + " values");
        }
        return shape;
    }
}
