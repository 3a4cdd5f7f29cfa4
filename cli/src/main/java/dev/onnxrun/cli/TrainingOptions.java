package dev.onnxrun.cli;

import dev.onnxrun.compiler.ir.Model;
import dev.onnxrun.compiler.onnx.OnnxImporter;
import dev.onnxrun.compiler.training.NetworkSpec;
import dev.onnxrun.compiler.training.UpdateRule;
import java.nio.file.Path;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/** The model, loss and optimizer of a training setup, shared by train and grad: flags first, then a spec's own lines, then defaults. */
final class TrainingOptions {
    @Option(names = "--loss", paramLabel = "LOSS", description = "The loss: cross-entropy (default: the spec's loss line, else cross-entropy).")
    String loss;

    @Option(names = "--optimizer", paramLabel = "NAME",
            description = "adam, sgd, momentum, nesterov or adagrad (default: the spec's optimizer line, else adam).")
    String optimizer;

    @Option(names = "--lr", paramLabel = "RATE", description = "Learning rate (default: the spec's lr, else 0.001).")
    Double rate;

    @CommandLine.Spec(CommandLine.Spec.Target.MIXEE)
    CommandLine.Model.CommandSpec spec;

    /** The classifier to train, the optimizer's name, learning rate and rule. */
    record Setup(Model forward, String optimizer, double rate, UpdateRule rule) {}

    /** Reads {@code model} (.onnx, or a .net spec whose weights start from {@code seed}) and resolves the setup. */
    Setup resolve(Path model, long seed) {
        String specLoss = null, specOptimizer = null;
        Map<String, Double> settings = Map.of();
        Model forward;
        if (model.toString().endsWith(".net")) {
            NetworkSpec.Parsed parsed = NetworkSpec.read(model, seed);
            forward = parsed.model();
            specLoss = parsed.loss();
            specOptimizer = parsed.optimizer();
            settings = parsed.optimizerParams();
        } else {
            forward = OnnxImporter.load(model);
        }
        String lossName = loss != null ? loss : specLoss != null ? specLoss : "cross-entropy";
        if (!lossName.equals("cross-entropy")) {
            throw new CommandLine.ParameterException(spec.commandLine(), "unsupported loss '" + lossName + "' (only cross-entropy)");
        }
        String optimizerName = optimizer != null ? optimizer : specOptimizer != null ? specOptimizer : "adam";
        double lr = rate != null ? rate : settings.getOrDefault("lr", 0.001);
        return new Setup(forward, optimizerName, lr, UpdateRule.parse(optimizerName, lr, settings));
    }
}
