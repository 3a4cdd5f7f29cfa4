package dev.onnxrun.runtime.kernels;

import dev.onnxrun.runtime.DType;
import dev.onnxrun.runtime.OnnxrunException;
import dev.onnxrun.runtime.Shapes;
import dev.onnxrun.runtime.Tensor;
import java.util.SplittableRandom;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Supplier;

/**
 * Random tensors: normal, uniform, Bernoulli and multinomial draws. A node with a seed draws the
 * same values on every run (a fresh generator from the seed each time); without one, every run
 * draws new values. The streams are onnxrun's own, so values never match numpy's.
 */
public final class RandomSampling {
    private RandomSampling() {}

    /** A generator for one run: from {@code seed} when not null, else freshly seeded. */
    public static SplittableRandom generator(Float seed) {
        return seed != null ? new SplittableRandom(Float.floatToIntBits(seed) * 0x9E3779B97F4A7C15L)
                : new SplittableRandom(ThreadLocalRandom.current().nextLong());
    }

    /**
     * The generators of successive runs of one node that must draw new values every run (a
     * training-mode Dropout's masks): with a seed, runs in sequence draw a reproducible sequence
     * of values (the node's generator advances once per run); without one, each run is freshly
     * seeded.
     */
    public static Supplier<SplittableRandom> perRun(Long seed) {
        if (seed == null) return () -> new SplittableRandom(ThreadLocalRandom.current().nextLong());
        SplittableRandom node = new SplittableRandom(seed * 0x9E3779B97F4A7C15L);
        return () -> {
            synchronized (node) {
                return node.split();
            }
        };
    }

    /**
     * Training-mode dropout: each element of {@code x} kept with probability 1 − ratio and
     * scaled by 1 / (1 − ratio), else zeroed. Returns y and the mask (true or 1 where kept) as
     * {@code maskType}.
     */
    public static Tensor[] dropout(Tensor x, double ratio, DType maskType, SplittableRandom rng) {
        if (!(ratio >= 0 && ratio < 1)) throw OnnxrunException.invalidInput("Dropout ratio " + ratio + " is outside [0, 1)");
        double scale = 1 / (1 - ratio);
        Tensor y = Tensor.allocate(x.dtype(), x.shape());
        Tensor mask = Tensor.allocate(maskType, x.shape());
        for (long i = 0, n = x.size(); i < n; i++) {
            boolean keep = rng.nextDouble() >= ratio;
            y.setDouble(i, keep ? x.getDouble(i) * scale : 0);
            mask.setLong(i, keep ? 1 : 0);
        }
        return new Tensor[] {y, mask};
    }

    /** Normal draws with the given mean and standard deviation. */
    public static Tensor normal(DType dtype, long[] shape, double mean, double scale, SplittableRandom rng) {
        Tensor y = Tensor.allocate(dtype, shape);
        for (long i = 0; i < y.size(); i++) y.setDouble(i, mean + scale * rng.nextGaussian());
        return y;
    }

    /** Uniform draws in [low, high). */
    public static Tensor uniform(DType dtype, long[] shape, double low, double high, SplittableRandom rng) {
        Tensor y = Tensor.allocate(dtype, shape);
        for (long i = 0; i < y.size(); i++) y.setDouble(i, low + (high - low) * rng.nextDouble());
        return y;
    }

    /** 1 with probability {@code p[i]}, else 0, as {@code dtype}. */
    public static Tensor bernoulli(Tensor p, DType dtype, SplittableRandom rng) {
        Tensor y = Tensor.allocate(dtype, p.shape());
        for (long i = 0; i < y.size(); i++) {
            double prob = p.getDouble(i);
            if (!(prob >= 0 && prob <= 1)) throw OnnxrunException.invalidInput("Bernoulli probability " + prob + " is outside [0, 1]");
            y.setDouble(i, rng.nextDouble() < prob ? 1 : 0);
        }
        return y;
    }

    /**
     * {@code samples} class indices per row of {@code logits} [batch, classes] (unnormalized log
     * probabilities), as int32 or int64 [batch, samples].
     */
    public static Tensor multinomial(Tensor logits, long samples, DType dtype, SplittableRandom rng) {
        if (logits.rank() != 2) throw OnnxrunException.invalidInput("Multinomial input must be [batch, classes], got " + Shapes.toString(logits.shape()));
        if (samples < 0) throw OnnxrunException.invalidModel("sample_size must not be negative");
        int batch = (int) logits.dim(0), classes = (int) logits.dim(1);
        if (classes == 0 && samples > 0) throw OnnxrunException.invalidInput("Multinomial needs at least one class");
        Tensor y = Tensor.allocate(dtype, batch, samples);
        double[] cumulative = new double[classes];
        for (int b = 0; b < batch; b++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < classes; c++) max = Math.max(max, logits.getDouble((long) b * classes + c));
            double total = 0;
            for (int c = 0; c < classes; c++) {
                total += Math.exp(logits.getDouble((long) b * classes + c) - max); // shifted by the max: no overflow
                cumulative[c] = total;
            }
            for (long s = 0; s < samples; s++) {
                double u = rng.nextDouble() * total;
                int c = 0;
                while (c < classes - 1 && cumulative[c] <= u) c++;
                y.setLong(b * samples + s, c);
            }
        }
        return y;
    }
}
