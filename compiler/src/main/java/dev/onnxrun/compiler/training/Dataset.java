package dev.onnxrun.compiler.training;

import dev.onnxrun.compiler.io.Idx;
import dev.onnxrun.compiler.io.Npy;
import dev.onnxrun.runtime.DType;
import dev.onnxrun.runtime.OnnxrunException;
import dev.onnxrun.runtime.Tensor;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Labelled samples of a classifier, each {@code featuresPerSample} values and an int label.
 * Samples are held either as 8-bit values read as {@code v / 255} (IDX images, uint8 .npy) or
 * as floats used as stored (CSV, float .npy). Batches are float32 [B, ...shape], labels int64.
 */
public final class Dataset {
    /** [N·F] 8-bit samples, or null when {@link #floats} holds them. */
    private final byte[] bytes;
    /** [N·F] float samples, or null when {@link #bytes} holds them. */
    private final float[] floats;
    private final int[] labels;
    private final int featuresPerSample;

    private Dataset(byte[] bytes, float[] floats, int[] labels, int featuresPerSample) {
        this.bytes = bytes;
        this.floats = floats;
        this.labels = labels;
        this.featuresPerSample = featuresPerSample;
    }

    /** 8-bit samples {@code pixels} [N·F], read as {@code v / 255}, with their labels. */
    public static Dataset ofBytes(byte[] pixels, int[] labels, int featuresPerSample) {
        return new Dataset(pixels, null, labels, featuresPerSample);
    }

    /** Float samples {@code values} [N·F], used as stored, with their labels. */
    public static Dataset ofFloats(float[] values, int[] labels, int featuresPerSample) {
        return new Dataset(null, values, labels, featuresPerSample);
    }

    /** The training or test split of an MNIST-layout directory ({@code train-images-idx3-ubyte[.gz]}, ...). */
    public static Dataset mnistLayout(Path dir, boolean train) {
        String prefix = train ? "train" : "t10k";
        Tensor images = Idx.read(file(dir, prefix + "-images-idx3-ubyte"));
        Tensor labels = Idx.read(file(dir, prefix + "-labels-idx1-ubyte"));
        if (images.rank() != 3 || labels.rank() != 1 || images.dim(0) != labels.dim(0)) {
            throw OnnxrunException.invalidInput(dir + ": expected images [N, H, W] and labels [N], got " + images.describe()
                    + " and " + labels.describe());
        }
        byte[] px = images.segment().toArray(ValueLayout.JAVA_BYTE);
        return ofBytes(px, labelArray(labels, dir.toString()), (int) (images.dim(1) * images.dim(2)));
    }

    private static Path file(Path dir, String name) {
        Path gz = dir.resolve(name + ".gz");
        if (Files.exists(gz)) return gz;
        Path plain = dir.resolve(name);
        if (Files.exists(plain)) return plain;
        throw OnnxrunException.invalidInput(dir + ": neither " + name + " nor " + name + ".gz exists");
    }

    /**
     * Samples from {@code .npy} arrays: {@code features} [N, ...] (uint8 read as {@code v / 255},
     * other numbers as stored) and integer {@code labels} [N].
     */
    public static Dataset npy(Path features, Path labels) {
        Tensor x = Npy.read(features), y = Npy.read(labels);
        if (x.rank() < 1 || y.rank() != 1 || x.dim(0) != y.dim(0)) {
            throw OnnxrunException.invalidInput(features + ", " + labels + ": expected samples [N, ...] and labels [N], got "
                    + x.describe() + " and " + y.describe());
        }
        if (!x.dtype().isNumeric()) throw OnnxrunException.invalidInput(features + ": samples must be numbers, got " + x.describe());
        if (x.size() / Math.max(1, x.dim(0)) > Integer.MAX_VALUE || x.size() > Integer.MAX_VALUE - 8) {
            throw new OnnxrunException(OnnxrunException.Kind.LIMIT, features + ": " + x.describe() + " is too large to hold in one array");
        }
        int perSample = x.dim(0) == 0 ? 0 : (int) (x.size() / x.dim(0));
        int[] l = labelArray(y, labels.toString());
        if (x.dtype() == DType.UINT8) return ofBytes(x.segment().toArray(ValueLayout.JAVA_BYTE), l, perSample);
        float[] values = new float[(int) x.size()];
        for (int i = 0; i < values.length; i++) values[i] = (float) x.getDouble(i);
        return ofFloats(values, l, perSample);
    }

    private static int[] labelArray(Tensor labels, String where) {
        if (!labels.dtype().isInteger()) throw OnnxrunException.invalidInput(where + ": labels must be integers, got " + labels.describe());
        int[] out = new int[(int) labels.size()];
        for (int i = 0; i < out.length; i++) {
            long v = labels.dtype() == DType.UINT8 ? labels.getLong(i) & 0xff : labels.getLong(i);
            if (v < 0 || v > Integer.MAX_VALUE) throw OnnxrunException.invalidInput(where + ": label " + i + " is " + v + ", not a class index");
            out[i] = (int) v;
        }
        return out;
    }

    /**
     * Samples from a CSV file of numbers, one per line, the label in column {@code labelColumn}
     * (a 0-based index or, with a header, a column name; null for the last column) and the
     * features in the others. A first line that is not all numbers is a header. Blank lines are
     * skipped.
     */
    public static Dataset csv(Path file, String labelColumn) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file);
        } catch (IOException e) {
            throw OnnxrunException.invalidInput("cannot read " + file + ": " + e.getMessage());
        }
        int first = 0;
        while (first < lines.size() && lines.get(first).isBlank()) first++;
        if (first == lines.size()) throw OnnxrunException.invalidInput(file + ": no rows");
        String[] head = fields(lines.get(first));
        boolean header = Arrays.stream(head).anyMatch(f -> !isNumber(f));
        int columns = head.length;
        int label = labelIndex(labelColumn, header ? head : null, columns, file);
        List<float[]> rows = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        for (int i = header ? first + 1 : first; i < lines.size(); i++) {
            if (lines.get(i).isBlank()) continue;
            String where = file + ":" + (i + 1);
            String[] f = fields(lines.get(i));
            if (f.length != columns) throw OnnxrunException.invalidInput(where + ": " + f.length + " columns, the first row has " + columns);
            float[] row = new float[columns - 1];
            for (int c = 0, k = 0; c < columns; c++) {
                double v = number(f[c], where, c);
                if (c != label) {
                    row[k++] = (float) v;
                } else if (v >= 0 && v == Math.rint(v) && v <= Integer.MAX_VALUE) {
                    labels.add((int) v);
                } else {
                    throw OnnxrunException.invalidInput(where + ": label '" + f[c] + "' is not a class index (a non-negative integer)");
                }
            }
            rows.add(row);
        }
        float[] values = new float[rows.size() * (columns - 1)];
        for (int r = 0; r < rows.size(); r++) System.arraycopy(rows.get(r), 0, values, r * (columns - 1), columns - 1);
        return ofFloats(values, labels.stream().mapToInt(Integer::intValue).toArray(), columns - 1);
    }

    private static String[] fields(String line) {
        String[] f = line.split(",", -1);
        for (int i = 0; i < f.length; i++) f[i] = f[i].strip();
        return f;
    }

    private static boolean isNumber(String s) {
        try {
            Double.parseDouble(s);
            return true;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    private static double number(String s, String where, int column) {
        try {
            return Double.parseDouble(s);
        } catch (NumberFormatException e) {
            throw OnnxrunException.invalidInput(where + ": column " + column + " '" + s + "' is not a number");
        }
    }

    private static int labelIndex(String labelColumn, String[] header, int columns, Path file) {
        if (columns < 2) throw OnnxrunException.invalidInput(file + ": needs at least one feature column and a label column");
        if (labelColumn == null) return columns - 1;
        if (header != null) {
            int named = Arrays.asList(header).indexOf(labelColumn);
            if (named >= 0) return named;
        }
        try {
            int index = Integer.parseInt(labelColumn);
            if (index >= 0 && index < columns) return index;
        } catch (NumberFormatException e) {
            // neither a column name nor an index: reported below
        }
        throw OnnxrunException.invalidInput(file + ": no label column '" + labelColumn + "' (a 0-based index below " + columns
                + (header != null ? " or one of " + Arrays.toString(header) : "") + ")");
    }

    public int count() { return labels.length; }

    public int featuresPerSample() { return featuresPerSample; }

    /** The largest label, or -1 when there are no samples. */
    public int maxLabel() { return Arrays.stream(labels).max().orElse(-1); }

    /** The samples at {@code indices}, in that order. */
    public Dataset select(int[] indices) {
        int f = featuresPerSample;
        int[] l = new int[indices.length];
        for (int i = 0; i < indices.length; i++) l[i] = labels[indices[i]];
        if (bytes != null) {
            byte[] b = new byte[indices.length * f];
            for (int i = 0; i < indices.length; i++) System.arraycopy(bytes, indices[i] * f, b, i * f, f);
            return ofBytes(b, l, f);
        }
        float[] v = new float[indices.length * f];
        for (int i = 0; i < indices.length; i++) System.arraycopy(floats, indices[i] * f, v, i * f, f);
        return ofFloats(v, l, f);
    }

    /** The first {@code n} samples (all when {@code n} is 0 or at least the count). */
    public Dataset first(int n) {
        if (n <= 0 || n >= count()) return this;
        int[] indices = new int[n];
        Arrays.setAll(indices, i -> i);
        return select(indices);
    }

    /**
     * A seeded random split: {train, held out}, the held-out part {@code fraction} of the
     * samples (rounded down), both in their original order.
     */
    public Dataset[] split(double fraction, long seed) {
        if (!(fraction >= 0 && fraction < 1)) throw OnnxrunException.invalidInput("the held-out fraction must be in [0, 1), got " + fraction);
        int n = count(), held = (int) Math.floor(n * fraction);
        int[] order = new int[n];
        Arrays.setAll(order, i -> i);
        shuffle(order, new SplittableRandom(seed));
        int[] test = Arrays.copyOfRange(order, 0, held), train = Arrays.copyOfRange(order, held, n);
        Arrays.sort(test);
        Arrays.sort(train);
        return new Dataset[] {select(train), select(test)};
    }

    /** Fisher–Yates with a seeded generator. */
    static void shuffle(int[] a, SplittableRandom random) {
        for (int i = a.length - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    }

    /** Samples {@code order[from..to)} as float32 [B, ...shape]. */
    public Tensor features(int[] order, int from, int to, long[] shape) {
        long[] full = new long[shape.length + 1];
        full[0] = to - from;
        System.arraycopy(shape, 0, full, 1, shape.length);
        int f = featuresPerSample;
        float[] values = new float[(to - from) * f];
        for (int b = from; b < to; b++) {
            int src = order[b] * f, dst = (b - from) * f;
            if (bytes != null) {
                for (int i = 0; i < f; i++) values[dst + i] = (bytes[src + i] & 0xff) / 255f;
            } else {
                System.arraycopy(floats, src, values, dst, f);
            }
        }
        return Tensor.of(values, full);
    }

    /** Labels {@code order[from..to)} as int64 [B]. */
    public Tensor labels(int[] order, int from, int to) {
        long[] values = new long[to - from];
        for (int b = from; b < to; b++) values[b - from] = labels[order[b]];
        return Tensor.of(values, values.length);
    }
}
