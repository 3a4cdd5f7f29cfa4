package dev.onnxrun.compiler.training;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.onnxrun.compiler.io.Npy;
import dev.onnxrun.runtime.DType;
import dev.onnxrun.runtime.OnnxrunException;
import dev.onnxrun.runtime.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetTest {
    @TempDir
    Path tmp;

    static int[] all(Dataset d) {
        int[] order = new int[d.count()];
        Arrays.setAll(order, i -> i);
        return order;
    }

    @Test
    void csvWithAHeaderNamesItsLabelColumn() throws IOException {
        Path file = tmp.resolve("d.csv");
        Files.writeString(file, "a, label ,b\n1.5,2,-3\n\n4,0,5e-1\n");
        Dataset d = Dataset.csv(file, "label");
        assertEquals(2, d.count());
        assertEquals(2, d.featuresPerSample());
        assertArrayEquals(new float[] {1.5f, -3, 4, 0.5f}, d.features(all(d), 0, 2, new long[] {2}).toFloatArray());
        assertArrayEquals(new long[] {2, 0}, d.labels(all(d), 0, 2).toLongArray());
        // the same by index; by default the last column, whose values are no class indices
        assertArrayEquals(new long[] {2, 0}, Dataset.csv(file, "1").labels(all(d), 0, 2).toLongArray());
        assertThrows(OnnxrunException.class, () -> Dataset.csv(file, null));
    }

    @Test
    void csvWithoutHeaderUsesTheLastColumn() throws IOException {
        Path file = tmp.resolve("d.csv");
        Files.writeString(file, "0.25,1,3\n0.5,2,1.0\n");
        Dataset d = Dataset.csv(file, null);
        assertArrayEquals(new long[] {3, 1}, d.labels(all(d), 0, 2).toLongArray());
        assertArrayEquals(new float[] {0.5f, 2}, d.features(new int[] {1}, 0, 1, new long[] {2}).toFloatArray());
    }

    @Test
    void badCsvRowsAreNamedByLine() throws IOException {
        Path file = tmp.resolve("d.csv");
        Files.writeString(file, "1,2,0\n1,x,1\n");
        OnnxrunException e = assertThrows(OnnxrunException.class, () -> Dataset.csv(file, null));
        assertTrue(e.getMessage().contains("d.csv:2") && e.getMessage().contains("'x'"), e.getMessage());
        Files.writeString(file, "1,2,0\n1,2,0.5\n");
        e = assertThrows(OnnxrunException.class, () -> Dataset.csv(file, null));
        assertTrue(e.getMessage().contains("d.csv:2") && e.getMessage().contains("class index"), e.getMessage());
        Files.writeString(file, "1,2,0\n1,2\n");
        assertThrows(OnnxrunException.class, () -> Dataset.csv(file, null));
        Files.writeString(file, "a,b\n1,2\n");
        assertThrows(OnnxrunException.class, () -> Dataset.csv(file, "c"));
    }

    @Test
    void npyBytesAreScaledAndFloatsKept() throws IOException {
        Tensor bytes = Tensor.allocate(DType.UINT8, 2, 2, 2);
        for (int i = 0; i < 8; i++) bytes.setDouble(i, i * 30);
        Path images = tmp.resolve("x.npy"), floats = tmp.resolve("f.npy"), labels = tmp.resolve("y.npy");
        Npy.write(bytes, images);
        Npy.write(Tensor.of(new double[] {0.5, -1, 2, 3}, 2, 2), floats);
        Npy.write(Tensor.of(new int[] {1, 0}, 2), labels);
        Dataset d = Dataset.npy(images, labels);
        assertEquals(4, d.featuresPerSample());
        float[] x = d.features(new int[] {1}, 0, 1, new long[] {2, 2}).toFloatArray();
        for (int i = 0; i < 4; i++) assertEquals((4 + i) * 30 / 255f, x[i], 1e-7);
        assertArrayEquals(new long[] {1, 0}, d.labels(all(d), 0, 2).toLongArray());
        assertArrayEquals(new float[] {0.5f, -1, 2, 3}, Dataset.npy(floats, labels).features(all(d), 0, 2, new long[] {2}).toFloatArray());
        Npy.write(Tensor.of(new float[] {1, 0}, 2), labels);
        assertThrows(OnnxrunException.class, () -> Dataset.npy(floats, labels));
    }

    @Test
    void heldOutSplitIsSeededAndDisjoint() {
        int n = 50;
        float[] x = new float[n];
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) x[i] = i;
        Dataset d = Dataset.ofFloats(x, labels, 1);
        Dataset[] split = d.split(0.2, 7);
        assertEquals(40, split[0].count());
        assertEquals(10, split[1].count());
        Set<Float> seen = new HashSet<>();
        for (Dataset part : split) {
            for (float v : part.features(all(part), 0, part.count(), new long[] {1}).toFloatArray()) assertTrue(seen.add(v), "twice: " + v);
        }
        assertEquals(n, seen.size());
        assertArrayEquals(split[1].features(all(split[1]), 0, 10, new long[] {1}).toFloatArray(),
                d.split(0.2, 7)[1].features(all(split[1]), 0, 10, new long[] {1}).toFloatArray());
        assertEquals(3, d.first(3).count());
    }
}
