package dev.onnxrun.benchmarks;

import dev.onnxrun.runtime.Parallel;
import dev.onnxrun.runtime.kernels.Gemm;
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * GFLOP/s of the float32 GEMM kernel on one thread for square sizes, and the fraction of one
 * core's peak, measured here with a loop of independent vector FMAs (no memory traffic).
 */
public final class GemmThroughput {
    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;

    public static void main(String[] args) {
        int[] sizes = {64, 128, 256, 512, 1024};
        for (int i = 0; i < args.length; i++) {
            if (!args[i].equals("--sizes")) throw Usage.fail("gemm", "unknown argument '" + args[i] + "'");
            sizes = Arrays.stream(Usage.numbers("gemm", args, i++)).mapToInt(Math::toIntExact).toArray();
        }
        double peak = peakGflops();
        System.out.printf(Locale.ROOT, "Measured single-core peak: %.1f GFLOP/s (%d-lane FMA)%n%n", peak, SPECIES.length());
        System.out.println("| size | GFLOP/s | fraction of peak |");
        System.out.println("|---|---|---|");
        for (int n : sizes) {
            double gflops = gemmGflops(n);
            System.out.printf(Locale.ROOT, "| %d | %.1f | %.0f%% |%n", n, gflops, 100 * gflops / peak);
        }
    }

    static double gemmGflops(int n) {
        SplittableRandom r = new SplittableRandom(1);
        float[] a = new float[n * n], b = new float[n * n], c = new float[n * n];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) r.nextDouble(-1, 1);
            b[i] = (float) r.nextDouble(-1, 1);
        }
        Gemm.Matrix am = Gemm.Matrix.rowMajor(a, 0, n), bm = Gemm.Matrix.rowMajor(b, 0, n);
        double flops = 2.0 * n * n * n;
        int reps = (int) Math.max(3, Math.min(2000, 2e9 / flops));
        long best = Long.MAX_VALUE, start = System.nanoTime();
        // At least a second of rounds: small sizes would otherwise be timed before the JIT settles.
        for (int round = 0; round < 5 || System.nanoTime() - start < 1_000_000_000L; round++) {
            long t = System.nanoTime();
            for (int i = 0; i < reps; i++) Gemm.multiply(n, n, n, 1f, am, bm, c, 0, n, false, Parallel.SERIAL);
            best = Math.min(best, (System.nanoTime() - t) / reps);
        }
        return flops / best;
    }

    /** Twelve independent FMA chains, as many as fit the register file without spilling. */
    static double peakGflops() {
        long iterations = 2_000_000;
        float sink = 0;
        for (int i = 0; i < 20; i++) sink += fmaChains(iterations / 10); // let the JIT compile fmaChains first
        long best = Long.MAX_VALUE;
        for (int round = 0; round < 5; round++) {
            long t = System.nanoTime();
            sink += fmaChains(iterations);
            best = Math.min(best, System.nanoTime() - t);
        }
        if (sink == 42) System.out.print(""); // keeps the results observable
        return 12.0 * 2 * SPECIES.length() * iterations / best;
    }

    static float fmaChains(long iterations) {
        FloatVector m = FloatVector.broadcast(SPECIES, 0.999999f), add = FloatVector.broadcast(SPECIES, 1e-7f);
        FloatVector a0 = FloatVector.broadcast(SPECIES, 0), a1 = FloatVector.broadcast(SPECIES, 1), a2 = FloatVector.broadcast(SPECIES, 2);
        FloatVector a3 = FloatVector.broadcast(SPECIES, 3), a4 = FloatVector.broadcast(SPECIES, 4), a5 = FloatVector.broadcast(SPECIES, 5);
        FloatVector a6 = FloatVector.broadcast(SPECIES, 6), a7 = FloatVector.broadcast(SPECIES, 7), a8 = FloatVector.broadcast(SPECIES, 8);
        FloatVector a9 = FloatVector.broadcast(SPECIES, 9), a10 = FloatVector.broadcast(SPECIES, 10), a11 = FloatVector.broadcast(SPECIES, 11);
        for (long i = 0; i < iterations; i++) {
            a0 = a0.fma(m, add); a1 = a1.fma(m, add); a2 = a2.fma(m, add); a3 = a3.fma(m, add);
            a4 = a4.fma(m, add); a5 = a5.fma(m, add); a6 = a6.fma(m, add); a7 = a7.fma(m, add);
            a8 = a8.fma(m, add); a9 = a9.fma(m, add); a10 = a10.fma(m, add); a11 = a11.fma(m, add);
        }
        return a0.add(a1).add(a2).add(a3).add(a4).add(a5).add(a6).add(a7).add(a8).add(a9).add(a10).add(a11)
                .reduceLanes(jdk.incubator.vector.VectorOperators.ADD);
    }
}
