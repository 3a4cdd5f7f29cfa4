package dev.onnxrun.runtime.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.onnxrun.runtime.DType;
import dev.onnxrun.runtime.Parallel;
import dev.onnxrun.runtime.Tensor;
import dev.onnxrun.runtime.kernels.Recurrent.Activation;
import dev.onnxrun.runtime.kernels.Recurrent.ActivationKind;
import dev.onnxrun.runtime.kernels.Recurrent.Cell;
import dev.onnxrun.runtime.kernels.Recurrent.Config;
import dev.onnxrun.runtime.kernels.Recurrent.Direction;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The float32 recurrent path against the double path (the same layer run on double tensors of
 * the same values), over random shapes and every attribute: cell, direction, layout, clip,
 * activations with their parameters, input_forget, linear_before_reset, sequence lengths,
 * initial states and peepholes.
 */
class RecurrentTest {
    @Test
    void floatPathMatchesTheDoublePath() {
        Random rnd = new Random(7);
        try (Parallel threads = new Parallel(2)) {
            for (int trial = 0; trial < 300; trial++) {
                Cell cell = Cell.values()[trial % 3];
                Direction direction = Direction.values()[rnd.nextInt(3)];
                int seq = 1 + rnd.nextInt(7), batch = 1 + rnd.nextInt(9), input = 1 + rnd.nextInt(40), hidden = 1 + rnd.nextInt(40);
                if (trial % 25 == 0) hidden = 128 + rnd.nextInt(3); // long enough for whole vectors and packed panels
                boolean batchFirst = rnd.nextBoolean();
                int dirs = direction.count(), gh = cell.gates() * hidden;
                Config cfg = new Config(cell, direction, activations(rnd, cell, dirs), rnd.nextInt(3) == 0 ? 0.5 + rnd.nextDouble() : Double.POSITIVE_INFINITY,
                        rnd.nextBoolean() ? hidden : -1, cell == Cell.LSTM && rnd.nextInt(4) == 0, cell == Cell.GRU && rnd.nextBoolean(), batchFirst);
                Tensor x = RandomTensors.uniform(rnd, batchFirst ? new long[] {batch, seq, input} : new long[] {seq, batch, input});
                // weights scaled by 1/√fan-in keep unbounded activations (Affine, Relu, ...) from overflowing
                Tensor w = scaled(RandomTensors.uniform(rnd, dirs, gh, input), input), r = scaled(RandomTensors.uniform(rnd, dirs, gh, hidden), hidden);
                Tensor b = rnd.nextBoolean() ? RandomTensors.uniform(rnd, dirs, 2L * gh) : null;
                Tensor lens = null;
                if (rnd.nextBoolean()) {
                    long[] l = new long[batch];
                    for (int n = 0; n < batch; n++) l[n] = rnd.nextInt(seq + 1);
                    lens = Tensor.of(l, batch);
                }
                long[] stateShape = batchFirst ? new long[] {batch, dirs, hidden} : new long[] {dirs, batch, hidden};
                Tensor h0 = rnd.nextBoolean() ? RandomTensors.uniform(rnd, stateShape) : null;
                Tensor c0 = cell == Cell.LSTM && rnd.nextBoolean() ? RandomTensors.uniform(rnd, stateShape) : null;
                Tensor p = cell == Cell.LSTM && rnd.nextBoolean() ? RandomTensors.uniform(rnd, dirs, 3L * hidden) : null;
                String what = "trial " + trial + " " + cfg;
                Parallel pool = trial % 2 == 0 ? threads : Parallel.SERIAL;
                Recurrent.Result fast = Recurrent.run(cfg, trial % 3 == 0 ? RandomTensors.sliced(x) : x, w, r, b, lens, h0, c0, p, pool);
                Recurrent.Result prepared = Recurrent.run(cfg, x, w, r, b, lens, h0, c0, p, Recurrent.prepare(cfg, w, r, b, p, PackedForm.Stored.NONE),
                        ArenaSlices.context(pool));
                Recurrent.Result reference = Recurrent.run(cfg, RandomTensors.asDouble(x), RandomTensors.asDouble(w), RandomTensors.asDouble(r), RandomTensors.asDouble(b), lens, RandomTensors.asDouble(h0),
                        RandomTensors.asDouble(c0), RandomTensors.asDouble(p), pool);
                assertClose(reference.y(), fast.y(), what + " Y");
                assertClose(reference.yH(), fast.yH(), what + " Y_h");
                if (cell == Cell.LSTM) assertClose(reference.yC(), fast.yC(), what + " Y_c");
                // not bitwise: exp and tanh round differently before and after the JIT compiles them
                // prepared weights, outputs in planned memory (NaN-filled): every element written
                assertClose(fast.y(), prepared.y(), what + " prepared Y");
                assertClose(fast.yH(), prepared.yH(), what + " prepared Y_h");
                if (cell == Cell.LSTM) assertClose(fast.yC(), prepared.yC(), what + " prepared Y_c");
            }
        }
    }

    /** Random activation functions with random parameters, for every direction. */
    private static Activation[] activations(Random rnd, Cell cell, int dirs) {
        Activation[] out = new Activation[cell.activationsPerDirection() * dirs];
        Activation[] defaults = cell.defaultActivations();
        for (int i = 0; i < out.length; i++) {
            if (rnd.nextInt(3) > 0) {
                out[i] = defaults[i % defaults.length];
            } else {
                ActivationKind kind = ActivationKind.values()[rnd.nextInt(ActivationKind.values().length)];
                out[i] = new Activation(kind, kind.usesAlpha() ? 0.1 + rnd.nextDouble() : kind.defaultAlpha(),
                        kind.usesBeta() ? rnd.nextDouble() : kind.defaultBeta());
            }
        }
        return out;
    }

    @Test
    void everyActivationVectorFormMatchesItsScalarForm() {
        float[] xs = {-40f, -31f, -5f, -1.5f, -0.7f, -1e-3f, 0f, 1e-3f, 0.3f, 0.9f, 1.5f, 4f, 29f, 31f, 40f, Float.NaN};
        for (ActivationKind kind : ActivationKind.values()) {
            Activation a = new Activation(kind, kind.usesAlpha() ? 0.7 : kind.defaultAlpha(), kind.usesBeta() ? 0.4 : kind.defaultBeta());
            var species = jdk.incubator.vector.FloatVector.SPECIES_PREFERRED;
            for (int at = 0; at < xs.length; at += species.length()) {
                var mask = species.indexInRange(at, xs.length);
                float[] got = new float[species.length()];
                a.apply(jdk.incubator.vector.FloatVector.fromArray(species, xs, at, mask)).intoArray(got, 0);
                for (int l = 0; l < species.length() && at + l < xs.length; l++) {
                    float want = (float) a.apply((double) xs[at + l]);
                    if (Float.isNaN(want)) assertEquals(want, got[l], kind + "(NaN)");
                    else assertEquals(want, got[l], 2e-6 * Math.max(1, Math.abs(want)), kind + "(" + xs[at + l] + ")");
                }
            }
        }
    }

    static Tensor scaled(Tensor t, int fanIn) {
        for (long i = 0; i < t.size(); i++) t.setFloat(i, (float) (t.getFloat(i) / Math.sqrt(fanIn)));
        return t;
    }

    static void assertClose(Tensor want, Tensor got, String what) {
        assertArrayEquals(want.shape(), got.shape(), what + " shape");
        assertEquals(DType.FLOAT, got.dtype(), what);
        for (long i = 0; i < want.size(); i++) {
            double e = want.getDouble(i), g = got.getDouble(i);
            assertEquals(e, g, 1e-4 * Math.max(1, Math.abs(e)), what + " at " + i);
        }
    }
}
