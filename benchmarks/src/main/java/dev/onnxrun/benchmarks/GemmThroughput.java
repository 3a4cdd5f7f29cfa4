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
 * core's peak, measured here as the faster of two loops: independent vector FMAs on registers
 * alone, and a 4-row × 2-vector tile of broadcasts and FMAs over a panel in L1. With 16-lane
 * vectors the first is the faster; with 8 (AVX2's 16 registers) C2 moves its twelve chains
 * between registers and the stack in its unrolled loop: from JVM to JVM it read 57–100 GFLOP/s
 * on a Zen 4 core where the tile read 101–109.
 */
public final class GemmThroughput {
    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;

    public static void main(String[] args) {
        int[] sizes = {64, 128, 256, 512, 1024};
        for (int i = 0; i < args.length; i++) {
            if (!args[i].equals("--sizes")) throw Usage.fail("gemm", "unknown argument '" + args[i] + "'");
            sizes = Arrays.stream(Usage.numbers("gemm", args, i++)).mapToInt(Math::toIntExact).toArray();
        }
        double chains = peakGflops(), tile = tileGflops(), peak = Math.max(chains, tile);
        System.out.printf(Locale.ROOT, "Measured single-core peak: %.1f GFLOP/s (%d-lane FMA; FMA chains %.1f, 4 × 2 tile over a panel in L1 %.1f)%n%n",
                peak, SPECIES.length(), chains, tile);
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

    /** GFLOP/s of {@link #tile} over a 256-deep panel (4 KiB of A's broadcasts, 2 vectors of B a step) that stays in L1. */
    static double tileGflops() {
        int depth = 256, vl = SPECIES.length();
        float[] a = new float[4 * depth], b = new float[2 * vl * depth], c = new float[8 * vl];
        for (int i = 0; i < a.length; i++) a[i] = 1e-3f * (i % 7);
        for (int i = 0; i < b.length; i++) b[i] = 1e-3f * (i % 5);
        int calls = 20_000;
        for (int i = 0; i < 10 * calls; i++) tile(depth, a, b, c); // compiled first
        long best = Long.MAX_VALUE;
        for (int round = 0; round < 5; round++) {
            long t = System.nanoTime();
            for (int i = 0; i < calls; i++) tile(depth, a, b, c);
            best = Math.min(best, System.nanoTime() - t);
        }
        return 2.0 * 8 * vl * depth * calls / best;
    }

    /** C[4 × 2 vectors] = A[4 × depth] · B[depth × 2 vectors], A's values broadcast: eight FMA chains, fed as a GEMM feeds them. */
    static void tile(int depth, float[] a, float[] b, float[] c) {
        int vl = SPECIES.length();
        FloatVector c0 = FloatVector.zero(SPECIES), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
        for (int l = 0; l < depth; l++) {
            FloatVector b0 = FloatVector.fromArray(SPECIES, b, 2 * vl * l), b1 = FloatVector.fromArray(SPECIES, b, 2 * vl * l + vl);
            FloatVector v0 = FloatVector.broadcast(SPECIES, a[4 * l]);
            c0 = v0.fma(b0, c0); c1 = v0.fma(b1, c1);
            FloatVector v1 = FloatVector.broadcast(SPECIES, a[4 * l + 1]);
            c2 = v1.fma(b0, c2); c3 = v1.fma(b1, c3);
            FloatVector v2 = FloatVector.broadcast(SPECIES, a[4 * l + 2]);
            c4 = v2.fma(b0, c4); c5 = v2.fma(b1, c5);
            FloatVector v3 = FloatVector.broadcast(SPECIES, a[4 * l + 3]);
            c6 = v3.fma(b0, c6); c7 = v3.fma(b1, c7);
        }
        c0.intoArray(c, 0); c1.intoArray(c, vl); c2.intoArray(c, 2 * vl); c3.intoArray(c, 3 * vl);
        c4.intoArray(c, 4 * vl); c5.intoArray(c, 5 * vl); c6.intoArray(c, 6 * vl); c7.intoArray(c, 7 * vl);
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
