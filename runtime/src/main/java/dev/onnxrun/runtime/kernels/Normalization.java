package dev.onnxrun.runtime.kernels;

import dev.onnxrun.runtime.OnnxrunException;
import dev.onnxrun.runtime.Parallel;
import dev.onnxrun.runtime.Shapes;
import dev.onnxrun.runtime.Tensor;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
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
    public static Tensor batchNorm(Tensor x, Tensor scale, Tensor bias, Tensor mean, Tensor var, double epsilon) {
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
        if (x.dtype() == dev.onnxrun.runtime.DType.FLOAT && !perElement) {
            float[] xf = FloatArrays.read(x), yf = new float[xf.length];
            for (long bc = 0; bc < batch * channels; bc++) {
                float m = (float) mul[(int) (bc % channels)], a = (float) add[(int) (bc % channels)];
                for (int i = (int) (bc * spatial), end = (int) (i + spatial); i < end; i++) yf[i] = xf[i] * m + a;
            }
            return Tensor.of(yf, x.shape());
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
                                             double epsilon, double momentum) {
        if (x.rank() < 2) throw OnnxrunException.invalidInput("BatchNormalization needs X of rank >= 2, got " + x.describe());
        long channels = x.dim(1), spatial = spatialSize(x), batch = x.dim(0);
        for (Tensor t : new Tensor[] {scale, bias, runMean, runVar}) {
            if (t.size() != channels) {
                throw OnnxrunException.invalidInput("BatchNormalization parameter " + t.describe() + " must hold one value per channel of X " + x.describe());
            }
        }
        double[] xs = FloatArrays.doubles(x);
        double count = (double) batch * spatial;
        double[] mean = new double[(int) channels], var = new double[(int) channels];
        for (long b = 0; b < batch; b++) {
            for (int c = 0; c < channels; c++) {
                int at = (int) ((b * channels + c) * spatial);
                for (int s = 0; s < spatial; s++) mean[c] += xs[at + s];
            }
        }
        for (int c = 0; c < channels; c++) mean[c] /= count;
        for (long b = 0; b < batch; b++) {
            for (int c = 0; c < channels; c++) {
                int at = (int) ((b * channels + c) * spatial);
                for (int s = 0; s < spatial; s++) var[c] += (xs[at + s] - mean[c]) * (xs[at + s] - mean[c]);
            }
        }
        for (int c = 0; c < channels; c++) var[c] /= count;
        Tensor y = batchNorm(x, scale, bias, Tensor.of(mean, channels), Tensor.of(var, channels), epsilon);
        double[] newMean = new double[(int) channels], newVar = new double[(int) channels];
        for (int c = 0; c < channels; c++) {
            newMean[c] = runMean.getDouble(c) * momentum + mean[c] * (1 - momentum);
            newVar[c] = runVar.getDouble(c) * momentum + var[c] * (1 - momentum);
        }
        return new Tensor[] {y, FloatArrays.fromDoubles(runMean.dtype(), newMean, channels),
                FloatArrays.fromDoubles(runVar.dtype(), newVar, channels)};
    }

    /**
     * LayerNormalization over axes [axis, rank): Y, and the per-row Mean and InvStdDev with the
     * normalized axes kept as 1 (in {@code statsType}). Scale and bias broadcast to the normalized shape.
     */
    public static Tensor[] layerNorm(Tensor x, Tensor scale, Tensor bias, long axisAttr, double epsilon,
                                     dev.onnxrun.runtime.DType statsType, Parallel parallel) {
        int axis = Shapes.axis(axisAttr, x.rank());
        long[] shape = x.shape();
        long[] normShape = Arrays.copyOfRange(shape, axis, shape.length);
        long rowLen = Shapes.size(normShape), rows = rowLen == 0 ? 0 : x.size() / rowLen;
        double[] sc = broadcastTo(scale, normShape, "scale"), bi = bias == null ? null : broadcastTo(bias, normShape, "B");
        // float32 is read and written in place, vectorized; other types go through doubles
        FloatArrays.Slice xslice = x.dtype() == dev.onnxrun.runtime.DType.FLOAT ? FloatArrays.slice(x) : null;
        float[] xf = xslice != null ? xslice.array() : null;
        double[] xs = xf == null ? FloatArrays.doubles(x) : null;
        float[] yf = xf != null ? new float[Math.toIntExact(x.size())] : null;
        double[] ys = xf == null ? new double[xs.length] : null;
        double[] shift = bi != null ? bi : new double[(int) rowLen];
        float[] scf = xf != null ? toFloats(sc) : null, shiftf = xf != null ? toFloats(shift) : null;
        double[] means = new double[(int) rows], inv = new double[(int) rows];
        Work.pool(parallel, x.size()).forRange(rows, (from, to) -> {
            for (long r = from; r < to; r++) {
                int at = (int) (r * rowLen);
                if (xf != null) {
                    layerNormRow(xf, xslice.offset() + at, yf, at, (int) rowLen, scf, shiftf, (float) epsilon, means, inv, (int) r);
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
        return new Tensor[] {yf != null ? Tensor.of(yf, shape) : FloatArrays.fromDoubles(x.dtype(), ys, shape),
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
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < len; i++) sum += x[xAt + i];
        float mean = sum / len;
        FloatVector sq = FloatVector.zero(SPECIES);
        for (i = 0; i < upper; i += vl) {
            FloatVector d = FloatVector.fromArray(SPECIES, x, xAt + i).sub(mean);
            sq = d.fma(d, sq);
        }
        float squares = sq.reduceLanes(VectorOperators.ADD);
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

    /** {@code t}'s values unidirectionally broadcast to {@code shape}, flattened. */
    private static double[] broadcastTo(Tensor t, long[] shape, String name) {
        long[] target = Shapes.broadcast(t.shape(), shape);
        if (!Arrays.equals(target, shape)) {
            throw OnnxrunException.invalidInput(name + " " + t.describe() + " does not broadcast to " + Shapes.toString(shape));
        }
        double[] out = new double[Math.toIntExact(Shapes.size(shape))];
        new Broadcast(shape, t.shape()).forEach((i, offs) -> out[(int) i] = t.getDouble(offs[0]));
        return out;
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
