package dev.onnxrun.compiler.onnx;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.WireFormat;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Decodes the ONNX messages the importer reads straight from the protobuf wire format, into
 * plain holders named after their messages in onnx.proto (fields it never reads are skipped).
 * The generated classes would do the same, but building their descriptors costs a cold JVM a
 * few hundred milliseconds before the first byte is read; they remain for writing models.
 * Semantics follow protobuf's: unknown fields and fields of an unexpected wire type are skipped,
 * repeated scalars may be packed or not, an unknown enum value reads as the default, and the
 * last of a oneof's fields wins. Nesting deeper than {@code maxDepth} messages is rejected.
 */
final class OnnxWire {
    private static final int VARINT = WireFormat.WIRETYPE_VARINT;
    private static final int FIXED32 = WireFormat.WIRETYPE_FIXED32;
    private static final int FIXED64 = WireFormat.WIRETYPE_FIXED64;
    private static final int LEN = WireFormat.WIRETYPE_LENGTH_DELIMITED;

    static final class ModelProto {
        long irVersion;
        String producerName = "", producerVersion = "";
        final List<OperatorSetIdProto> opsetImport = new ArrayList<>();
        GraphProto graph;
        final List<StringStringEntryProto> metadataProps = new ArrayList<>();
        final List<FunctionProto> functions = new ArrayList<>();
    }

    static final class OperatorSetIdProto {
        String domain = "";
        long version;
    }

    static final class StringStringEntryProto {
        String key = "", value = "";
    }

    static final class GraphProto {
        String name = "";
        final List<NodeProto> node = new ArrayList<>();
        final List<TensorProto> initializer = new ArrayList<>();
        final List<SparseTensorProto> sparseInitializer = new ArrayList<>();
        final List<ValueInfoProto> input = new ArrayList<>(), output = new ArrayList<>(), valueInfo = new ArrayList<>();
    }

    static final class NodeProto {
        String name = "", opType = "", domain = "";
        final List<String> input = new ArrayList<>(), output = new ArrayList<>();
        final List<AttributeProto> attribute = new ArrayList<>();
    }

    static final class AttributeProto {
        /** AttributeType values of onnx.proto. */
        static final int FLOAT = 1, INT = 2, STRING = 3, TENSOR = 4, GRAPH = 5, FLOATS = 6, INTS = 7, STRINGS = 8, TENSORS = 9,
                GRAPHS = 10, SPARSE_TENSOR = 11, SPARSE_TENSORS = 12, TYPE_PROTO = 13, TYPE_PROTOS = 14;

        String name = "", refAttrName = "";
        /** 0 (UNDEFINED) when absent or not a known AttributeType. */
        int type;
        Float f;
        Long i;
        ByteString s;
        TensorProto t;
        GraphProto g;
        SparseTensorProto sparseTensor;
        TypeProto tp;
        final List<Float> floats = new ArrayList<>();
        final List<Long> ints = new ArrayList<>();
        final List<ByteString> strings = new ArrayList<>();
        final List<TensorProto> tensors = new ArrayList<>();
        final List<GraphProto> graphs = new ArrayList<>();
        final List<TypeProto> typeProtos = new ArrayList<>();
    }

    static final class TensorProto {
        /** The DataLocation value for data in another file. */
        static final int EXTERNAL = 1;

        final List<Long> dims = new ArrayList<>();
        /** Null when absent. */
        Integer dataType;
        String name = "";
        /** A view of the model's bytes, not a copy; null when absent. */
        ByteBuffer rawData;
        final List<Float> floatData = new ArrayList<>();
        final List<Integer> int32Data = new ArrayList<>();
        final List<ByteString> stringData = new ArrayList<>();
        final List<Long> int64Data = new ArrayList<>();
        final List<Double> doubleData = new ArrayList<>();
        final List<Long> uint64Data = new ArrayList<>();
        final List<StringStringEntryProto> externalData = new ArrayList<>();
        int dataLocation;
    }

    static final class SparseTensorProto {
        TensorProto values = new TensorProto(), indices = new TensorProto();
        final List<Long> dims = new ArrayList<>();
    }

    static final class ValueInfoProto {
        String name = "";
        /** Null when absent. */
        TypeProto type;
    }

    /**
     * TypeProto with its oneof flattened: {@link #valueCase} is the field number of the value
     * set (0 for none), with the element type and shape of a tensor or sparse tensor, the
     * element of a sequence or optional, or the key and value types of a map.
     */
    static final class TypeProto {
        static final int TENSOR_TYPE = 1, SEQUENCE_TYPE = 4, MAP_TYPE = 5, OPAQUE_TYPE = 7, SPARSE_TENSOR_TYPE = 8, OPTIONAL_TYPE = 9;

        int valueCase;
        int elemType, keyType;
        /** The dimensions of a tensor type, null when it has no shape. */
        List<Dimension> shape;
        TypeProto elem;
    }

    /** One dimension: a value, a parameter name (the oneof keeps the last one read), or neither. */
    static final class Dimension {
        Long dimValue;
        String dimParam;
    }

    private final CodedInputStream in;
    private final int maxDepth;
    private int depth;

    private OnnxWire(byte[] bytes, int maxDepth) {
        this(CodedInputStream.newInstance(bytes), maxDepth);
    }

    private OnnxWire(CodedInputStream in, int maxDepth) {
        this.in = in;
        in.enableAliasing(true); // raw tensor data stays a view of the file's bytes until converted, not a second copy
        this.maxDepth = maxDepth;
    }

    static ModelProto model(byte[] bytes, int maxDepth) throws IOException {
        return model(new OnnxWire(bytes, maxDepth));
    }

    /** The model in {@code bytes}; its raw tensor data are views of them, valid as long as they are. */
    static ModelProto model(ByteBuffer bytes, int maxDepth) throws IOException {
        return model(new OnnxWire(CodedInputStream.newInstance(bytes), maxDepth));
    }

    private static ModelProto model(OnnxWire w) throws IOException {
        ModelProto m = new ModelProto();
        w.fields(tag -> w.model(tag, m));
        return m;
    }

    static TensorProto tensor(byte[] bytes, int maxDepth) throws IOException {
        OnnxWire w = new OnnxWire(bytes, maxDepth);
        TensorProto t = new TensorProto();
        w.fields(tag -> w.tensor(tag, t));
        return t;
    }

    static TypeProto type(byte[] bytes, int maxDepth) throws IOException {
        OnnxWire w = new OnnxWire(bytes, maxDepth);
        TypeProto t = new TypeProto();
        w.fields(tag -> w.type(tag, t));
        return t;
    }

    /** Reads one field of a message, given its tag; false when the field is not one it reads. */
    @FunctionalInterface
    private interface FieldReader {
        boolean read(int tag) throws IOException;
    }

    /** Reads fields until the current limit, skipping those {@code reader} does not take. */
    private void fields(FieldReader reader) throws IOException {
        for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
            if (!reader.read(tag) && !in.skipField(tag)) throw new InvalidProtocolBufferException("unexpected end-group tag");
        }
    }

    /** Reads a length-delimited sub-message with {@code reader}. */
    private <T> T message(T into, FieldReader reader) throws IOException {
        if (++depth > maxDepth) throw new InvalidProtocolBufferException("messages nest more than " + maxDepth + " deep");
        int limit = in.pushLimit(in.readRawVarint32());
        fields(reader);
        in.popLimit(limit);
        depth--;
        return into;
    }

    private boolean model(int tag, ModelProto m) throws IOException {
        switch (tag) {
            case 1 << 3 | VARINT -> m.irVersion = in.readInt64();
            case 2 << 3 | LEN -> m.producerName = in.readString();
            case 3 << 3 | LEN -> m.producerVersion = in.readString();
            case 7 << 3 | LEN -> m.graph = graph();
            case 8 << 3 | LEN -> m.opsetImport.add(operatorSetId());
            case 14 << 3 | LEN -> m.metadataProps.add(stringPair());
            case 25 << 3 | LEN -> m.functions.add(function());
            default -> { return false; }
        }
        return true;
    }

    private OperatorSetIdProto operatorSetId() throws IOException {
        OperatorSetIdProto o = new OperatorSetIdProto();
        return message(o, tag -> {
            switch (tag) {
                case 1 << 3 | LEN -> o.domain = in.readString();
                case 2 << 3 | VARINT -> o.version = in.readInt64();
                default -> { return false; }
            }
            return true;
        });
    }

    private StringStringEntryProto stringPair() throws IOException {
        StringStringEntryProto e = new StringStringEntryProto();
        return message(e, tag -> {
            switch (tag) {
                case 1 << 3 | LEN -> e.key = in.readString();
                case 2 << 3 | LEN -> e.value = in.readString();
                default -> { return false; }
            }
            return true;
        });
    }

    private FunctionProto function() throws IOException {
        FunctionProto f = new FunctionProto();
        return message(f, tag -> {
            switch (tag) {
                case 1 << 3 | LEN -> f.name = in.readString();
                case 4 << 3 | LEN -> f.input.add(in.readString());
                case 5 << 3 | LEN -> f.output.add(in.readString());
                case 6 << 3 | LEN -> f.attribute.add(in.readString());
                case 7 << 3 | LEN -> f.node.add(node());
                case 9 << 3 | LEN -> f.opsetImport.add(operatorSetId());
                case 10 << 3 | LEN -> f.domain = in.readString();
                case 11 << 3 | LEN -> f.attributeProto.add(attribute());
                default -> { return false; }
            }
            return true;
        });
    }

    static final class FunctionProto {
        String name = "", domain = "";
        final List<String> input = new ArrayList<>(), output = new ArrayList<>(), attribute = new ArrayList<>();
        final List<AttributeProto> attributeProto = new ArrayList<>();
        final List<NodeProto> node = new ArrayList<>();
        final List<OperatorSetIdProto> opsetImport = new ArrayList<>();
    }

    private GraphProto graph() throws IOException {
        GraphProto g = new GraphProto();
        return message(g, tag -> {
            switch (tag) {
                case 1 << 3 | LEN -> g.node.add(node());
                case 2 << 3 | LEN -> g.name = in.readString();
                case 5 << 3 | LEN -> g.initializer.add(tensor());
                case 11 << 3 | LEN -> g.input.add(valueInfo());
                case 12 << 3 | LEN -> g.output.add(valueInfo());
                case 13 << 3 | LEN -> g.valueInfo.add(valueInfo());
                case 15 << 3 | LEN -> g.sparseInitializer.add(sparseTensor());
                default -> { return false; }
            }
            return true;
        });
    }

    private NodeProto node() throws IOException {
        NodeProto n = new NodeProto();
        return message(n, tag -> {
            switch (tag) {
                case 1 << 3 | LEN -> n.input.add(in.readString());
                case 2 << 3 | LEN -> n.output.add(in.readString());
                case 3 << 3 | LEN -> n.name = in.readString();
                case 4 << 3 | LEN -> n.opType = in.readString();
                case 5 << 3 | LEN -> n.attribute.add(attribute());
                case 7 << 3 | LEN -> n.domain = in.readString();
                default -> { return false; }
            }
            return true;
        });
    }

    private AttributeProto attribute() throws IOException {
        AttributeProto a = new AttributeProto();
        return message(a, tag -> {
            switch (tag) {
                case 1 << 3 | LEN -> a.name = in.readString();
                case 2 << 3 | FIXED32 -> a.f = in.readFloat();
                case 3 << 3 | VARINT -> a.i = in.readInt64();
                case 4 << 3 | LEN -> a.s = in.readBytes();
                case 5 << 3 | LEN -> a.t = tensor();
                case 6 << 3 | LEN -> a.g = graph();
                case 7 << 3 | FIXED32 -> a.floats.add(in.readFloat());
                case 7 << 3 | LEN -> packed(() -> a.floats.add(in.readFloat()));
                case 8 << 3 | VARINT -> a.ints.add(in.readInt64());
                case 8 << 3 | LEN -> packed(() -> a.ints.add(in.readInt64()));
                case 9 << 3 | LEN -> a.strings.add(in.readBytes());
                case 10 << 3 | LEN -> a.tensors.add(tensor());
                case 11 << 3 | LEN -> a.graphs.add(graph());
                case 14 << 3 | LEN -> a.tp = typeProto();
                case 15 << 3 | LEN -> a.typeProtos.add(typeProto());
                case 20 << 3 | VARINT -> {
                    int type = in.readEnum();
                    a.type = type >= AttributeProto.FLOAT && type <= AttributeProto.TYPE_PROTOS ? type : 0;
                }
                case 21 << 3 | LEN -> a.refAttrName = in.readString();
                case 22 << 3 | LEN -> a.sparseTensor = sparseTensor();
                default -> { return false; }
            }
            return true;
        });
    }

    private TensorProto tensor() throws IOException {
        TensorProto t = new TensorProto();
        return message(t, tag -> tensor(tag, t));
    }

    private boolean tensor(int tag, TensorProto t) throws IOException {
        switch (tag) {
            case 1 << 3 | VARINT -> t.dims.add(in.readInt64());
            case 1 << 3 | LEN -> packed(() -> t.dims.add(in.readInt64()));
            case 2 << 3 | VARINT -> t.dataType = in.readInt32();
            case 4 << 3 | FIXED32 -> t.floatData.add(in.readFloat());
            case 4 << 3 | LEN -> packed(() -> t.floatData.add(in.readFloat()));
            case 5 << 3 | VARINT -> t.int32Data.add(in.readInt32());
            case 5 << 3 | LEN -> packed(() -> t.int32Data.add(in.readInt32()));
            case 6 << 3 | LEN -> t.stringData.add(in.readBytes());
            case 7 << 3 | VARINT -> t.int64Data.add(in.readInt64());
            case 7 << 3 | LEN -> packed(() -> t.int64Data.add(in.readInt64()));
            case 8 << 3 | LEN -> t.name = in.readString();
            case 9 << 3 | LEN -> t.rawData = in.readByteBuffer();
            case 10 << 3 | FIXED64 -> t.doubleData.add(in.readDouble());
            case 10 << 3 | LEN -> packed(() -> t.doubleData.add(in.readDouble()));
            case 11 << 3 | VARINT -> t.uint64Data.add(in.readUInt64());
            case 11 << 3 | LEN -> packed(() -> t.uint64Data.add(in.readUInt64()));
            case 13 << 3 | LEN -> t.externalData.add(stringPair());
            case 14 << 3 | VARINT -> {
                int location = in.readEnum();
                t.dataLocation = location == TensorProto.EXTERNAL ? location : 0;
            }
            default -> { return false; }
        }
        return true;
    }

    private SparseTensorProto sparseTensor() throws IOException {
        SparseTensorProto s = new SparseTensorProto();
        return message(s, tag -> {
            switch (tag) {
                case 1 << 3 | LEN -> s.values = tensor();
                case 2 << 3 | LEN -> s.indices = tensor();
                case 3 << 3 | VARINT -> s.dims.add(in.readInt64());
                case 3 << 3 | LEN -> packed(() -> s.dims.add(in.readInt64()));
                default -> { return false; }
            }
            return true;
        });
    }

    private ValueInfoProto valueInfo() throws IOException {
        ValueInfoProto v = new ValueInfoProto();
        return message(v, tag -> {
            switch (tag) {
                case 1 << 3 | LEN -> v.name = in.readString();
                case 2 << 3 | LEN -> v.type = typeProto();
                default -> { return false; }
            }
            return true;
        });
    }

    private TypeProto typeProto() throws IOException {
        TypeProto t = new TypeProto();
        return message(t, tag -> type(tag, t));
    }

    private boolean type(int tag, TypeProto t) throws IOException {
        if ((tag & 7) != LEN) return false;
        int field = tag >>> 3;
        switch (field) {
            case TypeProto.TENSOR_TYPE, TypeProto.SPARSE_TENSOR_TYPE, TypeProto.SEQUENCE_TYPE, TypeProto.OPTIONAL_TYPE, TypeProto.MAP_TYPE,
                 TypeProto.OPAQUE_TYPE -> {
                // a oneof: this value replaces whichever came before
                TypeProto value = new TypeProto();
                value.valueCase = field;
                message(value, inner -> typeValue(field, inner, value));
                t.valueCase = value.valueCase;
                t.elemType = value.elemType;
                t.keyType = value.keyType;
                t.shape = value.shape;
                t.elem = value.elem;
            }
            default -> { return false; }
        }
        return true;
    }

    /** One field inside TypeProto's Tensor, SparseTensor, Sequence, Optional, Map or Opaque message. */
    private boolean typeValue(int valueCase, int tag, TypeProto t) throws IOException {
        boolean tensorLike = valueCase == TypeProto.TENSOR_TYPE || valueCase == TypeProto.SPARSE_TENSOR_TYPE;
        boolean wrapper = valueCase == TypeProto.SEQUENCE_TYPE || valueCase == TypeProto.OPTIONAL_TYPE;
        if (tensorLike && tag == (1 << 3 | VARINT)) t.elemType = in.readInt32();
        else if (tensorLike && tag == (2 << 3 | LEN)) t.shape = tensorShape();
        else if (wrapper && tag == (1 << 3 | LEN)) t.elem = typeProto();
        else if (valueCase == TypeProto.MAP_TYPE && tag == (1 << 3 | VARINT)) t.keyType = in.readInt32();
        else if (valueCase == TypeProto.MAP_TYPE && tag == (2 << 3 | LEN)) t.elem = typeProto();
        else return false;
        return true;
    }

    private List<Dimension> tensorShape() throws IOException {
        List<Dimension> dims = new ArrayList<>();
        return message(dims, tag -> {
            if (tag != (1 << 3 | LEN)) return false;
            dims.add(dimension());
            return true;
        });
    }

    private Dimension dimension() throws IOException {
        Dimension d = new Dimension();
        return message(d, tag -> {
            switch (tag) {
                // dim_value and dim_param are a oneof: the last one read wins
                case 1 << 3 | VARINT -> {
                    d.dimValue = in.readInt64();
                    d.dimParam = null;
                }
                case 2 << 3 | LEN -> {
                    d.dimParam = in.readString();
                    d.dimValue = null;
                }
                default -> { return false; }
            }
            return true;
        });
    }

    /** Reads values until the end of a packed field's bytes. */
    private void packed(ValueReader value) throws IOException {
        int limit = in.pushLimit(in.readRawVarint32());
        while (in.getBytesUntilLimit() > 0) value.read();
        in.popLimit(limit);
    }

    @FunctionalInterface
    private interface ValueReader {
        void read() throws IOException;
    }
}
