package dev.onnxrun.runtime.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.onnxrun.runtime.DType;
import dev.onnxrun.runtime.ExecContext;
import dev.onnxrun.runtime.Parallel;
import dev.onnxrun.runtime.Tensor;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The float32 LayerNormalization path against the double path on the same values. */
class NormalizationTest {
    @Test
    void layerNormFloatPathMatchesTheDoublePath() {
        Random rnd = new Random(11);
        try (Parallel threads = new Parallel(2)) {
            for (int trial = 0; trial < 60; trial++) {
                int rows = 1 + rnd.nextInt(40), len = 1 + rnd.nextInt(trial % 3 == 0 ? 1100 : 70);
                Tensor x = RandomTensors.uniform(rnd, rows, len);
                // an offset far from zero checks the variance is taken about the mean
                for (long i = 0; i < x.size(); i++) x.setFloat(i, x.getFloat(i) * 3 + 5);
                Tensor scale = RandomTensors.uniform(rnd, len), bias = rnd.nextBoolean() ? RandomTensors.uniform(rnd, len) : null;
                Tensor[] fast = Normalization.layerNorm(trial % 3 == 0 ? RandomTensors.sliced(x) : x, scale, bias, -1, 1e-5, DType.FLOAT, ExecContext.on(trial % 2 == 0 ? threads : Parallel.SERIAL));
                Tensor[] reference = Normalization.layerNorm(RandomTensors.asDouble(x), RandomTensors.asDouble(scale),
                        RandomTensors.asDouble(bias), -1, 1e-5, DType.DOUBLE, ExecContext.singleThreaded());
                for (int k = 0; k < 3; k++) {
                    for (long i = 0; i < reference[k].size(); i++) {
                        double want = reference[k].getDouble(i);
                        assertEquals(want, fast[k].getDouble(i), 2e-5 * Math.max(1, Math.abs(want)), "trial " + trial + " output " + k + " at " + i);
                    }
                }
            }
        }
    }

    /** Training BatchNormalization and its fused gradient: the float32 path against the double path, over odd plane sizes. */
    @Test
    void batchNormTrainingFloatPathMatchesTheDoublePath() {
        Random rnd = new Random(12);
        try (Parallel threads = new Parallel(2)) {
            for (int trial = 0; trial < 30; trial++) {
                int batch = 1 + rnd.nextInt(9), channels = 1 + rnd.nextInt(7), h = 1 + rnd.nextInt(trial % 2 == 0 ? 30 : 5), w = 1 + rnd.nextInt(9);
                Tensor x = RandomTensors.uniform(rnd, batch, channels, h, w), dy = RandomTensors.uniform(rnd, batch, channels, h, w);
                // an offset far from zero checks the variance is taken about the mean
                for (long i = 0; i < x.size(); i++) x.setFloat(i, x.getFloat(i) * 2 + 3);
                Tensor scale = RandomTensors.uniform(rnd, channels), bias = RandomTensors.uniform(rnd, channels);
                Tensor mean = RandomTensors.uniform(rnd, channels), var = RandomTensors.uniform(rnd, channels);
                for (long i = 0; i < var.size(); i++) var.setFloat(i, var.getFloat(i) + 1.5f);
                Parallel pool = trial % 2 == 0 ? threads : Parallel.SERIAL;
                Tensor[] fast = Normalization.batchNormTraining(x, scale, bias, mean, var, 1e-5, 0.9, ArenaSlices.context(pool));
                Tensor[] reference = Normalization.batchNormTraining(RandomTensors.asDouble(x), RandomTensors.asDouble(scale),
                        RandomTensors.asDouble(bias), RandomTensors.asDouble(mean), RandomTensors.asDouble(var), 1e-5, 0.9,
                        dev.onnxrun.runtime.ExecContext.singleThreaded());
                assertClose(reference, fast, "trial " + trial + " forward");
                Tensor[] fastGrad = Normalization.batchNormTrainingGrad(dy, x, scale, 1e-5, ArenaSlices.context(pool));
                Tensor[] referenceGrad = Normalization.batchNormTrainingGrad(RandomTensors.asDouble(dy), RandomTensors.asDouble(x),
                        RandomTensors.asDouble(scale), 1e-5, dev.onnxrun.runtime.ExecContext.singleThreaded());
                assertClose(referenceGrad, fastGrad, "trial " + trial + " gradient");
            }
        }
    }

    private static void assertClose(Tensor[] reference, Tensor[] fast, String what) {
        for (int k = 0; k < reference.length; k++) {
            for (long i = 0; i < reference[k].size(); i++) {
                double want = reference[k].getDouble(i);
                assertEquals(want, fast[k].getDouble(i), 5e-5 * Math.max(1, Math.abs(want)), what + " output " + k + " at " + i);
            }
        }
    }
}
