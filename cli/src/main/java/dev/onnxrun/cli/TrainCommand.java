package dev.onnxrun.cli;

import dev.onnxrun.compiler.onnx.OnnxExporter;
import dev.onnxrun.compiler.training.Dataset;
import dev.onnxrun.compiler.training.LearningRate;
import dev.onnxrun.compiler.training.Trainer;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** Trains a classifier on a labelled dataset and writes it as inference ONNX. */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = {"Train a classifier on labelled data (MNIST-layout images, CSV or .npy).",
                "MODEL is an .onnx model whose first output is the class scores, or a .net spec.",
                "Prints one line per epoch and ends with 'test_accuracy=X train_seconds=Y'.",
                "Dropout layers (opset 12+) draw a random mask each step while training; a spec's are seeded from --seed."})
final class TrainCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "MODEL", description = "The model: an .onnx file, or a .net network spec.")
    Path model;

    @Option(names = "--data", paramLabel = "KIND=PATH", required = true,
            description = {"The training data: fashion-mnist=DIR or mnist=DIR (a directory of {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]),",
                    "csv=FILE (numbers; the label in the last column or --label-column; an optional header line),",
                    "or npy=SAMPLES.npy,LABELS.npy (samples [N, ...], uint8 scaled to [0, 1]; integer labels [N])."})
    String data;

    @Option(names = "--test-data", paramLabel = "KIND=PATH", description = "Test data for csv/npy training data, in the same forms (default: --holdout of --data).")
    String testData;

    @Option(names = "--holdout", paramLabel = "F", defaultValue = "0.1",
            description = "Without --test-data, a seeded random fraction F of csv/npy data is the test split (default: ${DEFAULT-VALUE}).")
    double holdout;

    @Option(names = "--label-column", paramLabel = "COL", description = "The CSV label column: a 0-based index or a header name (default: the last).")
    String labelColumn;

    @CommandLine.Mixin
    TrainingOptions training;

    @Option(names = "--lr-schedule", paramLabel = "NAME", defaultValue = "constant",
            description = "constant, step (times --lr-gamma every --lr-step epochs) or cosine (to 0 over all steps) (default: ${DEFAULT-VALUE}).")
    String schedule;

    @Option(names = "--lr-step", paramLabel = "N", defaultValue = "1", description = "Epochs per step of the step schedule (default: ${DEFAULT-VALUE}).")
    int scheduleStep;

    @Option(names = "--lr-gamma", paramLabel = "X", defaultValue = "0.1", description = "Factor per step of the step schedule (default: ${DEFAULT-VALUE}).")
    double scheduleGamma;

    @Option(names = "--epochs", paramLabel = "N", defaultValue = "1",
            description = "Epoch to train up to, counting a resumed checkpoint's (default: ${DEFAULT-VALUE}).")
    int epochs;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "64", description = "Samples per step (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--threads", paramLabel = "N", description = "Worker threads (default: available cores).")
    Integer threads;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "0",
            description = "Seed of the initial weights (specs), the shuffle and the held-out split (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--limit", paramLabel = "N", defaultValue = "0",
            description = "Use only the first N training samples and N test samples (default: all).")
    int limit;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE", description = "Write the trained model as inference ONNX.")
    Path output;

    @Option(names = "--checkpoint", paramLabel = "FILE",
            description = "Write the training state here after each epoch (default: OUTPUT.ckpt when -o is given).")
    Path checkpoint;

    @Option(names = "--resume", description = "Continue from the checkpoint instead of the model's initial weights.")
    boolean resume;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        if (epochs < 0 || batch < 1 || limit < 0 || (threads != null && threads < 1)) {
            throw usage("--epochs, --limit must be >= 0; --batch, --threads >= 1");
        }
        TrainingOptions.Setup setup = training.resolve(model, seed);
        LearningRate rates = training.parse(() -> new LearningRate(setup.rate(), LearningRate.schedule(schedule), scheduleStep, scheduleGamma));
        int workers = threads != null ? threads : Runtime.getRuntime().availableProcessors();
        Path checkpointFile = checkpoint != null ? checkpoint : output != null ? output.resolveSibling(output.getFileName() + ".ckpt") : null;
        if (resume && checkpointFile == null) throw usage("--resume needs --checkpoint FILE or -o FILE (whose checkpoint is FILE.ckpt)");

        Dataset[] sets = datasets();
        Dataset trainSet = sets[0].first(limit), testSet = sets[1].first(limit);
        out.printf("training %s on %d samples (test %d), loss %s, %s lr %s%s, batch %d, %d threads%n", model, trainSet.count(),
                testSet.count(), setup.lossName(), setup.optimizerName(), setup.rate(), rates.schedule() == LearningRate.Schedule.CONSTANT ? ""
                        : " (" + schedule + ")", batch, workers);
        out.flush();
        Trainer.Options options = new Trainer.Options(epochs, batch, seed, workers, setup.rule(), rates, setup.clipNorm(), setup.loss(),
                checkpointFile, resume);
        Trainer.Result result = Trainer.train(setup.forward(), trainSet, testSet, options, new Progress(out, spec.commandLine().getErr()));
        if (output != null) {
            OnnxExporter.write(result.trained(), output);
            out.printf("wrote %s%n", output);
        }
        out.printf("test_accuracy=%.4f train_seconds=%.1f%n", result.testAccuracy(), result.seconds());
        return Main.EXIT_OK;
    }

    /** {training, test} from --data and --test-data (or the held-out split). */
    private Dataset[] datasets() {
        String kind = kind(data, "--data");
        if (kind.equals("fashion-mnist") || kind.equals("mnist")) {
            Path dir = Path.of(path(data));
            return new Dataset[] {Dataset.mnistLayout(dir, true), testData != null ? read(testData, "--test-data") : Dataset.mnistLayout(dir, false)};
        }
        Dataset all = read(data, "--data");
        return testData != null ? new Dataset[] {all, read(testData, "--test-data")} : all.split(holdout, seed);
    }

    private Dataset read(String value, String option) {
        return switch (kind(value, option)) {
            case "csv" -> Dataset.csv(Path.of(path(value)), labelColumn);
            case "npy" -> {
                String[] files = path(value).split(",");
                if (files.length != 2) throw usage(option + " npy= needs SAMPLES.npy,LABELS.npy, got '" + value + "'");
                yield Dataset.npy(Path.of(files[0]), Path.of(files[1]));
            }
            default -> throw usage(option + " must be " + (option.equals("--data") ? "fashion-mnist=DIR, mnist=DIR, " : "")
                    + "csv=FILE or npy=SAMPLES.npy,LABELS.npy, got '" + value + "'");
        };
    }

    private String kind(String value, String option) {
        int eq = value.indexOf('=');
        String kind = eq < 0 ? "" : value.substring(0, eq);
        if (!List.of("fashion-mnist", "mnist", "csv", "npy").contains(kind)) {
            throw usage(option + " must be fashion-mnist=DIR, mnist=DIR, csv=FILE or npy=SAMPLES.npy,LABELS.npy, got '" + value + "'");
        }
        return kind;
    }

    private static String path(String value) { return value.substring(value.indexOf('=') + 1); }

    private CommandLine.ParameterException usage(String message) { return training.usage(message); }

    /**
     * Epoch lines on stdout; on a terminal also a progress bar on stderr, redrawn in place at
     * most five times a second: samples done, mean loss and accuracy so far, speed, time left.
     */
    private static final class Progress implements Trainer.Listener {
        private static final int WIDTH = 24;
        private final PrintWriter out, err;
        private final boolean terminal = System.console() != null && System.console().isTerminal();
        private long epochStart, lastDraw;
        private int startDone;
        private boolean drawn;

        Progress(PrintWriter out, PrintWriter err) {
            this.out = out;
            this.err = err;
        }

        @Override
        public void resumed(int epoch) {
            out.printf("resumed after epoch %d%n", epoch);
            out.flush();
        }

        @Override
        public void step(int epoch, int done, int total, double meanLoss, double accuracy) {
            long now = System.nanoTime();
            if (epochStart == 0) {
                // timed from the end of the epoch's first step, so the speed leaves out the time before it
                epochStart = now;
                startDone = done;
                return;
            }
            if (!terminal || now - lastDraw < 200_000_000L && done < total) return;
            lastDraw = now;
            double seconds = (now - epochStart) / 1e9, speed = (done - startDone) / Math.max(seconds, 1e-9);
            int filled = (int) ((long) WIDTH * done / Math.max(1, total));
            long eta = Math.round((total - done) / Math.max(speed, 1e-9));
            err.printf("\r\033[Kepoch %d [%s%s] %d/%d loss %.4f accuracy %.4f %.0f samples/s ETA %d:%02d", epoch, "=".repeat(filled),
                    " ".repeat(WIDTH - filled), done, total, meanLoss, accuracy, speed, eta / 60, eta % 60);
            err.flush();
            drawn = true;
        }

        @Override
        public void epoch(Trainer.Epoch e) {
            if (drawn) {
                err.print("\r\033[K");
                err.flush();
            }
            drawn = false;
            epochStart = 0;
            out.printf("epoch %d: loss %.4f accuracy %.4f samples/s %.1f test_accuracy %.4f%n", e.epoch(), e.loss(),
                    e.accuracy(), e.samplesPerSecond(), e.testAccuracy());
            out.flush();
        }
    }
}
