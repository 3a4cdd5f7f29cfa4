package dev.onnxrun.runtime.kernels;

import dev.onnxrun.runtime.DType;
import dev.onnxrun.runtime.ExecContext;
import dev.onnxrun.runtime.OnnxrunException;
import dev.onnxrun.runtime.Parallel;
import dev.onnxrun.runtime.Shapes;
import dev.onnxrun.runtime.Tensor;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Normalizations: batch (inference and training), layer, instance, group, and local response
 * normalization. Statistics are accumulated in double whatever the element type.
 */
public final class Normalization {
    private Normalization() {}

    /** Element count of the axes after the first two (1 for rank 2). */
    private static long spatialSize(Tensor x) {
        long s = 1;
        for (int d = 2; d < x.rank(); d++) s *= x.dim(d);
        return s;
    }

    /**
     * BatchNormalization with running statistics: {@code (x - mean) / sqrt(var + eps) · scale + bias}
     * over channel axis 1. The parameters are per channel ([C]) or, for the old spatial=0 form,
     * per element of [C, spatial...].
     */
    public static Tensor batchNorm(Tensor x, Tensor scale, Tensor bias, Tensor mean, Tensor var, double epsilon, ExecContext ctx) {
        if (x.rank() < 2) throw OnnxrunException.invalidInput("BatchNormalization needs X of rank >= 2, got " + x.describe());
        long channels = x.dim(1), spatial = spatialSize(x), batch = x.dim(0);
        long paramSize = scale.size();
        boolean perElement = paramSize == channels * spatial && paramSize != channels;
        for (Tensor t : new Tensor[] {scale, bias, mean, var}) {
            if (t.size() != paramSize || paramSize != channels && !perElement) {
                throw OnnxrunException.invalidInput("BatchNormalization parameter " + t.describe() + " does not fit X " + x.describe());
            }
        }
        double[] mul = new double[(int) paramSize], add = new double[(int) paramSize];
        for (int i = 0; i < paramSize; i++) {
            mul[i] = scale.getDouble(i) / Math.sqrt(var.getDouble(i) + epsilon);
            add[i] = bias.getDouble(i) - mean.getDouble(i) * mul[i];
        }
        if (x.dtype() == DType.FLOAT && !perElement) {
            FloatArrays.Slice xs = FloatArrays.slice(x);
            Tensor y = ctx.output(0, DType.FLOAT, x.shape());
            FloatArrays.Slice ys = FloatArrays.slice(y);
            Work.pool(ctx.parallel(), x.size()).forRange(batch * channels, (from, to) -> {
                for (long bc = from; bc < to; bc++) {
                    int at = (int) (bc * spatial), c = (int) (bc % channels);
                    scaleShift(xs.array(), xs.offset() + at, ys.array(), ys.offset() + at, (int) spatial, (float) mul[c], (float) add[c]);
                }
            });
            return y;
        }
        double[] xs = FloatArrays.doubles(x), ys = new double[xs.length];
        for (long b = 0; b < batch; b++) {
            for (long c = 0; c < channels; c++) {
                int at = (int) ((b * channels + c) * spatial);
                for (int s = 0; s < spatial; s++) {
                    int p = (int) (perElement ? c * spatial + s : c);
                    ys[at + s] = xs[at + s] * mul[p] + add[p];
                }
            }
        }
        return FloatArrays.fromDoubles(x.dtype(), ys, x.shape());
    }

    /**
     * BatchNormalization in training mode: normalizes with the batch's own per-channel mean and
     * (population) variance, and returns Y, the updated running mean and the updated running variance
     * ({@code running · momentum + batch · (1 - momentum)}).
     */
    public static Tensor[] batchNormTraining(Tensor x, Tensor scale, Tensor bias, Tensor runMean, Tensor runVar,
                                             double epsilon, double momentum, ExecContext ctx) {
        if (x.rank() < 2) throw OnnxrunException.invalidInput("BatchNormalization needs X of rank >= 2, got " + x.describe());
        long channels = x.dim(1), spatial = spatialSize(x), batch = x.dim(0);
        for (Tensor t : new Tensor[] {scale, bias, runMean, runVar}) {
            if (t.size() != channels) {
                throw OnnxrunException.invalidInput("BatchNormalization parameter " + t.describe() + " must hold one value per channel of X " + x.describe());
            }
        }
        double[][] moments = channelMoments(x, ctx.parallel());
        double[] mean = moments[0], var = moments[1];
        Tensor y = batchNorm(x, scale, bias, Tensor.of(mean, channels), Tensor.of(var, channels), epsilon, ctx);
        double[] newMean = new double[(int) channels], newVar = new double[(int) channels];
        for (int c = 0; c < channels; c++) {
            newMean[c] = runMean.getDouble(c) * momentum + mean[c] * (1 - momentum);
            newVar[c] = runVar.getDouble(c) * momentum + var[c] * (1 - momentum);
        }
        return new Tensor[] {y, FloatArrays.fromDoubles(runMean.dtype(), newMean, channels),
                FloatArrays.fromDoubles(runVar.dtype(), newVar, channels)};
    }

    /**
     * Per-channel mean and biased variance of x [N, C, spatial...] over batch and space, as
     * {mean, var} in double: the mean first, then the squared deviations from it. Float32 sums
     * each plane in vector lanes and the planes in double; channels are spread over the pool.
     */
    static double[][] channelMoments(Tensor x, Parallel parallel) {
        int batch = Math.toIntExact(x.dim(0)), channels = Math.toIntExact(x.dim(1)), spatial = Math.toIntExact(spatialSize(x));
        double count = (double) batch * spatial;
        double[] mean = new double[channels], var = new double[channels];
        FloatArrays.Slice xf = x.dtype() == DType.FLOAT ? FloatArrays.slice(x) : null;
        double[] xd = xf == null ? FloatArrays.doubles(x) : null;
        Work.pool(parallel, x.size()).forRange(channels, (from, to) -> {
            for (int c = (int) from; c < to; c++) {
                double sum = 0;
                for (int b = 0; b < batch; b++) {
                    int at = (b * channels + c) * spatial;
                    if (xf != null) sum += sum(xf.array(), xf.offset() + at, spatial);
                    else for (int s = at; s < at + spatial; s++) sum += xd[s];
                }
                double m = sum / count, sq = 0;
                for (int b = 0; b < batch; b++) {
                    int at = (b * channels + c) * spatial;
                    if (xf != null) sq += squaredDeviations(xf.array(), xf.offset() + at, spatial, (float) m);
                    else for (int s = at; s < at + spatial; s++) sq += (xd[s] - m) * (xd[s] - m);
                }
                mean[c] = m;
                var[c] = sq / count;
            }
        });
        return new double[][] {mean, var};
    }

    /** Σ a[at + i] for i in [0, n), in vector lanes. */
    private static float sum(float[] a, int at, int n) {
        FloatVector acc = FloatVector.zero(SPECIES);
        int i = 0;
        for (int bound = SPECIES.loopBound(n); i < bound; i += SPECIES.length()) acc = acc.add(FloatVector.fromArray(SPECIES, a, at + i));
        float s = FloatFastPaths.sumLanes(acc);
        for (; i < n; i++) s += a[at + i];
        return s;
    }

    /** Σ (a[at + i] − m)² for i in [0, n), in vector lanes. */
    private static float squaredDeviations(float[] a, int at, int n, float m) {
        FloatVector acc = FloatVector.zero(SPECIES), vm = FloatVector.broadcast(SPECIES, m);
        int i = 0;
        for (int bound = SPECIES.loopBound(n); i < bound; i += SPECIES.length()) {
            FloatVector d = FloatVector.fromArray(SPECIES, a, at + i).sub(vm);
            acc = d.fma(d, acc);
        }
        float s = FloatFastPaths.sumLanes(acc);
        for (; i < n; i++) s += (a[at + i] - m) * (a[at + i] - m);
        return s;
    }

    /**
     * The gradients of training-mode BatchNormalization, whose mean μ and variance σ² are x's own
     * per-channel statistics: with x̂ = (x − μ)/σ over the n elements of a channel,
     * {@code dβ = Σ dy}, {@code dγ = Σ dy·x̂} and {@code dx = γ/σ · (dy − dβ/n − x̂·dγ/n)}.
     * Returns {dX, dScale, dBias}; dX goes to {@code ctx}'s output 0. Float32 runs in vector
     * lanes with per-channel sums in double; other types in double.
     */
    public static Tensor[] batchNormTrainingGrad(Tensor dy, Tensor x, Tensor scale, double epsilon, ExecContext ctx) {
        if (x.rank() < 2 || !Arrays.equals(dy.shape(), x.shape()) || dy.dtype() != x.dtype()) {
            throw OnnxrunException.invalidInput("BatchNormalization gradient needs dY and X of one shape and rank >= 2, got dY "
                    + dy.describe() + " and X " + x.describe());
        }
        int batch = Math.toIntExact(x.dim(0)), channels = Math.toIntExact(x.dim(1)), spatial = Math.toIntExact(spatialSize(x));
        if (scale.size() != channels) {
            throw OnnxrunException.invalidInput("BatchNormalization scale " + scale.describe() + " must hold one value per channel of X "
                    + x.describe());
        }
        double[][] moments = channelMoments(x, ctx.parallel());
        double n = (double) batch * spatial;
        double[] dScale = new double[channels], dBias = new double[channels];
        Tensor dx = ctx.output(0, x.dtype(), x.shape());
        boolean fast = x.dtype() == DType.FLOAT;
        FloatArrays.Slice xf = fast ? FloatArrays.slice(x) : null, dyf = fast ? FloatArrays.slice(dy) : null;
        FloatArrays.Slice dxf = fast ? FloatArrays.slice(dx) : null;
        double[] xd = fast ? null : FloatArrays.doubles(x), dyd = fast ? null : FloatArrays.doubles(dy);
        double[] dxd = fast ? null : new double[xd.length];
        Work.pool(ctx.parallel(), 3 * x.size()).forRange(channels, (from, to) -> {
            double[] sums = new double[2];
            for (int c = (int) from; c < to; c++) {
                double m = moments[0][c], inv = 1 / Math.sqrt(moments[1][c] + epsilon);
                double sumDy = 0, sumDyCentered = 0;
                for (int b = 0; b < batch; b++) {
                    int at = (b * channels + c) * spatial;
                    if (fast) {
                        gradientSums(dyf.array(), dyf.offset() + at, xf.array(), xf.offset() + at, spatial, (float) m, sums);
                        sumDy += sums[0];
                        sumDyCentered += sums[1];
                    } else {
                        for (int s = at; s < at + spatial; s++) {
                            sumDy += dyd[s];
                            sumDyCentered += dyd[s] * (xd[s] - m);
                        }
                    }
                }
                dBias[c] = sumDy;
                dScale[c] = sumDyCentered * inv;
                // dx = k1·dy + k2·(x − μ) + k3
                double gamma = scale.getDouble(c), k1 = gamma * inv, k2 = -k1 * inv * dScale[c] / n, k3 = -k1 * sumDy / n;
                for (int b = 0; b < batch; b++) {
                    int at = (b * channels + c) * spatial;
                    if (fast) {
                        inputGradient(dyf.array(), dyf.offset() + at, xf.array(), xf.offset() + at, dxf.array(), dxf.offset() + at, spatial,
                                (float) k1, (float) k2, (float) (k3 - k2 * m));
                    } else {
                        for (int s = at; s < at + spatial; s++) dxd[s] = k1 * dyd[s] + k2 * (xd[s] - m) + k3;
                    }
                }
            }
        });
        if (!fast) {
            for (int i = 0; i < dxd.length; i++) dx.setDouble(i, dxd[i]);
        }
        return new Tensor[] {dx, FloatArrays.fromDoubles(scale.dtype(), dScale, channels),
                FloatArrays.fromDoubles(scale.dtype(), dBias, channels)};
    }

    /** y[i] = x[i]·mul + add over n elements. */
    private static void scaleShift(float[] x, int xAt, float[] y, int yAt, int n, float mul, float add) {
        FloatVector vm = FloatVector.broadcast(SPECIES, mul), va = FloatVector.broadcast(SPECIES, add);
        int i = 0;
        for (int bound = SPECIES.loopBound(n); i < bound; i += SPECIES.length()) {
            FloatVector.fromArray(SPECIES, x, xAt + i).fma(vm, va).intoArray(y, yAt + i);
        }
        for (; i < n; i++) y[yAt + i] = x[xAt + i] * mul + add;
    }

    /** {Σ dy, Σ dy·(x − m)} over n elements, into {@code sums}. */
    private static void gradientSums(float[] dy, int dyAt, float[] x, int xAt, int n, float m, double[] sums) {
        FloatVector accDy = FloatVector.zero(SPECIES), accDyX = FloatVector.zero(SPECIES), vm = FloatVector.broadcast(SPECIES, m);
        int i = 0;
        for (int bound = SPECIES.loopBound(n); i < bound; i += SPECIES.length()) {
            FloatVector g = FloatVector.fromArray(SPECIES, dy, dyAt + i);
            accDy = accDy.add(g);
            accDyX = g.fma(FloatVector.fromArray(SPECIES, x, xAt + i).sub(vm), accDyX);
        }
        float sDy = FloatFastPaths.sumLanes(accDy), sDyX = FloatFastPaths.sumLanes(accDyX);
        for (; i < n; i++) {
            sDy += dy[dyAt + i];
            sDyX += dy[dyAt + i] * (x[xAt + i] - m);
        }
        sums[0] = sDy;
        sums[1] = sDyX;
    }

    /** dx[i] = k1·dy[i] + k2·x[i] + k0 over n elements. */
    private static void inputGradient(float[] dy, int dyAt, float[] x, int xAt, float[] dx, int dxAt, int n, float k1, float k2, float k0) {
        FloatVector v1 = FloatVector.broadcast(SPECIES, k1), v2 = FloatVector.broadcast(SPECIES, k2), v0 = FloatVector.broadcast(SPECIES, k0);
        int i = 0;
        for (int bound = SPECIES.loopBound(n); i < bound; i += SPECIES.length()) {
            FloatVector.fromArray(SPECIES, x, xAt + i).fma(v2, v0).add(FloatVector.fromArray(SPECIES, dy, dyAt + i).mul(v1))
                    .intoArray(dx, dxAt + i);
        }
        for (; i < n; i++) dx[dxAt + i] = k1 * dy[dyAt + i] + (k2 * x[xAt + i] + k0);
    }

    /**
     * LayerNormalization over axes [axis, rank): Y, and the per-row Mean and InvStdDev with the
     * normalized axes kept as 1 (in {@code statsType}). Scale and bias broadcast to the normalized shape.
     */
    public static Tensor[] layerNorm(Tensor x, Tensor scale, Tensor bias, long axisAttr, double epsilon,
                                     dev.onnxrun.runtime.DType statsType, ExecContext ctx) {
        Parallel parallel = ctx.parallel();
        int axis = Shapes.axis(axisAttr, x.rank());
        long[] shape = x.shape();
        long[] normShape = Arrays.copyOfRange(shape, axis, shape.length);
        long rowLen = Shapes.size(normShape), rows = rowLen == 0 ? 0 : x.size() / rowLen;
        // float32 is read and written in place, vectorized; other types go through doubles
        FloatArrays.Slice xslice = x.dtype() == dev.onnxrun.runtime.DType.FLOAT ? FloatArrays.slice(x) : null;
        float[] xf = xslice != null ? xslice.array() : null;
        double[] xs = xf == null ? FloatArrays.doubles(x) : null;
        Tensor y = xf != null ? ctx.output(0, dev.onnxrun.runtime.DType.FLOAT, shape) : null;
        FloatArrays.Slice yslice = y != null ? FloatArrays.slice(y) : null;
        float[] yf = y != null ? yslice.array() : null;
        double[] ys = xf == null ? new double[xs.length] : null;
        double[] sc = xf == null ? broadcastTo(scale, normShape, "scale") : null;
        double[] shift = xf != null ? null : bias == null ? new double[(int) rowLen] : broadcastTo(bias, normShape, "B");
        float[] scf = xf != null ? floatsTo(scale, normShape, "scale") : null;
        float[] shiftf = xf == null ? null : bias == null ? new float[(int) rowLen] : floatsTo(bias, normShape, "B");
        double[] means = new double[(int) rows], inv = new double[(int) rows];
        Work.pool(parallel, x.size()).forRange(rows, (from, to) -> {
            for (long r = from; r < to; r++) {
                int at = (int) (r * rowLen);
                if (xf != null) {
                    layerNormRow(xf, xslice.offset() + at, yf, yslice.offset() + at, (int) rowLen, scf, shiftf, (float) epsilon, means, inv, (int) r);
                    continue;
                }
                double sum = 0;
                for (int i = 0; i < rowLen; i++) sum += xs[at + i];
                double mean = sum / rowLen, sq = 0;
                for (int i = 0; i < rowLen; i++) {
                    double d = xs[at + i] - mean;
                    sq += d * d;
                }
                double invStd = 1 / Math.sqrt(sq / rowLen + epsilon);
                for (int i = 0; i < rowLen; i++) ys[at + i] = (xs[at + i] - mean) * invStd * sc[i] + shift[i];
                means[(int) r] = mean;
                inv[(int) r] = invStd;
            }
        });
        long[] statShape = shape.clone();
        for (int d = axis; d < statShape.length; d++) statShape[d] = 1;
        return new Tensor[] {y != null ? y : FloatArrays.fromDoubles(x.dtype(), ys, shape),
                FloatArrays.fromDoubles(statsType, means, statShape), FloatArrays.fromDoubles(statsType, inv, statShape)};
    }

    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;

    /**
     * One float32 row of LayerNormalization: mean and variance summed in vector lanes (then
     * across them), y = (x − mean)·invStd·scale + shift; records mean and invStd in row r.
     */
    private static void layerNormRow(float[] x, int xAt, float[] y, int at, int len, float[] scale, float[] shift, float epsilon,
                                     double[] means, double[] inv, int r) {
        int upper = SPECIES.loopBound(len), vl = SPECIES.length(), i = 0;
        FloatVector acc = FloatVector.zero(SPECIES);
        for (; i < upper; i += vl) acc = acc.add(FloatVector.fromArray(SPECIES, x, xAt + i));
        float sum = FloatFastPaths.sumLanes(acc);
        for (; i < len; i++) sum += x[xAt + i];
        float mean = sum / len;
        FloatVector sq = FloatVector.zero(SPECIES);
        for (i = 0; i < upper; i += vl) {
            FloatVector d = FloatVector.fromArray(SPECIES, x, xAt + i).sub(mean);
            sq = d.fma(d, sq);
        }
        float squares = FloatFastPaths.sumLanes(sq);
        for (; i < len; i++) squares += (x[xAt + i] - mean) * (x[xAt + i] - mean);
        float invStd = (float) (1 / Math.sqrt(squares / len + epsilon));
        for (i = 0; i < upper; i += vl) {
            FloatVector.fromArray(SPECIES, x, xAt + i).sub(mean).mul(invStd)
                    .fma(FloatVector.fromArray(SPECIES, scale, i), FloatVector.fromArray(SPECIES, shift, i)).intoArray(y, at + i);
        }
        for (; i < len; i++) y[at + i] = (x[xAt + i] - mean) * invStd * scale[i] + shift[i];
        means[r] = mean;
        inv[r] = invStd;
    }

    private static float[] toFloats(double[] v) {
        float[] out = new float[v.length];
        for (int i = 0; i < v.length; i++) out[i] = (float) v[i];
        return out;
    }

    /**
     * {@link #broadcastTo} as float32, read in place where {@code t} is float32 of {@code shape}'s
     * size (no broadcasting: the usual scale and bias; the copy through doubles, serial, was a
     * fifth of the encoder's LayerNormalization).
     */
    private static float[] floatsTo(Tensor t, long[] shape, String name) {
        if (t.dtype() != dev.onnxrun.runtime.DType.FLOAT || t.size() != Shapes.size(shape)) return toFloats(broadcastTo(t, shape, name));
        requireBroadcast(t, shape, name);
        return FloatArrays.read(t);
    }

    /** {@code t}'s values unidirectionally broadcast to {@code shape}, flattened. */
    private static double[] broadcastTo(Tensor t, long[] shape, String name) {
        requireBroadcast(t, shape, name);
        double[] out = new double[Math.toIntExact(Shapes.size(shape))];
        new Broadcast(shape, t.shape()).forEach((i, offs) -> out[(int) i] = t.getDouble(offs[0]));
        return out;
    }

    /** Fails with {@code name}'s error where {@code t} does not broadcast unidirectionally to {@code shape}. */
    private static void requireBroadcast(Tensor t, long[] shape, String name) {
        if (!Arrays.equals(Shapes.broadcast(t.shape(), shape), shape)) {
            throw OnnxrunException.invalidInput(name + " " + t.describe() + " does not broadcast to " + Shapes.toString(shape));
        }
    }

    /**
     * Normalizes each of {@code groups} contiguous blocks of channels of every image over the
     * block's elements, then applies scale and bias per channel (or per group when
     * {@code perGroupAffine}). InstanceNormalization is the case of one group per channel.
     */
    public static Tensor groupNorm(Tensor x, Tensor scale, Tensor bias, long groups, double epsilon,
                                   boolean perGroupAffine, Parallel parallel) {
        if (x.rank() < 2) throw OnnxrunException.invalidInput("normalization needs X of rank >= 2, got " + x.describe());
        long batch = x.dim(0), channels = x.dim(1), spatial = spatialSize(x);
        if (groups < 1 || channels % groups != 0) {
            throw OnnxrunException.invalidInput(groups + " groups do not divide the " + channels + " channels of " + x.describe());
        }
        long affine = perGroupAffine ? groups : channels;
        if (scale.size() != affine || bias.size() != affine) {
            throw OnnxrunException.invalidInput("scale " + scale.describe() + " and bias " + bias.describe() + " must have "
                    + affine + " elements");
        }
        long perGroup = channels / groups;
        long blockLen = perGroup * spatial;
        double[] xs = FloatArrays.doubles(x), ys = new double[xs.length];
        Work.pool(parallel, x.size()).forRange(batch * groups, (from, to) -> {
            for (long blk = from; blk < to; blk++) {
                int at = (int) (blk * blockLen);
                double sum = 0;
                for (int i = 0; i < blockLen; i++) sum += xs[at + i];
                double mean = sum / blockLen, sq = 0;
                for (int i = 0; i < blockLen; i++) sq += (xs[at + i] - mean) * (xs[at + i] - mean);
                double invStd = 1 / Math.sqrt(sq / blockLen + epsilon);
                long group = blk % groups;
                for (int i = 0; i < blockLen; i++) {
                    long p = perGroupAffine ? group : group * perGroup + i / spatial;
                    ys[at + i] = (xs[at + i] - mean) * invStd * scale.getDouble(p) + bias.getDouble(p);
                }
            }
        });
        return FloatArrays.fromDoubles(x.dtype(), ys, x.shape());
    }

    /**
     * Local response normalization across channels:
     * {@code y = x / (bias + alpha/size · Σ x²)^beta}, the sum over channels
     * [c - ⌊(size-1)/2⌋, c + ⌈(size-1)/2⌉].
     */
    public static Tensor lrn(Tensor x, long size, double alpha, double beta, double bias) {
        if (x.rank() < 2) throw OnnxrunException.invalidInput("LRN needs X of rank >= 2, got " + x.describe());
        if (size < 1) throw OnnxrunException.invalidModel("LRN size must be positive, got " + size);
        long batch = x.dim(0), channels = x.dim(1), spatial = spatialSize(x);
        long before = (size - 1) / 2, after = size - 1 - before;
        double[] xs = FloatArrays.doubles(x), ys = new double[xs.length];
        for (long b = 0; b < batch; b++) {
            for (long c = 0; c < channels; c++) {
                long lo = Math.max(0, c - before), hi = Math.min(channels - 1, c + after);
                for (long s = 0; s < spatial; s++) {
                    double sq = 0;
                    for (long j = lo; j <= hi; j++) {
                        double v = xs[(int) ((b * channels + j) * spatial + s)];
                        sq += v * v;
                    }
                    int at = (int) ((b * channels + c) * spatial + s);
                    ys[at] = xs[at] / Math.pow(bias + alpha / size * sq, beta);
                }
            }
        }
        return FloatArrays.fromDoubles(x.dtype(), ys, x.shape());
    }
}
