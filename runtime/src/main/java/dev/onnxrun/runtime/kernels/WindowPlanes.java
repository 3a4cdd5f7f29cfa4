package dev.onnxrun.runtime.kernels;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * The input of a float32 sliding-window op (convolution, pooling) laid out so that every window
 * tap reads one contiguous run: each channel padded and split by stride phase (element
 * {@code i·s + a} of an axis goes to phase {@code a}, position {@code i}). Outputs are then
 * numbered in the phase planes' own coordinates ("columns"): output (o₀, …, oₙ₋₁) is column
 * {@code Σ oᵢ·Sᵢ}, Sᵢ the plane's row-major strides, and tap t of channel c reads column q at
 * {@code c·channelStride + tapAt[t] + q}. So im2col needs no patch matrix (the GEMM reads its B
 * rows in place) and the depthwise and pooling kernels need no bounds tests. Columns whose
 * coordinates fall outside the output (the plane is a little wider) are computed and dropped by
 * {@link #store}. When no tap reaches padding and the strides are 1, the input already has this
 * layout ({@link #direct}) and is used as it is. Padding holds whatever the buffer held there
 * (zeros, or −∞ for max pooling): {@link #fill} never writes it.
 */
final class WindowPlanes {
    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final int VL = SPECIES.length();

    private final Windows.Geometry g;
    private final int rank;
    /** Per axis: positions in one phase plane (input sizes when direct). */
    private final int[] extent;
    /** Output sizes and the row-major strides of the output. */
    private final int[] out, outStride;
    /** Per axis: the phases some tap reads (offsets modulo the stride), in order; the others are not laid out. */
    private final int[][] phaseOf;
    /** Floats in one phase plane, phases laid out per channel. */
    private final int plane, phases;
    /** The input is used in place: strides 1 and no tap in padding. */
    final boolean direct;
    /** Floats per channel of the laid-out input. */
    final int channelStride;
    /** Columns from the first output to one past the last. */
    final int columns;
    /** Columns per row (the last axis' extent, or all columns where they coincide with the outputs), of which the first rowValid are outputs. */
    private final int rowWidth, rowValid;
    /** Per kernel tap (row-major over the kernel axes): where its run starts within a channel. */
    final int[] tapAt;
    /** The largest of {@link #tapAt}. */
    final int lastTapAt;
    /** {@link #tapRows} by channel count. */
    private final java.util.Map<Integer, int[]> tapRows = new java.util.concurrent.ConcurrentHashMap<>();
    /** Per row of {@link #rowWidth} columns: the output offset of its first element, or -1 outside the output. */
    private final int[] rowOut;

    /** Layouts made lately, by geometry: a model's runs reuse them, and {@link Scratch#laidOut} knows its buffers by them. */
    private static final int CACHED = 256;
    private static final java.util.Map<GeometryKey, WindowPlanes> RECENT = new java.util.LinkedHashMap<>(CACHED, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(java.util.Map.Entry<GeometryKey, WindowPlanes> eldest) { return size() > CACHED; }
    };

    /** A geometry by value (the record's arrays compare by identity). */
    private record GeometryKey(long[] values) {
        static GeometryKey of(Windows.Geometry g) {
            long[][] parts = {g.in(), g.out(), g.kernel(), g.strides(), g.dilations(), g.padBegin(), g.padEnd()};
            long[] v = new long[parts.length * g.rank()];
            for (int i = 0; i < parts.length; i++) System.arraycopy(parts[i], 0, v, i * g.rank(), g.rank());
            return new GeometryKey(v);
        }

        @Override
        public boolean equals(Object o) { return o instanceof GeometryKey k && Arrays.equals(values, k.values); }

        @Override
        public int hashCode() { return Arrays.hashCode(values); }
    }

    /** The layout for {@code g}: the same instance for equal geometries while it is among the recently used. */
    static WindowPlanes of(Windows.Geometry g) {
        GeometryKey key = GeometryKey.of(g);
        synchronized (RECENT) {
            WindowPlanes cached = RECENT.get(key);
            if (cached != null) return cached;
        }
        WindowPlanes made = new WindowPlanes(g);
        synchronized (RECENT) {
            WindowPlanes raced = RECENT.putIfAbsent(key, made);
            return raced != null ? raced : made;
        }
    }

    private WindowPlanes(Windows.Geometry g) {
        this.g = g;
        rank = g.rank();
        extent = new int[rank];
        out = new int[rank];
        outStride = new int[rank];
        phaseOf = new int[rank][];
        boolean inPlace = true;
        int ph = 1;
        for (int d = 0; d < rank; d++) {
            out[d] = (int) g.out()[d];
            int stride = (int) g.strides()[d];
            long lastRead = (g.out()[d] - 1) * stride + (g.kernel()[d] - 1) * g.dilations()[d]; // in padded coordinates
            inPlace &= stride == 1 && g.padBegin()[d] == 0 && lastRead < g.in()[d];
            extent[d] = (int) ((lastRead + stride) / stride);
            int d0 = d;
            phaseOf[d] = java.util.stream.LongStream.range(0, g.kernel()[d]).map(k -> k * g.dilations()[d0] % stride)
                    .distinct().sorted().mapToInt(v -> (int) v).toArray();
            ph *= phaseOf[d].length;
        }
        direct = inPlace;
        if (direct) for (int d = 0; d < rank; d++) extent[d] = (int) g.in()[d];
        phases = ph;
        int[] colStride = new int[rank];
        int p = 1, o = 1;
        for (int d = rank - 1; d >= 0; d--) {
            colStride[d] = p;
            p *= extent[d];
            outStride[d] = o;
            o *= out[d];
        }
        plane = p;
        channelStride = direct ? (int) g.inSize() : phases * plane;
        int cols = 1;
        for (int d = 0; d < rank; d++) cols += (out[d] - 1) * colStride[d];
        columns = cols;
        // when columns and outputs coincide, all columns form one row, so stores run unbroken
        boolean same = Arrays.equals(extent, out);
        rowWidth = same ? columns : extent[rank - 1];
        rowValid = same ? columns : out[rank - 1];
        tapAt = new int[(int) g.kernelSize()];
        for (int t = 0; t < tapAt.length; t++) {
            int rest = t, phase = 0, phaseScale = 1, at = 0;
            for (int d = rank - 1; d >= 0; d--) {
                int k = (int) g.kernel()[d], stride = (int) g.strides()[d];
                int offset = (rest % k) * (int) g.dilations()[d];
                rest /= k;
                phase += Arrays.binarySearch(phaseOf[d], offset % stride) * phaseScale;
                phaseScale *= phaseOf[d].length;
                at += (offset / stride) * colStride[d];
            }
            tapAt[t] = phase * plane + at;
        }
        lastTapAt = Arrays.stream(tapAt).max().orElse(0);
        rowOut = new int[(columns + rowWidth - 1) / rowWidth];
        for (int r = 0; r < rowOut.length && !same; r++) {
            int rest = r, at = 0;
            for (int d = rank - 2; d >= 0 && at >= 0; d--) {
                int coord = rest % extent[d];
                rest /= extent[d];
                at = coord < out[d] ? at + coord * outStride[d] : -1;
            }
            rowOut[r] = at;
        }
        copyStride = (int) g.strides()[rank - 1];
        int[][] copies = planCopies();
        copyFrom = copies[0];
        copyTo = copies[1];
        copyLength = copies[2];
        int[][] vectors = planVectors();
        vectorColumn = vectors[0];
        vectorOut = vectors[1];
        vectorLength = vectors[2];
    }

    /**
     * Where each (channel, tap) of {@code channels} laid-out channels starts, channel-major: the
     * rows of a convolution GEMM's B, read in place. Made once per channel count.
     */
    int[] tapRows(int channels) {
        return tapRows.computeIfAbsent(channels, cs -> {
            int[] rows = new int[cs * tapAt.length];
            for (int c = 0; c < cs; c++) {
                for (int k = 0; k < tapAt.length; k++) rows[c * tapAt.length + k] = c * channelStride + tapAt[k];
            }
            return rows;
        });
    }

    /** {@link #tileStarts} by tile width. */
    private final java.util.Map<Integer, int[]> tileStarts = new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * Where tiles of {@code width} consecutive columns start so that together they compute every
     * output: each row's outputs in whole tiles where rows carry padding columns and hold a
     * multiple of {@code width} outputs (a 7×7 map's 49 outputs in 7 tiles of 7, not 61 columns
     * in 11 tiles of 6), else tiles one after another over all {@link #columns}.
     */
    int[] tileStarts(int width) {
        return tileStarts.computeIfAbsent(width, w -> {
            if (rowWidth > rowValid && rowValid % w == 0) {
                return java.util.stream.IntStream.range(0, rowOut.length).filter(r -> rowOut[r] >= 0)
                        .flatMap(r -> java.util.stream.IntStream.range(0, rowValid / w).map(i -> r * rowWidth + i * w)).toArray();
            }
            return java.util.stream.IntStream.range(0, (columns + w - 1) / w).map(i -> i * w).toArray();
        });
    }

    /**
     * Panels of {@code width} consecutive outputs, as a convolution GEMM packs its B where rows
     * carry padding columns: copy k, one vector, takes the laid-out columns from {@code column[k]}
     * to offset {@code offset[k]} of its panel; panel j's copies are {@code [first[j], first[j+1])},
     * in increasing offset, each after the last overwriting what the one before wrote past its
     * row part (and the last of a panel's row writing up to a vector past it).
     */
    record OutputPanels(int[] first, int[] column, int[] offset) {
        int panels() { return first.length - 1; }
    }

    /** {@link #outputPanels} by width. */
    private final java.util.Map<Integer, java.util.Optional<OutputPanels>> outputPanels = new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * The copies that pack panels of {@code width} outputs, padding columns left out, or null
     * where that saves less than one in sixteen of the panels {@link #columns} make, or X is read
     * in place (a copy's whole vector could pass the end of X). On a 13×13 map padded to rows of
     * 15, 169 outputs fill 6 panels of 32 where 193 columns fill 7 (squeezenet's 64→256 3×3:
     * 0.34 → 0.30 ms at one thread); on 55×55, 95 panels instead of 98 measured slower at two
     * threads (0.22 → 0.24–0.29 ms, unexplained: the packing's three copies a row instead of two
     * are not in the profile).
     */
    OutputPanels outputPanels(int width) {
        return outputPanels.computeIfAbsent(width, w -> {
            int outputs = Arrays.stream(out).reduce(1, Math::multiplyExact), panels = (outputs + w - 1) / w;
            if (direct || rowWidth == rowValid || 16 * panels > 15 * ((columns + w - 1) / w)) return java.util.Optional.empty();
            int[] first = new int[panels + 1], column = new int[panels * (w / VL + 2 * (w / rowValid + 1))], offset = new int[column.length];
            // the column each output row starts at: rows of rowWidth columns that hold outputs, in order
            int[] rowColumn = java.util.stream.IntStream.range(0, rowOut.length).filter(r -> rowOut[r] >= 0).map(r -> r * rowWidth).toArray();
            int n = 0;
            for (int j = 0; j < panels; j++) {
                first[j] = n;
                for (int d = 0, o = j * w; d < w && o < outputs; ) {
                    int row = o / rowValid, col = o % rowValid; // output o's row part: rows hold rowValid outputs each
                    int length = Math.min(w - d, Math.min(rowValid - col, outputs - o));
                    for (int k = 0; k < length; k += VL, n++) {
                        column[n] = rowColumn[row] + col + k;
                        offset[n] = d + k;
                    }
                    d += length;
                    o += length;
                }
            }
            first[panels] = n;
            return java.util.Optional.of(new OutputPanels(first, Arrays.copyOf(column, n), Arrays.copyOf(offset, n)));
        }).orElse(null);
    }

    /** Columns a convolution GEMM computes in panels of {@code width}: the outputs alone where {@link #outputPanels} has panels. */
    int gemmColumns(int width) {
        OutputPanels op = outputPanels(width);
        return op != null ? op.panels() * width : Gemm.roundUp(columns, width);
    }

    /**
     * Packs {@code panels} panels of {@code op} from panel {@code firstPanel} on for depth steps
     * [rowFrom, rowFrom + kc), step p's laid-out row at {@code t[base + rowAt[p]]}, into
     * {@code dst} as {@link Gemm#packRows} does (panel j, step p at {@code (j·kc + p)·width});
     * {@code dst} needs a vector of room past the last panel.
     */
    static void packOutputs(OutputPanels op, float[] t, int base, int[] rowAt, int rowFrom, int kc, int firstPanel, int panels,
                            int width, float[] dst) {
        int[] column = op.column(), offset = op.offset();
        for (int j = 0; j < panels; j++) {
            int from = op.first()[firstPanel + j], to = op.first()[firstPanel + j + 1];
            for (int p = 0; p < kc; p++) {
                int src = base + rowAt[rowFrom + p], at = (j * kc + p) * width;
                for (int k = from; k < to; k++) FloatVector.fromArray(SPECIES, t, src + column[k]).intoArray(dst, at + offset[k]);
            }
        }
    }

    /** The outputs' own layout, as a pointwise op's: its columns are the outputs, for {@link #store} and {@link #outputRun}. */
    WindowPlanes outputs() {
        if (outputs == null) {
            long[] o = g.out(), ones = new long[rank], zeros = new long[rank];
            Arrays.fill(ones, 1);
            outputs = of(new Windows.Geometry(o, o, ones, ones, ones, zeros, zeros));
        }
        return outputs;
    }

    /** {@link #outputs}, once made (any thread may make it: all make equal ones). */
    private volatile WindowPlanes outputs;

    /**
     * Floats the columns of one tile may read past the last channel's run: tiles are computed
     * whole, so buffers of laid-out input end with this much slack.
     */
    static final int SLACK = Gemm.NR;

    /** Every second element of two vectors, from the first and from the second. */
    static final IntVector EVERY_2ND = Gemm.lanes(i -> 2 * i), ODD_OF_2 = Gemm.lanes(i -> 2 * i + 1);
    /** Every fourth element of two vectors; the low halves of two vectors side by side. */
    private static final IntVector EVERY_4TH = Gemm.lanes(i -> 4 * i % (2 * VL)),
            LOW_HALVES = Gemm.lanes(i -> i < VL / 2 ? i : VL + i - VL / 2);

    /**
     * The copies that lay out one channel: input runs of the last axis (taken every
     * {@link #copyStride}-th element) and where they go, relative to the channel's start in
     * the input and in the layout. Padding positions are never written.
     */
    private final int[] copyFrom, copyTo, copyLength;
    private final int copyStride;

    /** {@link #copyFrom}, {@link #copyTo} and {@link #copyLength}, planned from the geometry. */
    private int[][] planCopies() {
        int last = rank - 1, lastIn = (int) g.in()[last], lastPad = (int) g.padBegin()[last], width = extent[last];
        int[] phase = new int[rank];
        int n = 0;
        int[] from = new int[16], to = new int[16], length = new int[16];
        // the phases of the last axis innermost: copies from one input row follow each other (fill takes them together)
        int lastPhases = phaseOf[last].length;
        for (int outer = 0; outer < phases / lastPhases; outer++) {
            for (int row = 0; row < plane / width; row++) {
                for (int b = 0; b < lastPhases; b++) {
                    int ph = outer * lastPhases + b, rest = ph;
                    for (int d = last; d >= 0; d--) {
                        phase[d] = phaseOf[d][rest % phaseOf[d].length];
                        rest /= phaseOf[d].length;
                    }
                    int lo = (int) Math.min(width, Math.max(0, Windows.ceilDiv(lastPad - phase[last], copyStride)));
                    int hi = (int) Math.min(width, Math.max(lo, Windows.ceilDiv(lastIn + lastPad - phase[last], copyStride)));
                    if (lo >= hi) continue;
                    // the input row this plane row copies, unless it is padding
                    int r = row, src = 0, scale = lastIn;
                    boolean inside = true;
                    for (int d = last - 1; d >= 0; d--) {
                        long pos = (long) (r % extent[d]) * g.strides()[d] + phase[d] - g.padBegin()[d];
                        r /= extent[d];
                        inside &= pos >= 0 && pos < g.in()[d];
                        src += (int) pos * scale;
                        scale *= (int) g.in()[d];
                    }
                    if (!inside) continue;
                    if (n == from.length) {
                        from = Arrays.copyOf(from, 2 * n);
                        to = Arrays.copyOf(to, 2 * n);
                        length = Arrays.copyOf(length, 2 * n);
                    }
                    from[n] = src + lo * copyStride + phase[last] - lastPad;
                    to[n] = ph * plane + row * width + lo;
                    length[n++] = hi - lo;
                }
            }
        }
        return new int[][] {Arrays.copyOf(from, n), Arrays.copyOf(to, n), Arrays.copyOf(length, n)};
    }

    /**
     * Lays out one channel (the input at {@code xAt}) at {@code dst[at]}, whose padding positions
     * must already hold the padding value: zeros in a fresh buffer, kept when it is laid out again.
     */
    void fill(float[] x, int xAt, float[] dst, int at) {
        for (int i = 0; i < copyFrom.length; i++) {
            int src = xAt + copyFrom[i], to = at + copyTo[i], n = copyLength[i];
            if (copyStride == 1) {
                copy(x, src, dst, to, n);
                continue;
            }
            int j = 0;
            if (copyStride == 2 && i + 1 < copyFrom.length && Math.abs(copyFrom[i + 1] - copyFrom[i]) == 1) {
                // the next copy takes the other elements of the same row: split whole vectors into both at once
                int k = i + 1, even = copyFrom[k] < copyFrom[i] ? k : i, odd = i + k - even, m = Math.min(copyLength[i], copyLength[k]);
                int from = xAt + copyFrom[even], toEven = at + copyTo[even], toOdd = at + copyTo[odd];
                for (; j + VL <= m && from + 2 * (j + VL) <= x.length; j += VL) {
                    IntVector a = FloatVector.fromArray(SPECIES, x, from + 2 * j).reinterpretAsInts(),
                            b = FloatVector.fromArray(SPECIES, x, from + 2 * j + VL).reinterpretAsInts();
                    EVERY_2ND.selectFrom(a, b).reinterpretAsFloats().intoArray(dst, toEven + j);
                    ODD_OF_2.selectFrom(a, b).reinterpretAsFloats().intoArray(dst, toOdd + j);
                }
                if (j < Math.max(copyLength[even], copyLength[odd]) && from + 2 * (j + VL) <= x.length) {
                    splitLast(x, from + 2 * j, dst, toEven + j, copyLength[even] - j, toOdd + j, copyLength[odd] - j);
                    j = Math.max(copyLength[even], copyLength[odd]);
                }
                for (int e = j; e < copyLength[even]; e++) dst[toEven + e] = x[from + 2 * e];
                for (int o = j; o < copyLength[odd]; o++) dst[toOdd + o] = x[from + 2 * o + 1];
                i = k;
                continue;
            }
            if (copyStride == 4 && i + 3 < copyFrom.length && spanOfFour(i) < 4) {
                // the next three copies take the other phases of the same row (Winograd F(4×4, 3×3)): split it once for all four
                fourPhases(x, xAt, i, dst, at);
                i += 3;
                continue;
            }
            if (copyStride == 2) { // whole vectors, the last one masked where the row ends
                for (; j < n && src + 2 * (j + VL) <= x.length; j += VL) {
                    int from = src + 2 * j;
                    EVERY_2ND.selectFrom(FloatVector.fromArray(SPECIES, x, from).reinterpretAsInts(),
                            FloatVector.fromArray(SPECIES, x, from + VL).reinterpretAsInts()).reinterpretAsFloats()
                            .intoArray(dst, to + j, SPECIES.indexInRange(j, n));
                }
            } else if (copyStride == 4) { // Winograd F(4×4, 3×3) tiles
                for (; j < n && src + 4 * (j + VL) <= x.length; j += VL) {
                    int from = src + 4 * j;
                    IntVector low = EVERY_4TH.selectFrom(FloatVector.fromArray(SPECIES, x, from).reinterpretAsInts(),
                            FloatVector.fromArray(SPECIES, x, from + VL).reinterpretAsInts());
                    IntVector high = EVERY_4TH.selectFrom(FloatVector.fromArray(SPECIES, x, from + 2 * VL).reinterpretAsInts(),
                            FloatVector.fromArray(SPECIES, x, from + 3 * VL).reinterpretAsInts());
                    LOW_HALVES.selectFrom(low, high).reinterpretAsFloats().intoArray(dst, to + j, SPECIES.indexInRange(j, n));
                }
            }
            for (; j < n; j++) dst[to + j] = x[src + j * copyStride];
        }
    }

    /** The first of copies i to i + 3's first elements in the input. */
    private int lowestOfFour(int i) { return Math.min(Math.min(copyFrom[i], copyFrom[i + 1]), Math.min(copyFrom[i + 2], copyFrom[i + 3])); }

    /** How far apart the first elements of copies i to i + 3 lie in the input. */
    private int spanOfFour(int i) {
        return Math.max(Math.max(copyFrom[i], copyFrom[i + 1]), Math.max(copyFrom[i + 2], copyFrom[i + 3])) - lowestOfFour(i);
    }

    /**
     * Copies i to i + 3 of {@link #fill} at stride 4, whose first elements lie within four of each
     * other (one row's four phases): four vectors of the row are split into the four streams of
     * every fourth element (eight selects), each copy storing the stream it takes. Copied one by
     * one, each read all four vectors and took three selects. A method of its own, like
     * {@link #splitLast}.
     */
    private void fourPhases(float[] x, int xAt, int i, float[] dst, int at) {
        int base = lowestOfFour(i), from = xAt + base, longest = 0;
        for (int k = i; k < i + 4; k++) longest = Math.max(longest, copyLength[k]);
        int j = 0;
        for (; j < longest && from + 4 * (j + VL) <= x.length; j += VL) {
            int s = from + 4 * j;
            IntVector a = FloatVector.fromArray(SPECIES, x, s).reinterpretAsInts(), b = FloatVector.fromArray(SPECIES, x, s + VL).reinterpretAsInts(),
                    c = FloatVector.fromArray(SPECIES, x, s + 2 * VL).reinterpretAsInts(),
                    d = FloatVector.fromArray(SPECIES, x, s + 3 * VL).reinterpretAsInts();
            IntVector evenAb = EVERY_2ND.selectFrom(a, b), oddAb = ODD_OF_2.selectFrom(a, b), evenCd = EVERY_2ND.selectFrom(c, d),
                    oddCd = ODD_OF_2.selectFrom(c, d);
            // stream r, lane l: x[s + r + 4·l]
            FloatVector r0 = EVERY_2ND.selectFrom(evenAb, evenCd).reinterpretAsFloats(), r2 = ODD_OF_2.selectFrom(evenAb, evenCd).reinterpretAsFloats(),
                    r1 = EVERY_2ND.selectFrom(oddAb, oddCd).reinterpretAsFloats(), r3 = ODD_OF_2.selectFrom(oddAb, oddCd).reinterpretAsFloats();
            for (int k = i; k < i + 4; k++) {
                int n = copyLength[k];
                if (j >= n) continue;
                FloatVector stream = switch (copyFrom[k] - base) {
                    case 0 -> r0;
                    case 1 -> r1;
                    case 2 -> r2;
                    default -> r3;
                };
                stream.intoArray(dst, at + copyTo[k] + j, SPECIES.indexInRange(j, n));
            }
        }
        for (int k = i; k < i + 4; k++) {
            int src = xAt + copyFrom[k], to = at + copyTo[k];
            for (int e = j; e < copyLength[k]; e++) dst[to + e] = x[src + 4 * e];
        }
    }

    /**
     * The last elements of a row pair of {@link #fill} (at most a vector each): the even ones of
     * {@code x[from..]} to {@code dst[toEven..]}, {@code evens} of them, the odd ones to
     * {@code dst[toOdd..]}, {@code odds} of them, by masked stores, so rows narrower than a vector
     * (late layers) are not copied element by element. A method of its own: in fill, too large
     * for C2 to inline the masks' methods, the masked stores would box their vectors.
     */
    private static void splitLast(float[] x, int from, float[] dst, int toEven, int evens, int toOdd, int odds) {
        IntVector a = FloatVector.fromArray(SPECIES, x, from).reinterpretAsInts(), b = FloatVector.fromArray(SPECIES, x, from + VL).reinterpretAsInts();
        EVERY_2ND.selectFrom(a, b).reinterpretAsFloats().intoArray(dst, toEven, SPECIES.indexInRange(0, evens));
        ODD_OF_2.selectFrom(a, b).reinterpretAsFloats().intoArray(dst, toOdd, SPECIES.indexInRange(0, odds));
    }

    /** System.arraycopy, with short runs (feature map rows) copied by vectors instead of a call. */
    private static void copy(float[] src, int from, float[] dst, int to, int n) {
        if (n > 4 * VL) {
            System.arraycopy(src, from, dst, to, n);
            return;
        }
        int i = 0;
        for (; i + VL <= n; i += VL) FloatVector.fromArray(SPECIES, src, from + i).intoArray(dst, to + i);
        if (i < n) {
            VectorMask<Float> tail = SPECIES.indexInRange(i, n);
            FloatVector.fromArray(SPECIES, src, from + i, tail).intoArray(dst, to + i, tail);
        }
    }

    /**
     * The outputs cut into vectors that stay within one row: vector i covers columns
     * [vectorColumn[i], + vectorLength[i]) and outputs [vectorOut[i], + vectorLength[i]),
     * vectorLength at most one vector. Kernels that reduce over taps per output vector
     * (depthwise, pooling) walk these, several at once for independent chains.
     */
    final int[] vectorColumn, vectorOut, vectorLength;

    /** {@link #vectorColumn}, {@link #vectorOut} and {@link #vectorLength}, from the rows. */
    private int[][] planVectors() {
        int perRow = (rowValid + VL - 1) / VL, n = 0;
        int[][] v = new int[3][rowOut.length * perRow];
        for (int r = 0; r < rowOut.length; r++) {
            if (rowOut[r] < 0) continue;
            for (int col = 0; col < rowValid; col += VL, n++) {
                v[0][n] = r * rowWidth + col;
                v[1][n] = rowOut[r] + col;
                v[2][n] = Math.min(VL, rowValid - col);
            }
        }
        return new int[][] {Arrays.copyOf(v[0], n), Arrays.copyOf(v[1], n), Arrays.copyOf(v[2], n)};
    }

    /**
     * Where columns [q, q + n) go within an output channel if they are n consecutive outputs (all
     * in one output row, or all outputs where the columns are the outputs), else −1.
     */
    int outputRun(int q, int n) {
        int row = q / rowWidth, col = q - row * rowWidth;
        return row < rowOut.length && rowOut[row] >= 0 && col + n <= rowValid ? rowOut[row] + col : -1;
    }

    /**
     * Writes columns [q0, q1) of {@code rows} output channels to the output: row r, held at
     * {@code src[srcAt + r·srcStride + q - q0]}, goes to the channel at {@code y[yAt + r·yStride]}
     * as act(value + bias[biasAt + r] + residual), bias and residual optional (y[i]'s residual
     * at {@code residual[i + residualShift]}).
     * Columns outside the output are skipped. {@code src} must hold whole vectors past each row's end.
     */
    void store(float[] src, int srcAt, int srcStride, int rows, int q0, int q1, float[] y, int yAt, int yStride,
               float[] bias, int biasAt, float[] residual, int residualShift, Activation act) {
        // a clamp is applied here by a max and a min: a vector passed to Activation.apply, where C2
        // declined to inline it (a JVM that had run other models first), was boxed
        boolean fused = act.isClamp() && !act.isNone(), after = !act.isClamp();
        float low = act.clampLow(), high = act.clampHigh();
        // other activations go over each run of consecutive outputs stored, once: applied row part by row part, a
        // 7-wide tile (ConvByFilters) took Activation's one-vector buffer path for every 7 outputs
        int runStart = -1, runEnd = -1;
        for (int q = q0; q < q1; ) {
            int row = q / rowWidth, col = q - row * rowWidth;
            int end = Math.min(q1 - q + col, rowWidth); // this row's part of the range, as columns of the row
            int base = rowOut[row];
            if (base >= 0 && col < rowValid) {
                int n = Math.min(end, rowValid) - col, upper = SPECIES.loopBound(n);
                if (after && base + col != runEnd) {
                    applyAfter(act, y, yAt, yStride, rows, runStart, runEnd);
                    runStart = base + col;
                }
                runEnd = base + col + n;
                VectorMask<Float> tail = SPECIES.indexInRange(upper, n);
                for (int r = 0; r < rows; r++) {
                    int from = srcAt + r * srcStride + q - q0, to = yAt + r * yStride + base + col;
                    float b = bias == null ? 0f : bias[biasAt + r];
                    int i = 0;
                    for (; i < upper; i += VL) {
                        FloatVector v = FloatVector.fromArray(SPECIES, src, from + i).add(b);
                        if (residual != null) v = v.add(FloatVector.fromArray(SPECIES, residual, to + i + residualShift));
                        if (fused) v = v.max(low).min(high);
                        v.intoArray(y, to + i);
                    }
                    if (i < n) {
                        FloatVector v = FloatVector.fromArray(SPECIES, src, from + i).add(b);
                        if (residual != null) v = v.add(FloatVector.fromArray(SPECIES, residual, to + i + residualShift, tail));
                        if (fused) v = v.max(low).min(high);
                        v.intoArray(y, to + i, tail);
                    }
                }
            }
            q += end - col;
        }
        if (after) applyAfter(act, y, yAt, yStride, rows, runStart, runEnd);
    }

    /** {@code act} over outputs [start, end) of each of {@code rows} channels (none when start is −1). */
    private static void applyAfter(Activation act, float[] y, int yAt, int yStride, int rows, int start, int end) {
        if (start < 0) return;
        for (int r = 0; r < rows; r++) act.apply(y, yAt + r * yStride + start, yAt + r * yStride + end);
    }
}
