package dev.onnxrun.runtime.kernels;

import dev.onnxrun.runtime.Parallel;
import dev.onnxrun.runtime.Tensor;
import dev.onnxrun.runtime.kernels.Recurrent.Activation;
import dev.onnxrun.runtime.kernels.Recurrent.Cell;
import dev.onnxrun.runtime.kernels.Recurrent.Config;
import dev.onnxrun.runtime.kernels.Recurrent.Direction;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * The float32 path of {@link Recurrent}. The input projection of all time steps is one packed
 * GEMM (X[T·B, I] · Wᵀ); each step then multiplies the hidden state by Rᵀ (a GEMV at batch 1)
 * and finishes the gates with vector arithmetic over the hidden axis. Wᵀ and Rᵀ are packed once
 * per set of weights ({@link Weights}), at compile time when they are constants.
 */
public final class RecurrentFloat {
    private RecurrentFloat() {}

    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final int VL = SPECIES.length();

    /**
     * One direction's weights.
     *
     * @param inputT     Wᵀ [input, G·H]
     * @param recurrentT Rᵀ [H, G·H]; for GRU only the z and r gates' [H, 2H]
     * @param resetT     GRU: the h gate's R_hᵀ [H, H], which multiplies the reset state; else null
     * @param inputBias  Wb + Rb [G·H], less a linear-before-reset GRU's R_bh
     * @param hiddenBias a linear-before-reset GRU's R_bh [H] (zeros otherwise)
     * @param peepholes  LSTM's P [3H] (zeros when absent)
     */
    record DirectionWeights(Gemm.PackedB inputT, Gemm.PackedB recurrentT, Gemm.PackedB resetT, float[] inputBias,
                            float[] hiddenBias, float[] peepholes) {}

    /** W, R, B and P of a float32 layer, laid out for the products (see {@link Recurrent#prepare}). */
    public static final class Weights {
        private final DirectionWeights[] directions;

        private Weights(DirectionWeights[] directions) { this.directions = directions; }

        static Weights of(Config cfg, Tensor w, Tensor r, Tensor b, Tensor peepholes) {
            int dirs = cfg.direction().count(), hidden = Math.toIntExact(r.dim(2)), input = Math.toIntExact(w.dim(2));
            int gh = cfg.cell().gates() * hidden;
            boolean gru = cfg.cell() == Cell.GRU, lbr = gru && cfg.linearBeforeReset();
            float[] ws = FloatArrays.read(w), rs = FloatArrays.read(r);
            DirectionWeights[] out = new DirectionWeights[dirs];
            for (int d = 0; d < dirs; d++) {
                int rAt = d * gh * hidden;
                Gemm.PackedB inputT = packTransposed(ws, d * gh * input, gh, input);
                Gemm.PackedB recurrentT = packTransposed(rs, rAt, gru ? 2 * hidden : gh, hidden);
                Gemm.PackedB resetT = gru ? packTransposed(rs, rAt + 2 * hidden * hidden, hidden, hidden) : null;
                float[] inputBias = new float[gh], hiddenBias = new float[hidden], p = new float[3 * hidden];
                if (b != null) {
                    for (int j = 0; j < gh; j++) {
                        float wb = b.getFloat((long) d * 2 * gh + j), rb = b.getFloat((long) d * 2 * gh + gh + j);
                        boolean keepApart = lbr && j >= 2 * hidden;
                        inputBias[j] = keepApart ? wb : wb + rb;
                        if (keepApart) hiddenBias[j - 2 * hidden] = rb;
                    }
                }
                if (peepholes != null) for (int j = 0; j < p.length; j++) p[j] = peepholes.getFloat((long) d * 3 * hidden + j);
                out[d] = new DirectionWeights(inputT, recurrentT, resetT, inputBias, hiddenBias, p);
            }
            return new Weights(out);
        }

        /**
         * The transpose of the {@code rows}×{@code cols} row-major block at {@code at}, packed. The
         * transpose is also copied out row-major: products with fewer rows than a micro-tile
         * (batch-1 steps) stream that copy with contiguous vector loads.
         */
        private static Gemm.PackedB packTransposed(float[] src, int at, int rows, int cols) {
            float[] t = new float[rows * cols];
            for (int i = 0; i < rows; i++) {
                for (int k = 0; k < cols; k++) t[k * rows + i] = src[at + i * cols + k];
            }
            return Gemm.pack(cols, rows, Gemm.Matrix.rowMajor(t, 0, rows));
        }
    }

    static Recurrent.Result run(Recurrent.Layer layer, Weights weights, Tensor x, int[] lengths, Tensor initialH, Tensor initialC,
                                Parallel parallel) {
        Config cfg = layer.cfg;
        float[] xs = FloatArrays.read(x);
        int stateSize = layer.dirs * layer.batch * layer.hidden;
        float[] y = new float[layer.seq * stateSize];
        float[] yH = new float[stateSize];
        float[] yC = cfg.cell() == Cell.LSTM ? new float[stateSize] : null;
        // Two directions are independent: given the work, each takes its own thread.
        long work = (long) layer.seq * layer.batch * layer.gates * layer.hidden * (layer.input + layer.hidden);
        Parallel outer = layer.dirs > 1 ? Work.pool(parallel, layer.dirs * work) : Parallel.SERIAL;
        Parallel inner = outer == Parallel.SERIAL ? parallel : Parallel.SERIAL;
        outer.forRange(layer.dirs, (from, to) -> {
            for (int d = (int) from; d < to; d++) {
                new DirectionRun(layer, weights.directions[d], d, xs, lengths, inner)
                        .run(initialH, initialC, y, yH, yC);
            }
        });
        long[] yShape = cfg.batchFirst()
                ? new long[] {layer.batch, layer.seq, layer.dirs, layer.hidden}
                : new long[] {layer.seq, layer.dirs, layer.batch, layer.hidden};
        long[] stateShape = cfg.batchFirst()
                ? new long[] {layer.batch, layer.dirs, layer.hidden}
                : new long[] {layer.dirs, layer.batch, layer.hidden};
        return new Recurrent.Result(Tensor.of(y, yShape), Tensor.of(yH, stateShape), yC == null ? null : Tensor.of(yC, stateShape));
    }

    /** The recurrence of one direction: its buffers and the gate arithmetic of each cell kind. */
    private static final class DirectionRun {
        final Recurrent.Layer layer;
        final DirectionWeights wts;
        final int d, hidden, batch, gh;
        final boolean reverse, inputForget, lbr;
        final float clip;
        final Activation f, g, h3;
        final int[] lengths;
        final Parallel parallel;
        /** The input projection of every step, rows in X's order (see {@link Recurrent.Layer#inputRow}). */
        final float[] projected;
        final float[] h, c, rec, recH, z, scratch;

        DirectionRun(Recurrent.Layer layer, DirectionWeights wts, int d, float[] xs, int[] lengths, Parallel parallel) {
            this.layer = layer;
            this.wts = wts;
            this.d = d;
            this.lengths = lengths;
            this.parallel = parallel;
            Config cfg = layer.cfg;
            hidden = layer.hidden;
            batch = layer.batch;
            gh = layer.gates * hidden;
            reverse = cfg.direction() == Direction.REVERSE || d == 1;
            inputForget = cfg.inputForget();
            lbr = cfg.linearBeforeReset();
            clip = (float) cfg.clip();
            int per = cfg.cell().activationsPerDirection();
            Activation[] act = cfg.activations();
            f = act[d * per];
            g = per > 1 ? act[d * per + 1] : null;
            h3 = per > 2 ? act[d * per + 2] : null;
            int rows = layer.seq * batch;
            projected = new float[rows * gh];
            for (int i = 0; i < rows; i++) System.arraycopy(wts.inputBias(), 0, projected, i * gh, gh);
            Gemm.multiply(rows, 1f, Gemm.Matrix.rowMajor(xs, 0, layer.input), wts.inputT(), projected, 0, gh, true, parallel);
            h = new float[batch * hidden];
            c = new float[batch * hidden];
            rec = new float[batch * wts.recurrentT().cols()];
            boolean gru = cfg.cell() == Cell.GRU;
            recH = gru ? new float[batch * hidden] : null;
            z = gru ? new float[batch * hidden] : null;
            scratch = gru ? new float[batch * hidden] : null;
        }

        void run(Tensor initialH, Tensor initialC, float[] y, float[] yH, float[] yC) {
            loadState(initialH, h);
            loadState(initialC, c);
            Cell cell = layer.cfg.cell();
            int maxLen = Arrays.stream(lengths).max().orElse(0);
            Gemm.Matrix state = Gemm.Matrix.rowMajor(h, 0, hidden);
            for (int step = 0; step < maxLen; step++) {
                Gemm.multiply(batch, 1f, state, wts.recurrentT(), rec, 0, wts.recurrentT().cols(), false, parallel);
                if (cell == Cell.GRU) {
                    if (lbr) Gemm.multiply(batch, 1f, state, wts.resetT(), recH, 0, hidden, false, parallel);
                    for (int n = 0; n < batch; n++) if (step < lengths[n]) gruGates(n, time(step, n));
                    if (!lbr) Gemm.multiply(batch, 1f, Gemm.Matrix.rowMajor(scratch, 0, hidden), wts.resetT(), recH, 0, hidden, false, parallel);
                }
                for (int n = 0; n < batch; n++) {
                    if (step >= lengths[n]) continue;
                    int t = time(step, n), xo = layer.inputRow(t, n) * gh, ho = n * hidden;
                    switch (cell) {
                        case RNN -> rnnRow(xo, ho);
                        case LSTM -> lstmRow(xo, ho);
                        case GRU -> gruUpdate(xo, ho);
                    }
                    System.arraycopy(h, ho, y, Math.toIntExact(layer.outputIndex(t, d, n, 0)), hidden);
                }
            }
            for (int n = 0; n < batch; n++) {
                int at = Math.toIntExact(layer.stateIndex(d, n, 0));
                System.arraycopy(h, n * hidden, yH, at, hidden);
                if (yC != null) System.arraycopy(c, n * hidden, yC, at, hidden);
            }
        }

        /** The time index batch entry n reads at this step (a reverse pass starts at its own last step). */
        int time(int step, int n) { return reverse ? lengths[n] - 1 - step : step; }

        void loadState(Tensor initial, float[] state) {
            if (initial == null) return;
            for (int n = 0; n < batch; n++) {
                for (int j = 0; j < hidden; j++) state[n * hidden + j] = initial.getFloat(layer.stateIndex(d, n, j));
            }
        }

        FloatVector clipped(FloatVector v) { return v.max(-clip).min(clip); }

        /** x·Wᵀ + b + (h·Rᵀ) of gate {@code gate}'s lanes at j. */
        FloatVector preActivation(int xo, int ro, int gate, int j, VectorMask<Float> m) {
            int at = gate * hidden + j;
            return FloatVector.fromArray(SPECIES, projected, xo + at, m).add(FloatVector.fromArray(SPECIES, rec, ro + at, m));
        }

        void rnnRow(int xo, int ho) {
            for (int j = 0; j < hidden; j += VL) {
                VectorMask<Float> m = SPECIES.indexInRange(j, hidden);
                f.apply(clipped(preActivation(xo, ho, 0, j, m))).intoArray(h, ho + j, m);
            }
        }

        /** Gate order i, o, f, c; the recurrent product's row of batch entry n starts at n·G·H. */
        void lstmRow(int xo, int ho) {
            int ro = ho * layer.gates;
            float[] p = wts.peepholes();
            for (int j = 0; j < hidden; j += VL) {
                VectorMask<Float> m = SPECIES.indexInRange(j, hidden);
                FloatVector cPrev = FloatVector.fromArray(SPECIES, c, ho + j, m);
                FloatVector pi = FloatVector.fromArray(SPECIES, p, j, m);
                FloatVector i = f.apply(clipped(pi.fma(cPrev, preActivation(xo, ro, 0, j, m))));
                FloatVector fg;
                if (inputForget) {
                    fg = i.broadcast(1f).sub(i);
                } else {
                    FloatVector pf = FloatVector.fromArray(SPECIES, p, 2 * hidden + j, m);
                    fg = f.apply(clipped(pf.fma(cPrev, preActivation(xo, ro, 2, j, m))));
                }
                FloatVector cand = g.apply(clipped(preActivation(xo, ro, 3, j, m)));
                FloatVector cNew = fg.mul(cPrev).add(i.mul(cand));
                FloatVector po = FloatVector.fromArray(SPECIES, p, hidden + j, m);
                FloatVector o = f.apply(clipped(po.fma(cNew, preActivation(xo, ro, 1, j, m))));
                cNew.intoArray(c, ho + j, m);
                o.mul(h3.apply(cNew)).intoArray(h, ho + j, m);
            }
        }

        /** GRU gates z and r of batch entry n (gate order z, r, h); a reset-before-linear GRU also forms r ⊙ h. */
        void gruGates(int n, int t) {
            int xo = layer.inputRow(t, n) * gh, ro = n * 2 * hidden, ho = n * hidden;
            for (int j = 0; j < hidden; j += VL) {
                VectorMask<Float> m = SPECIES.indexInRange(j, hidden);
                f.apply(clipped(preActivation(xo, ro, 0, j, m))).intoArray(z, ho + j, m);
                FloatVector r = f.apply(clipped(preActivation(xo, ro, 1, j, m)));
                // linear before reset: keep r for the update; else the product needs r ⊙ h now
                FloatVector kept = lbr ? r : r.mul(FloatVector.fromArray(SPECIES, h, ho + j, m));
                kept.intoArray(scratch, ho + j, m);
            }
        }

        /** h = (1 − z) ⊙ ĥ + z ⊙ h, ĥ from the h gate's input projection and recurrent product. */
        void gruUpdate(int xo, int ho) {
            float[] hb = wts.hiddenBias();
            for (int j = 0; j < hidden; j += VL) {
                VectorMask<Float> m = SPECIES.indexInRange(j, hidden);
                FloatVector recurrent = FloatVector.fromArray(SPECIES, recH, ho + j, m);
                if (lbr) recurrent = recurrent.add(FloatVector.fromArray(SPECIES, hb, j, m)).mul(FloatVector.fromArray(SPECIES, scratch, ho + j, m));
                FloatVector cand = g.apply(clipped(FloatVector.fromArray(SPECIES, projected, xo + 2 * hidden + j, m).add(recurrent)));
                FloatVector zv = FloatVector.fromArray(SPECIES, z, ho + j, m);
                FloatVector hPrev = FloatVector.fromArray(SPECIES, h, ho + j, m);
                zv.mul(hPrev.sub(cand)).add(cand).intoArray(h, ho + j, m);
            }
        }
    }
}
