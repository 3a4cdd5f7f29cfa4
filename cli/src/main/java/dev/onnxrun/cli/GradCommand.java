package dev.onnxrun.cli;

import dev.onnxrun.compiler.ir.Graph;
import dev.onnxrun.compiler.ir.Model;
import dev.onnxrun.compiler.ir.OpsetImports;
import dev.onnxrun.compiler.onnx.OnnxExporter;
import dev.onnxrun.compiler.training.UpdateGraph;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** Writes one training step of a classifier (forward, loss, gradients, optimizer update) as an ONNX graph. */
@Command(name = "grad", mixinStandardHelpOptions = true,
        description = {"Write one training step of a classifier as standard ONNX: forward pass, loss, gradients, optional clipping "
                + "and the optimizer's update. MODEL is an .onnx model whose first output is the class scores, or a .net spec.",
                "Inputs: the samples, labels, every parameter P and running statistic, optimizer state (P.momentum, P.adam_m, "
                + "P.adam_v, P.adagrad_sum, P.rmsprop_square, P.rmsprop_mean, P.rmsprop_momentum), step (adam, adamw) and lr "
                + "(with --lr-input); outputs: loss, X.new for each of those inputs but lr, the scores.",
                "Prints 'wrote FILE: inputs=N outputs=N nodes=N own_ops=N'."})
final class GradCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "MODEL", description = "The model: an .onnx file, or a .net network spec.")
    Path model;

    @CommandLine.Mixin
    TrainingOptions training;

    @Option(names = "--lr-input", description = "Make the learning rate a float scalar input named lr, for a schedule to set each step (default: --lr is a constant).")
    boolean rateInput;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "64", description = "Samples per step, fixed in the graph (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "0", description = "Seed of the initial weights of a .net spec (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE", required = true, description = "Where to write the training step.")
    Path output;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        if (batch < 1) throw training.usage("--batch must be at least 1");
        TrainingOptions.Setup setup = training.resolve(model, seed);
        UpdateGraph.Options options = new UpdateGraph.Options(setup.loss(), setup.rule(), rateInput ? null : setup.rate(), setup.clipNorm());
        Model step = UpdateGraph.of(setup.forward(), options, batch);
        OnnxExporter.write(step, output);
        Graph g = step.graph();
        long own = g.nodes().stream().filter(n -> n.domain().equals(OpsetImports.ONNXRUN_DOMAIN)).count();
        PrintWriter out = spec.commandLine().getOut();
        out.printf("wrote %s: inputs=%d outputs=%d nodes=%d own_ops=%d%n", output, g.inputs().size(), g.outputs().size(), g.nodes().size(), own);
        return Main.EXIT_OK;
    }
}
