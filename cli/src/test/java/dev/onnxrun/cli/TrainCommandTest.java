package dev.onnxrun.cli;

import static dev.onnxrun.cli.CliTest.cli;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.onnxrun.compiler.io.Npy;
import dev.onnxrun.runtime.DType;
import dev.onnxrun.runtime.Tensor;
import java.io.DataOutputStream;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code onnxrun train} end to end on a small synthetic MNIST-layout dataset (each class lights
 * its own band of rows), so the test needs no downloaded data: the loss falls, the test
 * accuracy beats chance, and the written model runs.
 */
class TrainCommandTest {
    static final Path SPECS = Path.of("../testmodels/specs");
    static final Pattern EPOCH = Pattern.compile("epoch \\d+: loss ([0-9.]+) accuracy ([0-9.]+)");
    static final Pattern FINAL = Pattern.compile("(?m)^test_accuracy=([0-9.]+) train_seconds=[0-9.]+$");

    @TempDir
    Path tmp;

    @Test
    void trainsTheMlpSpecAndWritesARunnableModel() throws IOException {
        trainAndCheck(SPECS.resolve("mlp.net"), "sgd", "0.05", "3");
    }

    @Test
    void trainsTheLenetSpecWithBatchNormalization() throws IOException {
        trainAndCheck(SPECS.resolve("lenet.net"), "adam", "0.003", "2");
    }

    /** PyTorch's export aliases equal initializers (BatchNorm's running variance and scale) through Identity nodes. */
    @Test
    void trainsAPyTorchExport() throws IOException {
        trainAndCheck(Path.of("../testmodels/cases/lenet_train/model.onnx"), "adam", "0.003", "2");
    }

    private void trainAndCheck(Path model, String optimizer, String rate, String epochs) throws IOException {
        writeDataset(tmp, 300, 100);
        Path out = tmp.resolve("trained.onnx");
        CliTest.Result r = cli("train", model.toString(), "--data", "fashion-mnist=" + tmp, "--optimizer", optimizer,
                "--lr", rate, "--epochs", epochs, "--batch", "32", "--threads", "2", "--seed", "1", "--limit", "300", "-o", out.toString());
        assertEquals(0, r.code(), r.err());
        List<Double> losses = losses(r.out());
        assertEquals(Integer.parseInt(epochs), losses.size(), r.out());
        assertTrue(losses.getLast() < losses.getFirst() * 0.8, "loss did not fall: " + losses);
        Matcher last = FINAL.matcher(r.out());
        assertTrue(last.find(), r.out());
        assertTrue(Double.parseDouble(last.group(1)) > 0.5, "test accuracy near chance: " + r.out());
        CliTest.Result run = cli(out.toString());
        assertEquals(0, run.code(), run.err());
        assertTrue(run.out().contains("output output: float[1,10]"), run.out());
    }

    /** A CSV of the synthetic images' row means (28 features) with a header, labels in a named first column. */
    @Test
    void trainsOnCsvWithAHeldOutSplitAndTheNewOptions() throws IOException {
        writeDataset(tmp, 300, 0);
        Path csv = tmp.resolve("rows.csv");
        StringBuilder text = new StringBuilder("class");
        for (int r = 0; r < 28; r++) text.append(",row").append(r);
        text.append('\n');
        byte[] pixels = readGzip(tmp.resolve("train-images-idx3-ubyte.gz"), 16), labels = readGzip(tmp.resolve("train-labels-idx1-ubyte.gz"), 8);
        for (int i = 0; i < 300; i++) {
            text.append(labels[i]);
            for (int r = 0; r < 28; r++) {
                int sum = 0;
                for (int c = 0; c < 28; c++) sum += pixels[i * 784 + r * 28 + c] & 0xff;
                text.append(',').append(sum / (28 * 255.0));
            }
            text.append('\n');
        }
        Files.writeString(csv, text);
        Path spec = tmp.resolve("rows.net");
        Files.writeString(spec, "input float[N,28]\ndense 32\nrelu\ndense 10\n");
        CliTest.Result r = cli("train", spec.toString(), "--data", "csv=" + csv, "--label-column", "class", "--holdout", "0.2",
                "--loss", "bce", "--optimizer", "rmsprop", "--lr", "0.01", "--weight-decay", "0.0001", "--clip-norm", "5",
                "--lr-schedule", "step", "--lr-step", "2", "--lr-gamma", "0.5", "--epochs", "4", "--batch", "16", "--threads", "2");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("on 240 samples (test 60), loss bce, rmsprop lr 0.01 (step)"), r.out());
        List<Double> losses = losses(r.out());
        assertEquals(4, losses.size(), r.out());
        assertTrue(losses.getLast() < losses.getFirst() * 0.8, "loss did not fall: " + losses);
        Matcher last = FINAL.matcher(r.out());
        assertTrue(last.find() && Double.parseDouble(last.group(1)) > 0.5, "test accuracy near chance: " + r.out());
    }

    /** Two epochs in one run, or one and then one more resumed from the checkpoint next to -o: the same model. */
    @Test
    void resumingWritesTheSameModelAsAnUninterruptedRun() throws IOException {
        writeDataset(tmp, 200, 50);
        Path straight = tmp.resolve("straight.onnx"), resumed = tmp.resolve("resumed.onnx");
        String[] common = {"train", SPECS.resolve("lenet.net").toString(), "--data", "fashion-mnist=" + tmp, "--optimizer", "adamw",
                "--lr", "0.003", "--batch", "32", "--threads", "2", "--seed", "3", "--limit", "200"};
        assertEquals(0, cli(concat(common, "--epochs", "2", "-o", straight.toString())).code());
        assertEquals(0, cli(concat(common, "--epochs", "1", "-o", resumed.toString())).code());
        assertTrue(Files.exists(tmp.resolve("resumed.onnx.ckpt")));
        CliTest.Result r = cli(concat(common, "--epochs", "2", "-o", resumed.toString(), "--resume"));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("resumed after epoch 1") && r.out().contains("epoch 2:") && !r.out().contains("epoch 1:"), r.out());
        assertArrayEquals(Files.readAllBytes(straight), Files.readAllBytes(resumed));
    }

    @Test
    void trainsOnNpyArrays() throws IOException {
        writeDataset(tmp, 200, 0);
        Path x = tmp.resolve("x.npy"), y = tmp.resolve("y.npy");
        Tensor images = Tensor.allocate(DType.UINT8, 200, 28, 28);
        MemorySegment.copy(MemorySegment.ofArray(readGzip(tmp.resolve("train-images-idx3-ubyte.gz"), 16)), 0, images.segment(), 0, 200 * 784);
        Npy.write(images, x);
        long[] labels = new long[200];
        byte[] raw = readGzip(tmp.resolve("train-labels-idx1-ubyte.gz"), 8);
        for (int i = 0; i < 200; i++) labels[i] = raw[i];
        Npy.write(Tensor.of(labels, 200), y);
        CliTest.Result r = cli("train", SPECS.resolve("mlp.net").toString(), "--data", "npy=" + x + "," + y, "--test-data", "npy=" + x + "," + y,
                "--optimizer", "sgd", "--lr", "0.05", "--loss", "hinge", "--epochs", "3", "--batch", "20", "--threads", "2");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("on 200 samples (test 200)"), r.out());
        Matcher last = FINAL.matcher(r.out());
        assertTrue(last.find() && Double.parseDouble(last.group(1)) > 0.5, r.out());
    }

    @Test
    void badLossSettingsAreUsageErrors() {
        String mlp = SPECS.resolve("mlp.net").toString();
        for (String[] args : new String[][] {{"--loss", "focal"}, {"--loss", "mse", "--class-weights", "1,2"}, {"--reduction", "none"},
                {"--optimizer", "lion"}, {"--lr-schedule", "linear"}, {"--resume"}}) {
            CliTest.Result r = cli(concat(new String[] {"train", mlp, "--data", "fashion-mnist=/nowhere"}, args));
            assertEquals(Main.EXIT_USAGE, r.code(), String.join(" ", args) + ": " + r.err());
        }
    }

    private static List<Double> losses(String out) {
        List<Double> losses = new ArrayList<>();
        Matcher m = EPOCH.matcher(out);
        while (m.find()) losses.add(Double.parseDouble(m.group(1)));
        return losses;
    }

    private static String[] concat(String[] a, String... b) {
        String[] all = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }

    /** The bytes of a gzipped IDX file after its {@code header} bytes. */
    private static byte[] readGzip(Path file, int header) throws IOException {
        try (var in = new GZIPInputStream(Files.newInputStream(file))) {
            byte[] all = in.readAllBytes();
            return Arrays.copyOfRange(all, header, all.length);
        }
    }

    @Test
    void unknownDatasetIsAUsageError() {
        CliTest.Result r = cli("train", SPECS.resolve("mlp.net").toString(), "--data", "cifar=/nowhere");
        assertEquals(Main.EXIT_USAGE, r.code(), r.err());
    }

    /** {train,t10k}-{images-idx3,labels-idx1}-ubyte.gz with 28×28 images; class c is bright in rows 2c..2c+4. */
    static void writeDataset(Path dir, int train, int test) throws IOException {
        SplittableRandom random = new SplittableRandom(7);
        for (String split : new String[] {"train", "t10k"}) {
            int n = split.equals("train") ? train : test;
            byte[] pixels = new byte[n * 784], labels = new byte[n];
            for (int i = 0; i < n; i++) {
                int c = random.nextInt(10);
                labels[i] = (byte) c;
                for (int p = 0; p < 784; p++) {
                    int row = p / 28;
                    boolean lit = row >= 2 * c && row < 2 * c + 4;
                    pixels[i * 784 + p] = (byte) ((lit ? 160 : 0) + random.nextInt(60));
                }
            }
            write(dir.resolve(split + "-images-idx3-ubyte.gz"), 0x0803, new int[] {n, 28, 28}, pixels);
            write(dir.resolve(split + "-labels-idx1-ubyte.gz"), 0x0801, new int[] {n}, labels);
        }
    }

    private static void write(Path file, int magic, int[] dims, byte[] data) throws IOException {
        try (DataOutputStream out = new DataOutputStream(new GZIPOutputStream(Files.newOutputStream(file)))) {
            out.writeInt(magic);
            for (int d : dims) out.writeInt(d);
            out.write(data);
        }
    }
}
