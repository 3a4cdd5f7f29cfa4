package dev.onnxrun.compiler.onnx;

import com.google.protobuf.ByteString;
import dev.onnxrun.onnx.Onnx.TensorProto;
import dev.onnxrun.runtime.DType;
import dev.onnxrun.runtime.OnnxrunException;
import dev.onnxrun.runtime.Shapes;
import dev.onnxrun.runtime.Tensor;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** Converts between ONNX TensorProto messages and runtime tensors. */
public final class TensorProtos {
    private TensorProtos() {}

    /** Decodes a tensor whose data is inline (raw or typed fields). */
    public static Tensor fromProto(TensorProto p) {
        return fromProto(p, null);
    }

    /** Decodes a tensor; external data is read relative to {@code baseDir} (null forbids external data). */
    public static Tensor fromProto(TensorProto p, Path baseDir) {
        return decode(p.toByteArray(), baseDir);
    }

    /** Decodes a serialized TensorProto; external data is read relative to {@code baseDir} (null forbids external data). */
    public static Tensor decode(byte[] bytes, Path baseDir) {
        try {
            return fromWire(OnnxWire.tensor(bytes, OnnxImporter.MAX_PROTO_DEPTH), baseDir);
        } catch (IOException e) {
            throw OnnxrunException.invalidModel("not a valid TensorProto (truncated or corrupted protobuf): " + e.getMessage());
        }
    }

    /**
     * Decodes a tensor read by {@link OnnxWire}. The declared shape is checked against the data
     * present before anything is allocated, so a corrupted dimension cannot trigger a huge allocation.
     */
    static Tensor fromWire(OnnxWire.TensorProto p, Path baseDir) {
        String what = p.name.isEmpty() ? "tensor" : "tensor '" + p.name + "'";
        try {
            if (p.dataType == null || p.dataType == 0) {
                throw OnnxrunException.invalidModel(what + " has no element type");
            }
            DType dtype = DType.fromOnnx(p.dataType);
            long[] shape = p.dims.stream().mapToLong(Long::longValue).toArray();
            long n = Shapes.size(shape);
            if (p.dataLocation == OnnxWire.TensorProto.EXTERNAL) {
                return fromBytes(dtype, shape, n, readExternal(p, baseDir, n * dtype.byteSize()), what);
            }
            if (p.rawData != null) {
                return fromBytes(dtype, shape, n, p.rawData, what);
            }
            return fromTypedFields(p, dtype, shape, n, what);
        } catch (OnnxrunException e) {
            if (e.getMessage().startsWith(what)) throw e;
            throw e.at(what);
        }
    }

    private static Tensor fromBytes(DType dtype, long[] shape, long n, ByteBuffer bytes, String what) {
        if (dtype == DType.STRING) throw OnnxrunException.invalidModel(what + ": string tensors cannot use raw_data");
        long expected = n * dtype.byteSize();
        if (bytes.remaining() != expected) {
            throw OnnxrunException.invalidModel(what + " of " + dtype.onnxName() + Shapes.toString(shape)
                    + " needs " + expected + " bytes of data but has " + bytes.remaining());
        }
        Tensor t = Tensor.allocate(dtype, shape);
        MemorySegment.copy(MemorySegment.ofBuffer(bytes.order(ByteOrder.LITTLE_ENDIAN)), 0, t.segment(), 0, expected);
        return t;
    }

    private static Tensor fromTypedFields(OnnxWire.TensorProto p, DType dtype, long[] shape, long n, String what) {
        int count = switch (dtype) {
            case FLOAT, COMPLEX64 -> p.floatData.size();
            case DOUBLE, COMPLEX128 -> p.doubleData.size();
            case INT64 -> p.int64Data.size();
            case UINT32, UINT64 -> p.uint64Data.size();
            case STRING -> p.stringData.size();
            default -> p.int32Data.size();
        };
        long expected = n * dtype.carrierLanes();
        if (count != expected) {
            throw OnnxrunException.invalidModel(what + " of " + dtype.onnxName() + Shapes.toString(shape)
                    + " needs " + expected + " values but has " + count);
        }
        Tensor t = Tensor.allocate(dtype, shape);
        MemorySegment seg = t.segment();
        for (int i = 0; i < count; i++) {
            switch (dtype) {
                case FLOAT, COMPLEX64 -> seg.setAtIndex(ValueLayout.JAVA_FLOAT, i, p.floatData.get(i));
                case DOUBLE, COMPLEX128 -> seg.setAtIndex(ValueLayout.JAVA_DOUBLE, i, p.doubleData.get(i));
                case INT64 -> t.setLong(i, p.int64Data.get(i));
                case UINT32, UINT64 -> t.setLong(i, p.uint64Data.get(i));
                case STRING -> t.setString(i, p.stringData.get(i).toString(StandardCharsets.UTF_8));
                // float16, bfloat16 and float8 keep their bits in int32_data
                case FLOAT16, BFLOAT16, INT16, UINT16 -> seg.setAtIndex(ValueLayout.JAVA_SHORT, i, (short) (int) p.int32Data.get(i));
                case INT8, UINT8, BOOL, FLOAT8E4M3FN, FLOAT8E4M3FNUZ, FLOAT8E5M2, FLOAT8E5M2FNUZ ->
                        seg.set(ValueLayout.JAVA_BYTE, i, (byte) (int) p.int32Data.get(i));
                default -> t.setLong(i, p.int32Data.get(i));
            }
        }
        return t;
    }

    private static ByteBuffer readExternal(OnnxWire.TensorProto p, Path baseDir, long expectedBytes) {
        String location = null;
        long offset = 0, length = -1;
        for (var e : p.externalData) {
            switch (e.key) {
                case "location" -> location = e.value;
                case "offset" -> offset = parseLong(e.value, "offset");
                case "length" -> length = parseLong(e.value, "length");
                default -> { }
            }
        }
        if (location == null) throw OnnxrunException.invalidModel("external data has no location");
        if (baseDir == null) throw OnnxrunException.invalidModel("external data '" + location + "' but the model was not loaded from a file");
        Path file = baseDir.resolve(location).normalize();
        if (!file.startsWith(baseDir.normalize())) {
            throw OnnxrunException.invalidModel("external data location '" + location + "' is outside the model's folder");
        }
        if (length < 0) length = expectedBytes;
        if (length != expectedBytes) {
            throw OnnxrunException.invalidModel("external data length " + length + " does not match the " + expectedBytes + " bytes the shape needs");
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            if (offset < 0 || offset + length > ch.size()) {
                throw OnnxrunException.invalidModel("external data range " + offset + "+" + length + " is beyond the end of '" + location + "' (" + ch.size() + " bytes)");
            }
            ByteBuffer buf = ByteBuffer.allocate(Math.toIntExact(length));
            while (buf.hasRemaining()) {
                if (ch.read(buf, offset + buf.position()) < 0) break;
            }
            return buf.flip();
        } catch (IOException e) {
            throw OnnxrunException.invalidModel("cannot read external data '" + location + "': " + e.getMessage());
        }
    }

    private static long parseLong(String s, String key) {
        try {
            return Long.parseLong(s.trim());
        } catch (NumberFormatException e) {
            throw OnnxrunException.invalidModel("external data " + key + " '" + s + "' is not a number");
        }
    }

    /** Encodes a tensor with raw little-endian data (typed string_data for strings). */
    public static TensorProto toProto(Tensor t, String name) {
        TensorProto.Builder b = TensorProto.newBuilder().setDataType(t.dtype().onnxCode());
        if (name != null) b.setName(name);
        for (long d : t.shape()) b.addDims(d);
        if (t.dtype() == DType.STRING) {
            for (long i = 0; i < t.size(); i++) b.addStringData(ByteString.copyFromUtf8(t.getString(i)));
        } else {
            byte[] bytes = new byte[Math.toIntExact(t.size() * t.dtype().byteSize())];
            MemorySegment.copy(t.segment(), 0, MemorySegment.ofArray(bytes), 0, bytes.length);
            b.setRawData(ByteString.copyFrom(bytes));
        }
        return b.build();
    }

    /** Reads a serialized TensorProto file ({@code input_0.pb}). */
    public static Tensor read(Path file) {
        try {
            return decode(Files.readAllBytes(file), file.toAbsolutePath().getParent());
        } catch (IOException e) {
            throw OnnxrunException.invalidInput("cannot read tensor file " + file + ": " + e.getMessage());
        }
    }

    public static void write(Tensor t, String name, Path file) throws IOException {
        Files.write(file, toProto(t, name).toByteArray());
    }
}
