package dev.onnxrun.cli;

import dev.onnxrun.compiler.ir.Model;
import dev.onnxrun.compiler.onnx.OnnxImporter;
import dev.onnxrun.compiler.training.Losses;
import dev.onnxrun.compiler.training.NetworkSpec;
import dev.onnxrun.compiler.training.UpdateRule;
import dev.onnxrun.runtime.OnnxrunException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/**
 * The model, loss, optimizer and gradient clipping of a training setup, shared by train and
 * grad so both spell them alike: flags first, then a spec's own lines, then defaults.
 */
final class TrainingOptions {
    @Option(names = "--loss", paramLabel = "LOSS",
            description = "cross-entropy, nll, mse, l1, huber, bce, hinge or kl (default: the spec's loss line, else cross-entropy).")
    String loss;

    @Option(names = "--reduction", paramLabel = "R", defaultValue = "mean", description = "How the loss terms combine: mean or sum (default: ${DEFAULT-VALUE}).")
    String reduction;

    @Option(names = "--huber-delta", paramLabel = "X", defaultValue = "1", description = "The huber loss's threshold (default: ${DEFAULT-VALUE}).")
    double huberDelta;

    @Option(names = "--class-weights", paramLabel = "W,...", split = ",", description = "One weight per class (cross-entropy, nll).")
    List<Float> classWeights;

    @Option(names = "--ignore-index", paramLabel = "LABEL", description = "Samples with this label do not count (cross-entropy, nll).")
    Long ignoreIndex;

    @Option(names = "--optimizer", paramLabel = "NAME",
            description = "adam, adamw, sgd, momentum, nesterov, adagrad or rmsprop (default: the spec's optimizer line, else adam).")
    String optimizer;

    @Option(names = "--lr", paramLabel = "RATE", description = "Learning rate (default: the spec's lr, else 0.001).")
    Double rate;

    @Option(names = "--weight-decay", paramLabel = "X",
            description = "Weight decay: an L2 term in the gradient, decoupled for adamw (default: the spec's weight_decay, else 0; adamw 0.01).")
    Double weightDecay;

    @Option(names = "--clip-norm", paramLabel = "X", defaultValue = "0",
            description = "Scale the gradients down together so that their global L2 norm is at most X (default: no clipping).")
    double clipNorm;

    @CommandLine.Spec(CommandLine.Spec.Target.MIXEE)
    CommandLine.Model.CommandSpec spec;

    /** The classifier to train with its loss, optimizer (names as given and resolved), learning rate and clipping bound (0: none). */
    record Setup(Model forward, String lossName, Losses.Spec loss, String optimizerName, UpdateRule rule, double rate, double clipNorm) {}

    /**
     * Checks the settings, reads {@code model} (.onnx, or a .net spec whose weights start from
     * {@code seed}) and resolves the setup. Bad settings are usage errors, found before the
     * model is read.
     */
    Setup resolve(Path model, long seed) {
        if (clipNorm < 0) throw usage("--clip-norm must be >= 0");
        Losses.Reduction reductionKind = parse(() -> Losses.Reduction.parse(reduction));
        if (reductionKind == Losses.Reduction.NONE) throw usage("--reduction must be mean or sum: training needs a scalar loss");
        String specLoss = null, specOptimizer = null;
        Map<String, Double> settings = new HashMap<>();
        Model forward;
        if (model.toString().endsWith(".net")) {
            NetworkSpec.Parsed parsed = NetworkSpec.read(model, seed);
            forward = parsed.model();
            specLoss = parsed.loss();
            specOptimizer = parsed.optimizer();
            settings.putAll(parsed.optimizerParams());
        } else {
            forward = OnnxImporter.load(model);
        }
        String lossName = loss != null ? loss : specLoss != null ? specLoss : "cross-entropy";
        String optimizerName = optimizer != null ? optimizer : specOptimizer != null ? specOptimizer : "adam";
        if (weightDecay != null) settings.put("weight_decay", weightDecay);
        double lr = rate != null ? rate : settings.getOrDefault("lr", 0.001);
        if (!(lr > 0)) throw usage("--lr must be positive, got " + lr);
        Losses.Spec lossSpec = parse(() -> new Losses.Spec(lossName, reductionKind, huberDelta, weights(), ignoreIndex));
        UpdateRule rule = parse(() -> UpdateRule.parse(optimizerName, settings));
        return new Setup(forward, lossName, lossSpec, optimizerName, rule, lr, clipNorm);
    }

    private float[] weights() {
        if (classWeights == null) return null;
        float[] w = new float[classWeights.size()];
        for (int i = 0; i < w.length; i++) w[i] = classWeights.get(i);
        return w;
    }

    /** What {@code setting} builds, its bad-input error turned into a usage error. */
    <T> T parse(Supplier<T> setting) {
        try {
            return setting.get();
        } catch (OnnxrunException e) {
            throw usage(e.getMessage());
        }
    }

    CommandLine.ParameterException usage(String message) {
        return new CommandLine.ParameterException(spec.commandLine(), message);
    }
}
