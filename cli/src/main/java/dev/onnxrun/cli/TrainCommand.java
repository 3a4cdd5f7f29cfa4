package dev.onnxrun.cli;

import dev.onnxrun.compiler.onnx.OnnxExporter;
import dev.onnxrun.compiler.training.ImageDataset;
import dev.onnxrun.compiler.training.Trainer;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** Trains an image classifier on an MNIST-layout dataset and writes it as inference ONNX. */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = {"Train a classifier with softmax cross-entropy on an MNIST-layout image dataset.",
                "MODEL is an .onnx model whose first output is the logits, or a .net spec.",
                "Prints one line per epoch and ends with 'test_accuracy=X train_seconds=Y'.",
                "Dropout layers (opset 12+) draw a random mask each step while training; a spec's are seeded from --seed."})
final class TrainCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "MODEL", description = "The model: an .onnx file, or a .net network spec.")
    Path model;

    @Option(names = "--data", paramLabel = "NAME=DIR", required = true,
            description = "The dataset: fashion-mnist=DIR or mnist=DIR, a directory of {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz].")
    String data;

    @CommandLine.Mixin
    TrainingOptions training;

    @Option(names = "--epochs", paramLabel = "N", defaultValue = "1", description = "Passes over the training set (default: ${DEFAULT-VALUE}).")
    int epochs;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "64", description = "Images per step (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--threads", paramLabel = "N", description = "Worker threads (default: available cores).")
    Integer threads;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "0", description = "Seed of the initial weights (specs) and the shuffle (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--limit", paramLabel = "N", defaultValue = "0",
            description = "Use only the first N training images and N test images (default: all).")
    int limit;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE", description = "Write the trained model as inference ONNX.")
    Path output;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        Path dir = dataDirectory();
        if (epochs < 0 || batch < 1 || limit < 0 || (threads != null && threads < 1)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--epochs, --limit must be >= 0; --batch, --threads >= 1");
        }
        TrainingOptions.Setup setup = training.resolve(model, seed);
        int workers = threads != null ? threads : Runtime.getRuntime().availableProcessors();

        ImageDataset trainSet = ImageDataset.mnistLayout(dir, true, limit);
        ImageDataset testSet = ImageDataset.mnistLayout(dir, false, limit);
        out.printf("training %s on %d images (test %d), %s lr %s, batch %d, %d threads%n", model, trainSet.count(), testSet.count(),
                setup.optimizer(), setup.rate(), batch, workers);
        out.flush();
        // in-place progress only when stdout is a terminal (tests and pipes get the epoch lines alone)
        boolean terminal = System.console() != null && System.console().isTerminal();
        Trainer.Result result = Trainer.train(setup.forward(), trainSet, testSet, new Trainer.Options(epochs, batch, seed, workers, setup.rule()),
                new Trainer.Listener() {
                    private long lastPrint;

                    @Override
                    public void step(int epoch, int done, int total, double meanLoss) {
                        long now = System.nanoTime();
                        if (!terminal || now - lastPrint < 200_000_000L) return;
                        lastPrint = now;
                        out.printf("\repoch %d  %d/%d  loss %.4f", epoch, done, total, meanLoss);
                        out.flush();
                    }

                    @Override
                    public void epoch(Trainer.Epoch e) {
                        if (terminal) out.print("\r\033[K");
                        out.printf("epoch %d: loss %.4f accuracy %.4f samples/s %.1f test_accuracy %.4f%n", e.epoch(), e.loss(),
                                e.accuracy(), e.samplesPerSecond(), e.testAccuracy());
                        out.flush();
                    }
                });
        if (output != null) {
            OnnxExporter.write(result.trained(), output);
            out.printf("wrote %s%n", output);
        }
        out.printf("test_accuracy=%.4f train_seconds=%.1f%n", result.testAccuracy(), result.seconds());
        return Main.EXIT_OK;
    }

    private Path dataDirectory() {
        int eq = data.indexOf('=');
        String name = eq < 0 ? "" : data.substring(0, eq);
        if (!name.equals("fashion-mnist") && !name.equals("mnist")) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--data must be fashion-mnist=DIR or mnist=DIR, got '" + data + "'");
        }
        return Path.of(data.substring(eq + 1));
    }
}
