package dev.onnxrun.runtime.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.onnxrun.runtime.ExecContext;
import dev.onnxrun.runtime.Parallel;
import dev.onnxrun.runtime.Tensor;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The float32 Softmax and LogSoftmax lines against the double path on the same values, lines shorter and longer than a vector. */
class SoftmaxTest {
    @Test
    void floatLinesMatchTheDoublePath() {
        Random rnd = new Random(5);
        try (Parallel threads = new Parallel(2)) {
            for (int trial = 0; trial < 80; trial++) {
                // every fifth line whole vectors long: normalized in place rather than through a padded copy
                int lanes = FloatFastPaths.SPECIES.length();
                int lines = 1 + rnd.nextInt(300), len = trial % 5 == 0 ? lanes * (1 + trial % 9) : 1 + rnd.nextInt(trial % 4 == 0 ? 300 : 40);
                Tensor x = RandomTensors.uniform(rnd, lines, len);
                for (long i = 0; i < x.size(); i++) x.setFloat(i, x.getFloat(i) * 20);
                if (len > 1) x.setFloat(0, Float.NEGATIVE_INFINITY); // a masked position
                AxisLayout layout = AxisLayout.around(x.shape(), 1);
                for (Softmax.Kind kind : new Softmax.Kind[] {Softmax.Kind.SOFTMAX, Softmax.Kind.LOG_SOFTMAX}) {
                    Tensor fast = Softmax.apply(trial % 3 == 0 ? RandomTensors.sliced(x) : x, layout, kind, ExecContext.on(trial % 2 == 0 ? threads : Parallel.SERIAL));
                    Tensor reference = Softmax.apply(RandomTensors.asDouble(x), layout, kind, ExecContext.singleThreaded());
                    for (long i = 0; i < x.size(); i++) {
                        double want = reference.getDouble(i);
                        double tolerance = Double.isInfinite(want) ? 0 : 1e-5 * Math.max(1, Math.abs(want)); // log-softmax of −∞ is −∞
                        assertEquals(want, fast.getDouble(i), tolerance, kind + " trial " + trial + " at " + i);
                    }
                }
            }
        }
    }
}
