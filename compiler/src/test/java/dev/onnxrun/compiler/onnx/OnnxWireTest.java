package dev.onnxrun.compiler.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.WireFormat;
import dev.onnxrun.onnx.Onnx;
import dev.onnxrun.runtime.OnnxrunException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** {@link OnnxWire} against protobuf's generated parser, the reference it replaces on the import path. */
class OnnxWireTest {
    private static final int DEPTH = OnnxImporter.MAX_PROTO_DEPTH;

    @Test
    void readsEveryTestModelAsProtobufDoes() throws IOException {
        List<Path> models = new ArrayList<>();
        for (Path dir : List.of(Path.of("/usr/share/libonnx-testdata/data/node"), Path.of("../testmodels/cases"))) {
            if (!Files.isDirectory(dir)) continue;
            try (Stream<Path> s = Files.list(dir)) {
                s.map(d -> d.resolve("model.onnx")).filter(Files::isRegularFile).forEach(models::add);
            }
        }
        assertTrue(models.size() >= 10, "test models found: " + models.size());
        for (Path m : models) {
            byte[] bytes = Files.readAllBytes(m);
            assertEquals(Reference.model(Onnx.ModelProto.parseFrom(bytes)), Wire.model(OnnxWire.model(bytes, DEPTH)), m.toString());
        }
    }

    @Test
    void unpackedRepeatedScalarsReadLikePackedOnes() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        CodedOutputStream out = CodedOutputStream.newInstance(bytes);
        out.writeInt32(2, 1); // data_type FLOAT
        out.writeInt64(1, 3); // dims, unpacked
        for (float f : new float[] {1.5f, -2f, 3.25f}) out.writeFloat(4, f); // float_data, unpacked although declared packed
        out.flush();
        byte[] b = bytes.toByteArray();
        assertEquals(Reference.tensor(Onnx.TensorProto.parseFrom(b)), Wire.tensor(OnnxWire.tensor(b, DEPTH)));
        assertEquals(List.of(1.5f, -2f, 3.25f), OnnxWire.tensor(b, DEPTH).floatData);
    }

    @Test
    void theLastFieldOfAOneofWins() throws IOException {
        ByteArrayOutputStream dim = new ByteArrayOutputStream();
        CodedOutputStream d = CodedOutputStream.newInstance(dim);
        d.writeInt64(1, 7); // dim_value, then
        d.writeString(2, "N"); // dim_param replaces it
        d.flush();
        Onnx.TypeProto type = Onnx.TypeProto.newBuilder().setTensorType(Onnx.TypeProto.Tensor.newBuilder().setElemType(1)
                .setShape(Onnx.TensorShapeProto.newBuilder().addDim(Onnx.TensorShapeProto.Dimension.parseFrom(dim.toByteArray())))).build();
        // a sequence type after the tensor type replaces it too
        byte[] b = type.toBuilder().setSequenceType(Onnx.TypeProto.Sequence.newBuilder().setElemType(type)).build().toByteArray();
        byte[] both = concat(type.toByteArray(), b);
        assertEquals(Reference.type(Onnx.TypeProto.parseFrom(both)), Wire.type(OnnxWire.type(both, DEPTH)));
        assertEquals("N", OnnxWire.type(type.toByteArray(), DEPTH).shape.getFirst().dimParam);
    }

    @Test
    void unknownFieldsAreSkipped() throws IOException {
        Onnx.TensorProto t = Onnx.TensorProto.newBuilder().setDataType(7).addDims(2).addInt64Data(4).addInt64Data(-5).setName("t").build();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        CodedOutputStream out = CodedOutputStream.newInstance(bytes);
        out.writeString(99, "from a newer onnx.proto");
        out.writeTag(98, WireFormat.WIRETYPE_START_GROUP);
        out.writeInt32(1, 5);
        out.writeTag(98, WireFormat.WIRETYPE_END_GROUP);
        out.writeFixed64(97, 1);
        out.writeFloat(2, 1f); // data_type with the wrong wire type: protobuf keeps it as an unknown field
        out.flush();
        byte[] b = concat(t.toByteArray(), bytes.toByteArray());
        assertEquals(Reference.tensor(Onnx.TensorProto.parseFrom(b)), Wire.tensor(OnnxWire.tensor(b, DEPTH)));
    }

    @Test
    void nestingBeyondTheLimitIsAnInvalidModel() {
        Onnx.GraphProto g = Onnx.GraphProto.newBuilder().setName("leaf").build();
        for (int i = 0; i < DEPTH; i++) {
            Onnx.AttributeProto body = Onnx.AttributeProto.newBuilder().setName("body").setType(Onnx.AttributeProto.AttributeType.GRAPH).setG(g).build();
            g = Onnx.GraphProto.newBuilder().setName("g" + i).addNode(Onnx.NodeProto.newBuilder().setOpType("Loop").addAttribute(body)).build();
        }
        byte[] model = Onnx.ModelProto.newBuilder().setGraph(g).build().toByteArray();
        OnnxrunException e = assertThrows(OnnxrunException.class, () -> OnnxImporter.load(model));
        assertEquals(OnnxrunException.Kind.INVALID_MODEL, e.kind());
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = new byte[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /** A text summary of every field the importer reads, from protobuf's generated messages. */
    private static final class Reference {
        static String model(Onnx.ModelProto m) {
            return "ir " + m.getIrVersion() + " producer " + m.getProducerName() + " " + m.getProducerVersion()
                    + " opsets " + m.getOpsetImportList().stream().map(o -> o.getDomain() + ":" + o.getVersion()).toList()
                    + " meta " + m.getMetadataPropsList().stream().map(e -> e.getKey() + "=" + e.getValue()).toList()
                    + " graph " + (m.hasGraph() ? graph(m.getGraph()) : "none")
                    + " functions " + m.getFunctionsList().stream().map(f -> f.getDomain() + "." + f.getName() + f.getInputList() + f.getOutputList()
                    + f.getAttributeList() + f.getAttributeProtoList().stream().map(Reference::attribute).toList()
                    + f.getNodeList().stream().map(Reference::node).toList()
                    + f.getOpsetImportList().stream().map(o -> o.getDomain() + ":" + o.getVersion()).toList()).toList();
        }

        static String graph(Onnx.GraphProto g) {
            return "{" + g.getName() + " nodes " + g.getNodeList().stream().map(Reference::node).toList()
                    + " init " + g.getInitializerList().stream().map(Reference::tensor).toList()
                    + " sparse " + g.getSparseInitializerList().stream().map(s -> tensor(s.getValues()) + tensor(s.getIndices()) + s.getDimsList()).toList()
                    + " in " + g.getInputList().stream().map(Reference::valueInfo).toList()
                    + " out " + g.getOutputList().stream().map(Reference::valueInfo).toList()
                    + " info " + g.getValueInfoList().stream().map(Reference::valueInfo).toList() + "}";
        }

        static String node(Onnx.NodeProto n) {
            return n.getDomain() + "." + n.getOpType() + " " + n.getName() + n.getInputList() + n.getOutputList()
                    + n.getAttributeList().stream().map(Reference::attribute).toList();
        }

        static String attribute(Onnx.AttributeProto a) {
            return a.getName() + "@" + a.getRefAttrName() + ":" + a.getType().getNumber()
                    + (a.hasF() ? " f " + a.getF() : "") + (a.hasI() ? " i " + a.getI() : "") + (a.hasS() ? " s " + a.getS().toStringUtf8() : "")
                    + (a.hasT() ? " t " + tensor(a.getT()) : "") + (a.hasG() ? " g " + graph(a.getG()) : "")
                    + (a.hasTp() ? " tp " + type(a.getTp()) : "") + (a.hasSparseTensor() ? " sparse " + tensor(a.getSparseTensor().getValues()) : "")
                    + " floats " + a.getFloatsList() + " ints " + a.getIntsList()
                    + " strings " + a.getStringsList().stream().map(ByteString::toStringUtf8).toList()
                    + " tensors " + a.getTensorsList().stream().map(Reference::tensor).toList()
                    + " graphs " + a.getGraphsList().stream().map(Reference::graph).toList()
                    + " types " + a.getTypeProtosList().stream().map(Reference::type).toList();
        }

        static String tensor(Onnx.TensorProto t) {
            return t.getName() + ":" + (t.hasDataType() ? t.getDataType() : "none") + t.getDimsList() + " loc " + t.getDataLocation().getNumber()
                    + " raw " + (t.hasRawData() ? t.getRawData().hashCode() : "none") + " f " + t.getFloatDataList() + " i32 " + t.getInt32DataList()
                    + " s " + t.getStringDataList().stream().map(ByteString::toStringUtf8).toList() + " i64 " + t.getInt64DataList()
                    + " d " + t.getDoubleDataList() + " u64 " + t.getUint64DataList()
                    + " ext " + t.getExternalDataList().stream().map(e -> e.getKey() + "=" + e.getValue()).toList();
        }

        static String valueInfo(Onnx.ValueInfoProto v) {
            return v.getName() + ":" + (v.hasType() ? type(v.getType()) : "none");
        }

        static String type(Onnx.TypeProto t) {
            return switch (t.getValueCase()) {
                case TENSOR_TYPE -> "tensor " + t.getTensorType().getElemType() + (t.getTensorType().hasShape() ? shape(t.getTensorType().getShape()) : "?");
                case SPARSE_TENSOR_TYPE -> "sparse " + t.getSparseTensorType().getElemType()
                        + (t.getSparseTensorType().hasShape() ? shape(t.getSparseTensorType().getShape()) : "?");
                case SEQUENCE_TYPE -> "seq(" + type(t.getSequenceType().getElemType()) + ")";
                case OPTIONAL_TYPE -> "opt(" + type(t.getOptionalType().getElemType()) + ")";
                case MAP_TYPE -> "map(" + t.getMapType().getKeyType() + "," + type(t.getMapType().getValueType()) + ")";
                case OPAQUE_TYPE -> "opaque";
                case VALUE_NOT_SET -> "unset";
            };
        }

        static String shape(Onnx.TensorShapeProto s) {
            return s.getDimList().stream().map(d -> d.hasDimValue() ? Long.toString(d.getDimValue()) : d.hasDimParam() ? "'" + d.getDimParam() + "'" : "_")
                    .collect(Collectors.joining(",", "[", "]"));
        }
    }

    /** The same summary from {@link OnnxWire}'s holders. */
    private static final class Wire {
        static String model(OnnxWire.ModelProto m) {
            return "ir " + m.irVersion + " producer " + m.producerName + " " + m.producerVersion
                    + " opsets " + m.opsetImport.stream().map(o -> o.domain + ":" + o.version).toList()
                    + " meta " + m.metadataProps.stream().map(e -> e.key + "=" + e.value).toList()
                    + " graph " + (m.graph != null ? graph(m.graph) : "none")
                    + " functions " + m.functions.stream().map(f -> f.domain + "." + f.name + f.input + f.output
                    + f.attribute + f.attributeProto.stream().map(Wire::attribute).toList()
                    + f.node.stream().map(Wire::node).toList()
                    + f.opsetImport.stream().map(o -> o.domain + ":" + o.version).toList()).toList();
        }

        static String graph(OnnxWire.GraphProto g) {
            return "{" + g.name + " nodes " + g.node.stream().map(Wire::node).toList()
                    + " init " + g.initializer.stream().map(Wire::tensor).toList()
                    + " sparse " + g.sparseInitializer.stream().map(s -> tensor(s.values) + tensor(s.indices) + s.dims).toList()
                    + " in " + g.input.stream().map(Wire::valueInfo).toList()
                    + " out " + g.output.stream().map(Wire::valueInfo).toList()
                    + " info " + g.valueInfo.stream().map(Wire::valueInfo).toList() + "}";
        }

        static String node(OnnxWire.NodeProto n) {
            return n.domain + "." + n.opType + " " + n.name + n.input + n.output + n.attribute.stream().map(Wire::attribute).toList();
        }

        static String attribute(OnnxWire.AttributeProto a) {
            return a.name + "@" + a.refAttrName + ":" + a.type
                    + (a.f != null ? " f " + a.f : "") + (a.i != null ? " i " + a.i : "") + (a.s != null ? " s " + a.s.toStringUtf8() : "")
                    + (a.t != null ? " t " + tensor(a.t) : "") + (a.g != null ? " g " + graph(a.g) : "")
                    + (a.tp != null ? " tp " + type(a.tp) : "") + (a.sparseTensor != null ? " sparse " + tensor(a.sparseTensor.values) : "")
                    + " floats " + a.floats + " ints " + a.ints
                    + " strings " + a.strings.stream().map(ByteString::toStringUtf8).toList()
                    + " tensors " + a.tensors.stream().map(Wire::tensor).toList()
                    + " graphs " + a.graphs.stream().map(Wire::graph).toList()
                    + " types " + a.typeProtos.stream().map(Wire::type).toList();
        }

        static String tensor(OnnxWire.TensorProto t) {
            return t.name + ":" + (t.dataType != null ? t.dataType : "none") + t.dims + " loc " + t.dataLocation
                    + " raw " + (t.rawData != null ? ByteString.copyFrom(t.rawData.duplicate()).hashCode() : "none") + " f " + t.floatData
                    + " i32 " + t.int32Data + " s " + t.stringData.stream().map(ByteString::toStringUtf8).toList() + " i64 " + t.int64Data
                    + " d " + t.doubleData + " u64 " + t.uint64Data
                    + " ext " + t.externalData.stream().map(e -> e.key + "=" + e.value).toList();
        }

        static String valueInfo(OnnxWire.ValueInfoProto v) {
            return v.name + ":" + (v.type != null ? type(v.type) : "none");
        }

        static String type(OnnxWire.TypeProto t) {
            OnnxWire.TypeProto elem = t.elem == null ? new OnnxWire.TypeProto() : t.elem;
            return switch (t.valueCase) {
                case OnnxWire.TypeProto.TENSOR_TYPE -> "tensor " + t.elemType + (t.shape != null ? shape(t.shape) : "?");
                case OnnxWire.TypeProto.SPARSE_TENSOR_TYPE -> "sparse " + t.elemType + (t.shape != null ? shape(t.shape) : "?");
                case OnnxWire.TypeProto.SEQUENCE_TYPE -> "seq(" + type(elem) + ")";
                case OnnxWire.TypeProto.OPTIONAL_TYPE -> "opt(" + type(elem) + ")";
                case OnnxWire.TypeProto.MAP_TYPE -> "map(" + t.keyType + "," + type(elem) + ")";
                case OnnxWire.TypeProto.OPAQUE_TYPE -> "opaque";
                default -> "unset";
            };
        }

        static String shape(List<OnnxWire.Dimension> dims) {
            return dims.stream().map(d -> d.dimValue != null ? Long.toString(d.dimValue) : d.dimParam != null ? "'" + d.dimParam + "'" : "_")
                    .collect(Collectors.joining(",", "[", "]"));
        }
    }
}
