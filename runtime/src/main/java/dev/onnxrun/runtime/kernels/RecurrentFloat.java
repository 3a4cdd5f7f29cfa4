package dev.onnxrun.runtime.kernels;

import dev.onnxrun.runtime.DType;
import dev.onnxrun.runtime.ExecContext;
import dev.onnxrun.runtime.Parallel;
import dev.onnxrun.runtime.Tensor;
import dev.onnxrun.runtime.kernels.Recurrent.Activation;
import dev.onnxrun.runtime.kernels.Recurrent.Cell;
import dev.onnxrun.runtime.kernels.Recurrent.Config;
import dev.onnxrun.runtime.kernels.Recurrent.Direction;
import java.util.Map;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The float32 path of {@link Recurrent}. The input projection of all time steps is one packed
 * GEMM (X[T·B, I] · Wᵀ); each step then multiplies the hidden state by Rᵀ ({@link Gemv}: a GEMV
 * at batch 1, on Rᵀ aligned off the heap) and finishes the gates with vector arithmetic over the
 * hidden axis. Wᵀ and Rᵀ are packed once per set of weights ({@link Weights}), at compile time
 * when they are constants.
 *
 * <p>Each gate's block of columns is padded from H to a whole number of vectors (zero weights
 * and biases), and so are the state rows, so the gate arithmetic runs on whole vectors with no
 * tails; the products read only the first H values of each state row. The arithmetic is split
 * into short passes (sum, activation, cell update): one long loop body exceeds what C2 inlines,
 * and a vector operation left out of line is boxed and many times slower.
 */
public final class RecurrentFloat {
    private RecurrentFloat() {}

    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final int VL = SPECIES.length();

    /** How long a direction's first range waits for other threads to take the rest (a spinning worker takes a range within a microsecond or two). */
    private static final long JOIN_NANOS = 10_000;

    /** H rounded up to whole vectors: the width of each gate block and state row. */
    static int padded(int hidden) { return (hidden + VL - 1) / VL * VL; }

    /**
     * One direction's weights, gate blocks padded to {@link #padded} columns.
     *
     * @param inputT     Wᵀ [input, G·Hp]
     * @param recurrentT Rᵀ [H, G·Hp]; for GRU only the z and r gates' [H, 2Hp]
     * @param resetT     GRU: the h gate's R_hᵀ [H, Hp], which multiplies the reset state; else null
     * @param inputBias  Wb + Rb [G·Hp], less a linear-before-reset GRU's R_bh
     * @param hiddenBias a linear-before-reset GRU's R_bh [Hp] (zeros otherwise)
     * @param peepholes  LSTM's P [3Hp], or null when absent
     */
    record DirectionWeights(Gemm.PackedB inputT, Gemv.Packed recurrentT, Gemv.Packed resetT, float[] inputBias,
                            float[] hiddenBias, float[] peepholes) {}

    /**
     * W, R, B and P of a float32 layer, laid out for the products (see {@link Recurrent#prepare}).
     * The packed Wᵀ of all directions lie in one array, saved as the part "rnn"; the packed Rᵀ
     * (off the heap, see {@link Gemv}) are saved as the part "recurrent"; the biases and
     * peepholes are cheap to lay out again from B and P.
     */
    public static final class Weights implements PackedForm {
        private static final String INPUT_LAYOUT = "rnn v2 " + Gemm.PANEL_LAYOUT, RECURRENT_LAYOUT = "rnn-recurrent v1 " + Gemv.LAYOUT;
        private final DirectionWeights[] directions;
        private final float[] panels;

        private Weights(DirectionWeights[] directions, float[] panels) {
            this.directions = directions;
            this.panels = panels;
        }

        @Override
        public Map<String, PackedForm.Part> parts() {
            java.util.List<float[]> recurrent = new java.util.ArrayList<>();
            for (DirectionWeights d : directions) {
                recurrent.add(d.recurrentT().toArray());
                if (d.resetT() != null) recurrent.add(d.resetT().toArray());
            }
            float[] all = new float[recurrent.stream().mapToInt(a -> a.length).sum()];
            int at = 0;
            for (float[] a : recurrent) {
                System.arraycopy(a, 0, all, at, a.length);
                at += a.length;
            }
            return Map.of("rnn", new PackedForm.Part(INPUT_LAYOUT, panels), "recurrent", new PackedForm.Part(RECURRENT_LAYOUT, all));
        }

        static Weights of(Config cfg, Tensor w, Tensor r, Tensor b, Tensor peepholes, PackedForm.Stored stored) {
            int dirs = cfg.direction().count(), hidden = Math.toIntExact(r.dim(2)), input = Math.toIntExact(w.dim(2));
            int gates = cfg.cell().gates(), gh = gates * hidden, hp = padded(hidden);
            boolean gru = cfg.cell() == Cell.GRU, lbr = gru && cfg.linearBeforeReset();
            int recurrentGates = gru ? 2 : gates;
            // per direction: Wᵀ [input, G·Hp]; Rᵀ [H, (GRU: 2, else G)·Hp] and GRU's R_hᵀ [H, Hp]
            int inputSize = Gemm.rightSize(input, gates * hp), recurrentSize = hidden * recurrentGates * hp, resetSize = gru ? hidden * hp : 0;
            float[] savedInput = stored.take("rnn", INPUT_LAYOUT, (long) dirs * inputSize);
            float[] savedRecurrent = stored.take("recurrent", RECURRENT_LAYOUT, (long) dirs * (recurrentSize + resetSize));
            float[] panels = savedInput != null ? savedInput : new float[Math.multiplyExact(dirs, inputSize)];
            float[] ws = savedInput != null ? null : FloatArrays.read(w), rs = savedRecurrent != null ? null : FloatArrays.read(r);
            DirectionWeights[] out = new DirectionWeights[dirs];
            for (int d = 0; d < dirs; d++) {
                int wAt = d * gh * input, rAt = d * gh * hidden, inputAt = d * inputSize;
                int recurrentAt = d * (recurrentSize + resetSize), resetAt = recurrentAt + recurrentSize;
                Gemm.PackedB inputT = savedInput != null ? Gemm.PackedB.over(input, gates * hp, panels, inputAt)
                        : Gemm.pack(input, gates * hp, Gemm.Matrix.rowMajor(transposed(ws, wAt, 0, gates, hidden, input), 0, gates * hp),
                                panels, inputAt);
                Gemv.Packed recurrentT = savedRecurrent != null ? Gemv.of(hidden, recurrentGates * hp, savedRecurrent, recurrentAt)
                        : Gemv.pack(hidden, recurrentGates * hp, transposed(rs, rAt, 0, recurrentGates, hidden, hidden), 0);
                Gemv.Packed resetT = !gru ? null : savedRecurrent != null ? Gemv.of(hidden, hp, savedRecurrent, resetAt)
                        : Gemv.pack(hidden, hp, transposed(rs, rAt, 2, 1, hidden, hidden), 0);
                float[] inputBias = new float[gates * hp], hiddenBias = new float[hp];
                if (b != null) {
                    for (int j = 0; j < gh; j++) {
                        float wb = b.getFloat((long) d * 2 * gh + j), rb = b.getFloat((long) d * 2 * gh + gh + j);
                        int gate = j / hidden, at = gate * hp + j % hidden;
                        boolean keepApart = lbr && gate == 2;
                        inputBias[at] = keepApart ? wb : wb + rb;
                        if (keepApart) hiddenBias[j % hidden] = rb;
                    }
                }
                float[] p = null;
                if (peepholes != null) {
                    p = new float[3 * hp];
                    for (int j = 0; j < 3 * hidden; j++) p[j / hidden * hp + j % hidden] = peepholes.getFloat((long) d * 3 * hidden + j);
                }
                out[d] = new DirectionWeights(inputT, recurrentT, resetT, inputBias, hiddenBias, p);
            }
            return new Weights(out, panels);
        }

        /**
         * Gates [first, first + count) of the [G·H, cols] row-major matrix at {@code at},
         * transposed to [cols, count·Hp] row-major, each gate's block padded with zero columns.
         */
        private static float[] transposed(float[] src, int at, int first, int count, int hidden, int cols) {
            int hp = padded(hidden), width = count * hp;
            float[] t = new float[cols * width];
            for (int gate = 0; gate < count; gate++) {
                for (int j = 0; j < hidden; j++) {
                    int row = at + ((first + gate) * hidden + j) * cols;
                    for (int k = 0; k < cols; k++) t[k * width + gate * hp + j] = src[row + k];
                }
            }
            return t;
        }
    }

    static Recurrent.Result run(Recurrent.Layer layer, Weights weights, Tensor x, int[] lengths, Tensor initialH, Tensor initialC,
                                ExecContext ctx) {
        Config cfg = layer.cfg;
        Parallel parallel = ctx.parallel();
        FloatArrays.Slice xs = FloatArrays.slice(x);
        long[] yShape = cfg.batchFirst()
                ? new long[] {layer.batch, layer.seq, layer.dirs, layer.hidden}
                : new long[] {layer.seq, layer.dirs, layer.batch, layer.hidden};
        long[] stateShape = cfg.batchFirst()
                ? new long[] {layer.batch, layer.dirs, layer.hidden}
                : new long[] {layer.dirs, layer.batch, layer.hidden};
        Tensor yT = ctx.output(0, DType.FLOAT, yShape), yHT = ctx.output(1, DType.FLOAT, stateShape);
        Tensor yCT = cfg.cell() == Cell.LSTM ? ctx.output(2, DType.FLOAT, stateShape) : null;
        FloatArrays.Slice y = FloatArrays.slice(yT), yH = FloatArrays.slice(yHT), yC = yCT == null ? null : FloatArrays.slice(yCT);
        // the steps past a sequence's end are zeros in Y, and planned memory holds whatever was there
        for (int length : lengths) {
            if (length < layer.seq) {
                java.util.Arrays.fill(y.array(), y.offset(), y.offset() + Math.toIntExact(yT.size()), 0f);
                break;
            }
        }
        // every direction's projection, one after the other, held by this thread while the recurrences read them
        int perDirection = layer.seq * layer.batch * weights.directions[0].inputT().cols();
        float[] projected = Scratch.floats(Scratch.RECURRENT_INPUT, layer.dirs * perDirection);
        for (int d = 0; d < layer.dirs; d++) project(layer, weights.directions[d], xs, projected, d * perDirection, parallel);
        // Directions and batch entries recur independently: given the work, threads take whole
        // recurrences (a direction's batch entries split in ranges) rather than meet at every step.
        long work = (long) layer.dirs * layer.seq * layer.batch * layer.gates * layer.hidden * layer.hidden;
        boolean worthThreads = Work.pool(parallel, work) != Parallel.SERIAL;
        int ranges = worthThreads ? Math.min(layer.batch, Math.max(1, parallel.threads() / layer.dirs)) : 1;
        int tasks = layer.dirs * ranges;
        Parallel outer = worthThreads && tasks > 1 ? parallel : Parallel.SERIAL;
        Parallel inner = outer == Parallel.SERIAL ? parallel : Parallel.SERIAL;
        // A direction's first range waits a moment for threads to take its other ranges (from the
        // last down), then runs those still free along with its own, as one recurrence: on a
        // loaded machine a worker may start long after the ranges are published, and its ranges
        // run after the first one by the same thread cost more than one recurrence of all the
        // rows (the product takes eight rows at a time, half as fast per row four at a time).
        java.util.concurrent.atomic.AtomicInteger[] untaken = new java.util.concurrent.atomic.AtomicInteger[layer.dirs];
        for (int d = 0; d < layer.dirs; d++) untaken[d] = new java.util.concurrent.atomic.AtomicInteger(ranges);
        outer.forRange(tasks, (from, to) -> {
            for (int task = (int) from; task < to; task++) {
                int d = task / ranges, lo, hi;
                if (task % ranges == 0) {
                    for (long until = System.nanoTime() + JOIN_NANOS; untaken[d].get() > 1 && System.nanoTime() < until; ) Thread.onSpinWait();
                    lo = 0;
                    hi = untaken[d].getAndSet(0);
                } else {
                    // ranges [1, untaken) are free; take the last
                    lo = untaken[d].decrementAndGet();
                    hi = lo + 1;
                    if (lo < 1) continue;
                }
                int first = layer.batch * lo / ranges, end = layer.batch * hi / ranges;
                new Recurrence(layer, weights.directions[d], d, projected, d * perDirection, first, end, lengths, inner).run(initialH, initialC, y, yH, yC);
            }
        });
        return new Recurrent.Result(yT, yHT, yCT);
    }

    /**
     * X·Wᵀ of every step [seq·batch, G·Hp] into {@code out} from {@code at}, rows in X's order (see
     * {@link Recurrent.Layer#inputRow}). The bias is added where the gates read these sums: laid
     * into every row first, it cost a pass over all of them and made the product add to C
     * (lstm2 at batch 8: 2 to 4 %).
     */
    private static void project(Recurrent.Layer layer, DirectionWeights wts, FloatArrays.Slice xs, float[] out, int at, Parallel parallel) {
        int rows = layer.seq * layer.batch, width = wts.inputT().cols();
        Gemm.multiply(rows, 1f, Gemm.Matrix.rowMajor(xs.array(), xs.offset(), layer.input), wts.inputT(), out, at, width, false, parallel);
    }

    /**
     * The recurrence of one direction over batch entries [first, end): their state, buffers and
     * the gate arithmetic of each cell kind. Buffers hold the range's rows only (local row
     * {@code r} is batch entry {@code first + r}).
     */
    private static final class Recurrence {
        final Recurrent.Layer layer;
        final DirectionWeights wts;
        final int d, hidden, hp, first, rows, width;
        final boolean reverse, inputForget, lbr;
        final float clip;
        final Activation f, g, h3;
        final int[] lengths;
        final Parallel parallel;
        /** The input projection of this direction, from {@link #projectedAt}. */
        final float[] projected;
        final int projectedAt;
        /** State rows [rows, Hp]; the recurrent products [rows, recurrentT cols] and (GRU) [rows, Hp]; one row of gates. */
        final float[] h, c, rec, recH, z, scratch, gateRow;

        Recurrence(Recurrent.Layer layer, DirectionWeights wts, int d, float[] projected, int projectedAt, int first, int end, int[] lengths,
                   Parallel parallel) {
            this.layer = layer;
            this.wts = wts;
            this.d = d;
            this.projected = projected;
            this.projectedAt = projectedAt;
            this.first = first;
            this.lengths = lengths;
            this.parallel = parallel;
            Config cfg = layer.cfg;
            hidden = layer.hidden;
            hp = padded(hidden);
            rows = end - first;
            width = layer.gates * hp;
            reverse = cfg.direction() == Direction.REVERSE || d == 1;
            inputForget = cfg.inputForget();
            lbr = cfg.linearBeforeReset();
            clip = (float) cfg.clip();
            int per = cfg.cell().activationsPerDirection();
            Activation[] act = cfg.activations();
            f = act[d * per];
            g = per > 1 ? act[d * per + 1] : null;
            h3 = per > 2 ? act[d * per + 2] : null;
            h = new float[rows * hp];
            c = new float[rows * hp];
            rec = new float[rows * wts.recurrentT().n];
            boolean gru = cfg.cell() == Cell.GRU;
            recH = gru ? new float[rows * hp] : null;
            z = gru ? new float[rows * hp] : null;
            scratch = gru ? new float[rows * hp] : null;
            gateRow = new float[width];
        }

        void run(Tensor initialH, Tensor initialC, FloatArrays.Slice y, FloatArrays.Slice yH, FloatArrays.Slice yC) {
            loadState(initialH, h);
            loadState(initialC, c);
            Cell cell = layer.cfg.cell();
            int maxLen = 0;
            for (int r = 0; r < rows; r++) maxLen = Math.max(maxLen, lengths[first + r]);
            // the products read the first H values of each padded state row
            int recWidth = wts.recurrentT().n;
            for (int step = 0; step < maxLen; step++) {
                Gemv.multiply(rows, h, 0, hp, wts.recurrentT(), rec, 0, recWidth, parallel);
                if (cell == Cell.GRU) {
                    if (lbr) Gemv.multiply(rows, h, 0, hp, wts.resetT(), recH, 0, hp, parallel);
                    for (int r = 0; r < rows; r++) if (step < lengths[first + r]) gruGates(r, time(step, r));
                    if (!lbr) Gemv.multiply(rows, scratch, 0, hp, wts.resetT(), recH, 0, hp, parallel);
                }
                for (int r = 0; r < rows; r++) {
                    if (step >= lengths[first + r]) continue;
                    int t = time(step, r), xo = projectedAt + layer.inputRow(t, first + r) * width, ho = r * hp;
                    switch (cell) {
                        case RNN -> {
                            sum(projected, xo, rec, ho, wts.inputBias(), h, ho, hp);
                            activate(f, clip, h, ho, ho + hp);
                        }
                        case LSTM -> lstmRow(xo, r);
                        case GRU -> gruUpdate(xo, ho);
                    }
                    System.arraycopy(h, ho, y.array(), y.offset() + Math.toIntExact(layer.outputIndex(t, d, first + r, 0)), hidden);
                }
            }
            for (int r = 0; r < rows; r++) {
                int at = Math.toIntExact(layer.stateIndex(d, first + r, 0));
                System.arraycopy(h, r * hp, yH.array(), yH.offset() + at, hidden);
                if (yC != null) System.arraycopy(c, r * hp, yC.array(), yC.offset() + at, hidden);
            }
        }

        /** The time index local row r reads at this step (a reverse pass starts at its own last step). */
        int time(int step, int r) { return reverse ? lengths[first + r] - 1 - step : step; }

        void loadState(Tensor initial, float[] state) {
            if (initial == null) return;
            for (int r = 0; r < rows; r++) {
                for (int j = 0; j < hidden; j++) state[r * hp + j] = initial.getFloat(layer.stateIndex(d, first + r, j));
            }
        }

        /** Gate blocks i, o, f, c (each Hp wide) of local row r; the recurrent product's row is [G·Hp] too. */
        void lstmRow(int xo, int r) {
            int ho = r * hp, i = 0, o = hp, fg = 2 * hp, cg = 3 * hp;
            float[] gt = gateRow, p = wts.peepholes();
            sum(projected, xo, rec, r * width, wts.inputBias(), gt, 0, width);
            if (p != null) {
                // i and f see the previous cell state; o sees the new one, below
                fma(p, i, c, ho, gt, i, hp);
                if (!inputForget) fma(p, fg, c, ho, gt, fg, hp);
                activate(f, clip, gt, i, i + hp);
                if (!inputForget) activate(f, clip, gt, fg, fg + hp);
            } else {
                activate(f, clip, gt, 0, inputForget ? fg : cg);
            }
            activate(g, clip, gt, cg, cg + hp);
            for (int j = 0; j < hp; j += VL) {
                FloatVector iv = FloatVector.fromArray(SPECIES, gt, i + j);
                FloatVector fv = inputForget ? iv.broadcast(1f).sub(iv) : FloatVector.fromArray(SPECIES, gt, fg + j);
                FloatVector cNew = fv.mul(FloatVector.fromArray(SPECIES, c, ho + j)).add(iv.mul(FloatVector.fromArray(SPECIES, gt, cg + j)));
                cNew.intoArray(c, ho + j);
                cNew.intoArray(gt, i + j); // i is spent: its block takes h3(c)
            }
            if (p != null) {
                fma(p, o, c, ho, gt, o, hp);
                activate(f, clip, gt, o, o + hp);
            }
            activate(h3, Float.POSITIVE_INFINITY, gt, i, i + hp);
            for (int j = 0; j < hp; j += VL) {
                FloatVector.fromArray(SPECIES, gt, o + j).mul(FloatVector.fromArray(SPECIES, gt, i + j)).intoArray(h, ho + j);
            }
        }

        /** GRU gates z and r of local row lr (blocks z, r, h); keeps z, and r (linear before reset) or r ⊙ h for the h gate. */
        void gruGates(int lr, int t) {
            int xo = projectedAt + layer.inputRow(t, first + lr) * width, ho = lr * hp;
            float[] gt = gateRow;
            sum(projected, xo, rec, lr * 2 * hp, wts.inputBias(), gt, 0, 2 * hp);
            activate(f, clip, gt, 0, 2 * hp);
            System.arraycopy(gt, 0, z, ho, hp);
            for (int j = 0; j < hp; j += VL) {
                FloatVector r = FloatVector.fromArray(SPECIES, gt, hp + j);
                (lbr ? r : r.mul(FloatVector.fromArray(SPECIES, h, ho + j))).intoArray(scratch, ho + j);
            }
        }

        /** h = (1 − z) ⊙ ĥ + z ⊙ h, ĥ from the h gate's input projection and recurrent product. */
        void gruUpdate(int xo, int ho) {
            float[] gt = gateRow, hb = wts.hiddenBias(), ib = wts.inputBias();
            for (int j = 0; j < hp; j += VL) {
                FloatVector recurrent = FloatVector.fromArray(SPECIES, recH, ho + j);
                if (lbr) recurrent = recurrent.add(FloatVector.fromArray(SPECIES, hb, j)).mul(FloatVector.fromArray(SPECIES, scratch, ho + j));
                FloatVector.fromArray(SPECIES, projected, xo + 2 * hp + j).add(FloatVector.fromArray(SPECIES, ib, 2 * hp + j)).add(recurrent).intoArray(gt, j);
            }
            activate(g, clip, gt, 0, hp);
            for (int j = 0; j < hp; j += VL) {
                FloatVector cand = FloatVector.fromArray(SPECIES, gt, j);
                FloatVector hPrev = FloatVector.fromArray(SPECIES, h, ho + j);
                FloatVector.fromArray(SPECIES, z, ho + j).mul(hPrev.sub(cand)).add(cand).intoArray(h, ho + j);
            }
        }
    }

    /** out[o..o+len) = a[ao..) + b[bo..) + bias[0..len); len a multiple of VL. */
    private static void sum(float[] a, int ao, float[] b, int bo, float[] bias, float[] out, int o, int len) {
        for (int j = 0; j < len; j += VL) {
            FloatVector.fromArray(SPECIES, a, ao + j).add(FloatVector.fromArray(SPECIES, b, bo + j)).add(FloatVector.fromArray(SPECIES, bias, j))
                    .intoArray(out, o + j);
        }
    }

    /** out[o..o+len) += a[ao..) ⊙ b[bo..); len a multiple of VL. */
    private static void fma(float[] a, int ao, float[] b, int bo, float[] out, int o, int len) {
        for (int j = 0; j < len; j += VL) {
            FloatVector.fromArray(SPECIES, a, ao + j).fma(FloatVector.fromArray(SPECIES, b, bo + j), FloatVector.fromArray(SPECIES, out, o + j))
                    .intoArray(out, o + j);
        }
    }

    /** The activations of a fused layer that are also the recurrent layers' defaults: their loops are compiled apart from the gate passes. */
    private static final dev.onnxrun.runtime.kernels.Activation SIGMOID = new dev.onnxrun.runtime.kernels.Activation(
            dev.onnxrun.runtime.kernels.Activation.Kind.SIGMOID, 0, 0),
            TANH = new dev.onnxrun.runtime.kernels.Activation(dev.onnxrun.runtime.kernels.Activation.Kind.TANH, 0, 0);

    /**
     * v[from..to) = act(clip(v)) in place, {@code to - from} a multiple of VL. Sigmoid and tanh
     * (the defaults) run the loops of {@link dev.onnxrun.runtime.kernels.Activation}, each a
     * method of its own: in one method with the others, their vector code outgrew what C2 inlines.
     */
    private static void activate(Activation act, float clip, float[] v, int from, int to) {
        // without a clip, sigmoid and tanh bound their inputs themselves
        boolean clipped = clip < Float.POSITIVE_INFINITY;
        switch (act.kind()) {
            case SIGMOID, TANH -> {
                if (clipped) {
                    for (int j = from; j < to; j += VL) FloatVector.fromArray(SPECIES, v, j).max(-clip).min(clip).intoArray(v, j);
                }
                (act.kind() == Recurrent.ActivationKind.SIGMOID ? SIGMOID : TANH).apply(v, from, to);
            }
            default -> {
                for (int j = from; j < to; j += VL) act.apply(FloatVector.fromArray(SPECIES, v, j).max(-clip).min(clip)).intoArray(v, j);
            }
        }
    }
}
