package dev.onnxrun.runtime.kernels;

import dev.onnxrun.runtime.DType;
import dev.onnxrun.runtime.ExecContext;
import dev.onnxrun.runtime.Parallel;
import dev.onnxrun.runtime.Tensor;
import dev.onnxrun.runtime.kernels.Recurrent.Activation;
import dev.onnxrun.runtime.kernels.Recurrent.Cell;
import java.util.Arrays;

/**
 * Backpropagation through time for the ONNX recurrent layers of {@link Recurrent}. The forward
 * pass runs again, recording each step's input states and gate pre-activations; the steps are
 * then walked in reverse order of processing, each turning the gradient of its output state
 * into gradients of its gates and of the state it read. What W and R multiply is known for every
 * step by then, so dX, dW, dR and dB are one matrix product each after the walk.
 *
 * <p>Every attribute of the forward op is honoured: direction, activations with alpha and beta
 * (through their derivatives), clip (zero slope where a pre-activation was clipped),
 * input_forget, linear_before_reset, layout, sequence_lens (steps past a row's length neither
 * write Y nor receive gradient). Elements are computed in double, as the forward does.
 */
public final class RecurrentGradients {
    private RecurrentGradients() {}

    /**
     * Gradients of the differentiable inputs, each shaped like its input (dB, the states and dP
     * also when that input was omitted); dInitialC and dP are null except for LSTM.
     */
    public record Result(Tensor dX, Tensor dW, Tensor dR, Tensor dB, Tensor dInitialH, Tensor dInitialC, Tensor dP) {}

    /**
     * The gradients given those of the outputs: dY like Y, dYh and dYc like the final states;
     * any of them may be null (no gradient flows into that output). The other arguments are the
     * forward op's, as {@link Recurrent#run} takes them.
     */
    public static Result backward(Recurrent.Config cfg, Tensor x, Tensor w, Tensor r, Tensor b, Tensor seqLens, Tensor initialH,
                                  Tensor initialC, Tensor peepholes, Tensor dY, Tensor dYh, Tensor dYc, Parallel parallel) {
        Recurrent.Tape tape = new Recurrent.Tape();
        Recurrent.run(cfg, x, w, r, b, seqLens, initialH, initialC, peepholes, null, ExecContext.on(parallel), tape);
        Recurrent.Layer layer = tape.layer;
        Recurrent.check(dY, "gradient of Y", layer.outputShape());
        layer.checkState(dYh, "gradient of Y_h");
        layer.checkState(dYc, "gradient of Y_c");
        boolean lstm = cfg.cell() == Cell.LSTM;
        int gh = layer.gates * layer.hidden;
        DType dtype = x.dtype();
        Walk walk = new Walk(layer, tape, layer.inputRows(x), parallel);
        Tensor dW = Tensor.allocate(dtype, w.shape()), dR = Tensor.allocate(dtype, r.shape());
        Tensor dB = Tensor.allocate(dtype, layer.dirs, 2L * gh);
        Tensor dInitialH = Tensor.allocate(dtype, layer.stateShape());
        Tensor dInitialC = lstm ? Tensor.allocate(dtype, layer.stateShape()) : null;
        Tensor dP = lstm ? Tensor.allocate(dtype, layer.dirs, 3L * layer.hidden) : null;
        double[] dxRows = new double[layer.seq * layer.batch * layer.input];
        for (int d = 0; d < layer.dirs; d++) {
            walk.direction(d, peepholes, dY, dYh, dYc);
            walk.weightGradients(d, dxRows, dW, dR, dB);
            for (int n = 0; n < layer.batch; n++) {
                for (int j = 0; j < layer.hidden; j++) {
                    long at = layer.stateIndex(d, n, j);
                    dInitialH.setDouble(at, walk.dh[n * layer.hidden + j]);
                    if (lstm) dInitialC.setDouble(at, walk.dc[n * layer.hidden + j]);
                }
            }
            if (lstm) {
                for (int j = 0; j < 3 * layer.hidden; j++) {
                    double sum = 0;
                    for (int n = 0; n < layer.batch; n++) sum += walk.dp[n * 3 * layer.hidden + j];
                    dP.setDouble((long) d * 3 * layer.hidden + j, sum);
                }
            }
        }
        Tensor dX = Tensor.allocate(dtype, x.shape());
        for (int t = 0; t < layer.seq; t++) {
            for (int n = 0; n < layer.batch; n++) {
                long at = layer.inputIndex(t, n);
                int from = (t * layer.batch + n) * layer.input;
                for (int k = 0; k < layer.input; k++) dX.setDouble(at + k, dxRows[from + k]);
            }
        }
        return new Result(dX, dW, dR, dB, dInitialH, dInitialC, dP);
    }

    /** The backward walk of one direction at a time, and what it leaves for the weight gradients. */
    private static final class Walk {
        final Recurrent.Layer layer;
        final Recurrent.Tape tape;
        /** X as time-major rows. */
        final double[] xs;
        final Parallel parallel;
        final Cell cell;
        final int hidden, gh, rows;
        /** GRU with the reset gate applied before R_h: R_h multiplies r ⊙ H rather than H. */
        final boolean resetBefore;
        /** Rows of R whose product with the state is H·Rᵀ itself (all but a reset-before GRU's h gate). */
        final int directRows;
        // per direction: gradients of the gates' input projections (X·Wᵀ + biases) and of what R multiplies, per row t·batch + n
        final double[] dxw, dhr;
        /** A reset-before GRU's r ⊙ H per row, which R_h multiplied. */
        final double[] resetH;
        /** Gradients of the state (and LSTM cell) each batch row's current step wrote; at the end, of the initial states. */
        final double[] dh, dc;
        /** LSTM: the peepholes' gradients per batch row, [batch, 3H], summed at the end. */
        final double[] dp;
        double[] rSlice;

        Walk(Recurrent.Layer layer, Recurrent.Tape tape, double[] xs, Parallel parallel) {
            this.layer = layer;
            this.tape = tape;
            this.xs = xs;
            this.parallel = parallel;
            this.cell = layer.cfg.cell();
            this.hidden = layer.hidden;
            this.gh = layer.gates * hidden;
            this.rows = layer.seq * layer.batch;
            this.resetBefore = cell == Cell.GRU && !layer.cfg.linearBeforeReset();
            this.directRows = resetBefore ? 2 * hidden : gh;
            dxw = new double[rows * gh];
            dhr = new double[rows * gh];
            resetH = resetBefore ? new double[rows * hidden] : null;
            dh = new double[layer.batch * hidden];
            dc = new double[layer.batch * hidden];
            dp = new double[layer.batch * 3 * hidden];
        }

        /** The slope of {@code f} at a pre-activation, zero where the forward clipped it. */
        double slope(Activation f, double pre) { return Math.abs(pre) > layer.cfg.clip() ? 0 : f.derivative(pre); }

        void direction(int d, Tensor peepholes, Tensor dY, Tensor dYh, Tensor dYc) {
            Arrays.fill(dxw, 0);
            Arrays.fill(dhr, 0);
            Arrays.fill(dp, 0);
            for (int n = 0; n < layer.batch; n++) {
                for (int j = 0; j < hidden; j++) {
                    dh[n * hidden + j] = dYh != null ? dYh.getDouble(layer.stateIndex(d, n, j)) : 0;
                    dc[n * hidden + j] = dYc != null ? dYc.getDouble(layer.stateIndex(d, n, j)) : 0;
                }
            }
            rSlice = Recurrent.Layer.slice(layer.r, d);
            double[] rH = resetBefore ? Arrays.copyOfRange(rSlice, 2 * hidden * hidden, 3 * hidden * hidden) : null;
            double[] p = new double[3 * hidden];
            if (peepholes != null) for (int j = 0; j < p.length; j++) p[j] = peepholes.getDouble((long) d * 3 * hidden + j);
            Activation[] act = layer.activations(d);
            int maxLen = Arrays.stream(tape.lengths).max().orElse(0);
            for (int step = maxLen - 1; step >= 0; step--) {
                int current = step;
                // batch rows are independent: each touches only its own rows of every array
                parallel.forRange(layer.batch, (from, to) -> {
                    double[] dReset = resetBefore ? new double[hidden] : null;
                    for (int n = (int) from; n < to; n++) row(d, current, n, act, p, rH, dReset, dY);
                });
            }
        }

        /** Backpropagates one batch row through the step it took at {@code step} of direction d, if any. */
        void row(int d, int step, int n, Activation[] act, double[] p, double[] rH, double[] dReset, Tensor dY) {
            int len = tape.lengths[n];
            if (step >= len) return;
            int t = layer.time(d, step, len);
            int row = t * layer.batch + n, go = row * gh, so = row * hidden, ho = n * hidden;
            if (dY != null) for (int j = 0; j < hidden; j++) dh[ho + j] += dY.getDouble(layer.outputIndex(t, d, n, j));
            switch (cell) {
                case RNN -> {
                    for (int j = 0; j < hidden; j++) {
                        dxw[go + j] = dhr[go + j] = dh[ho + j] * slope(act[0], tape.pre[d][go + j]);
                        dh[ho + j] = 0;
                    }
                }
                case LSTM -> lstmStep(d, act, p, go, so, ho);
                case GRU -> gruStep(d, act, rH, dReset, go, so, ho);
            }
            // the state read reaches every gate through R
            Recurrent.Products.rowTimesColumns(dhr, go, directRows, rSlice, hidden, 0, hidden, dh, ho);
        }

        /** One LSTM step backwards (gates i, o, f, c): dh, dc become the gradients of the states it read. */
        void lstmStep(int d, Activation[] act, double[] p, int go, int so, int ho) {
            double[] pre = tape.pre[d];
            int po = ho * 3; // this batch row's peephole gradients
            boolean coupled = layer.cfg.inputForget();
            for (int j = 0; j < hidden; j++) {
                double cPrev = tape.cPrev[d][so + j];
                double preI = pre[go + j], preO = pre[go + hidden + j], preF = pre[go + 2 * hidden + j], preG = pre[go + 3 * hidden + j];
                double i = act[0].apply(layer.clip(preI));
                double f = coupled ? 1 - i : act[0].apply(layer.clip(preF));
                double g = act[1].apply(layer.clip(preG));
                double c = f * cPrev + i * g;
                double o = act[0].apply(layer.clip(preO));
                double dhj = dh[ho + j];
                double dPreO = dhj * act[2].apply(c) * slope(act[0], preO);
                double dcj = dc[ho + j] + dhj * o * act[2].derivative(c) + dPreO * p[hidden + j];
                double di = dcj * g, df = dcj * cPrev;
                if (coupled) di -= df;
                double dPreI = di * slope(act[0], preI);
                double dPreF = coupled ? 0 : df * slope(act[0], preF);
                double dPreG = dcj * i * slope(act[1], preG);
                dc[ho + j] = dcj * f + dPreI * p[j] + dPreF * p[2 * hidden + j];
                dp[po + j] += dPreI * cPrev;
                dp[po + hidden + j] += dPreO * c;
                dp[po + 2 * hidden + j] += dPreF * cPrev;
                dxw[go + j] = dhr[go + j] = dPreI;
                dxw[go + hidden + j] = dhr[go + hidden + j] = dPreO;
                dxw[go + 2 * hidden + j] = dhr[go + 2 * hidden + j] = dPreF;
                dxw[go + 3 * hidden + j] = dhr[go + 3 * hidden + j] = dPreG;
                dh[ho + j] = 0;
            }
        }

        /**
         * One GRU step backwards (gates z, r, h): dh becomes the gradient of the state read, less
         * its path through R's z and r rows (and, after the reset, the h rows), added by the caller.
         */
        void gruStep(int d, Activation[] act, double[] rH, double[] dReset, int go, int so, int ho) {
            double[] pre = tape.pre[d];
            for (int j = 0; j < hidden; j++) {
                double preZ = pre[go + j], preH = pre[go + 2 * hidden + j];
                double z = act[0].apply(layer.clip(preZ)), hh = act[1].apply(layer.clip(preH));
                double hPrev = tape.hPrev[d][so + j], dhj = dh[ho + j];
                double dPreH = dhj * (1 - z) * slope(act[1], preH);
                dxw[go + j] = dhr[go + j] = dhj * (hPrev - hh) * slope(act[0], preZ);
                dxw[go + 2 * hidden + j] = dPreH;
                if (resetBefore) {
                    dhr[go + 2 * hidden + j] = dPreH;
                } else { // reset after: the h gate's pre-activation has r·(H·R_hᵀ + R_bh)
                    double preR = pre[go + hidden + j], rg = act[0].apply(layer.clip(preR));
                    dxw[go + hidden + j] = dhr[go + hidden + j] = dPreH * tape.linear[d][so + j] * slope(act[0], preR);
                    dhr[go + 2 * hidden + j] = dPreH * rg;
                }
                dh[ho + j] = dhj * z;
            }
            if (!resetBefore) return;
            // (r ⊙ H)·R_hᵀ: its gradient splits between r and H
            Arrays.fill(dReset, 0);
            Recurrent.Products.rowTimesColumns(dxw, go + 2 * hidden, hidden, rH, hidden, 0, hidden, dReset, 0);
            for (int k = 0; k < hidden; k++) {
                double preR = pre[go + hidden + k], rg = act[0].apply(layer.clip(preR)), hPrev = tape.hPrev[d][so + k];
                dxw[go + hidden + k] = dhr[go + hidden + k] = dReset[k] * hPrev * slope(act[0], preR);
                dh[ho + k] += dReset[k] * rg;
                resetH[so + k] = rg * hPrev;
            }
        }

        /** Adds direction d's share to dX (rows, time-major) and writes its slices of dW, dR and dB. */
        void weightGradients(int d, double[] dxRows, Tensor dW, Tensor dR, Tensor dB) {
            int input = layer.input;
            double[] wSlice = Recurrent.Layer.slice(layer.w, d);
            double[] dx = new double[rows * input];
            Recurrent.Products.rowsTimesMatrix(dxw, rows, gh, wSlice, input, new double[input], dx, parallel);
            for (int i = 0; i < dx.length; i++) dxRows[i] += dx[i];
            double[] dw = new double[gh * input], dr = new double[gh * hidden];
            transposedTimes(dxw, gh, 0, gh, xs, input, dw, 0, parallel);
            transposedTimes(dhr, gh, 0, directRows, tape.hPrev[d], hidden, dr, 0, parallel);
            if (resetBefore) transposedTimes(dhr, gh, 2 * hidden, hidden, resetH, hidden, dr, 2 * hidden * hidden, parallel);
            for (int i = 0; i < dw.length; i++) dW.setDouble((long) d * dw.length + i, dw[i]);
            for (int i = 0; i < dr.length; i++) dR.setDouble((long) d * dr.length + i, dr[i]);
            // Wb and Rb enter as the input projection's bias, except R_bh of a reset-after GRU, which the reset gate scales
            boolean resetAfter = cell == Cell.GRU && !resetBefore;
            for (int g = 0; g < gh; g++) {
                double wb = 0, rb = 0;
                for (int i = 0; i < rows; i++) {
                    wb += dxw[i * gh + g];
                    rb += resetAfter && g >= 2 * hidden ? dhr[i * gh + g] : dxw[i * gh + g];
                }
                dB.setDouble((long) d * 2 * gh + g, wb);
                dB.setDouble((long) d * 2 * gh + gh + g, rb);
            }
        }
    }

    /**
     * out[outOff + c·q + k] = Σ_i a[i·stride + from + c]·b[i·q + k] for c in [0, cols): the
     * product aᵀ·b of columns [from, from + cols) of a [rows × stride] with b [rows × q], over
     * all rows; output rows split across the pool.
     */
    static void transposedTimes(double[] a, int stride, int from, int cols, double[] b, int q, double[] out, int outOff, Parallel parallel) {
        int m = b.length / q;
        parallel.forRange(cols, (lo, hi) -> {
            for (int i = 0; i < m; i++) {
                for (int c = (int) lo; c < hi; c++) {
                    double av = a[i * stride + from + c];
                    if (av == 0) continue;
                    int o = outOff + c * q, bo = i * q;
                    for (int k = 0; k < q; k++) out[o + k] += av * b[bo + k];
                }
            }
        });
    }
}
