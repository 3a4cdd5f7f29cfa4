package dev.onnxrun.compiler.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.onnxrun.CompiledModel;
import dev.onnxrun.Session;
import dev.onnxrun.compiler.ir.Dim;
import dev.onnxrun.compiler.ir.Graph;
import dev.onnxrun.compiler.ir.Model;
import dev.onnxrun.compiler.ir.ValueType;
import dev.onnxrun.onnx.Onnx;
import dev.onnxrun.runtime.DType;
import dev.onnxrun.runtime.OnnxrunException;
import dev.onnxrun.runtime.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OnnxImporterTest {
    @TempDir
    Path tmp;

    static Onnx.TypeProto tensorType(int elemType, Object... dims) {
        Onnx.TensorShapeProto.Builder s = Onnx.TensorShapeProto.newBuilder();
        for (Object d : dims) {
            var dim = Onnx.TensorShapeProto.Dimension.newBuilder();
            if (d instanceof String name) dim.setDimParam(name);
            else dim.setDimValue(((Number) d).longValue());
            s.addDim(dim);
        }
        return Onnx.TypeProto.newBuilder().setTensorType(Onnx.TypeProto.Tensor.newBuilder().setElemType(elemType).setShape(s)).build();
    }

    /** y = Identity(w) with w an initializer, so running the model returns the initializer. */
    static Onnx.ModelProto returnInitializer(Onnx.TensorProto w) {
        Onnx.GraphProto g = Onnx.GraphProto.newBuilder().setName("g").addInitializer(w)
                .addOutput(Onnx.ValueInfoProto.newBuilder().setName("y"))
                .addNode(Onnx.NodeProto.newBuilder().setOpType("Identity").addInput(w.getName()).addOutput("y"))
                .build();
        return Onnx.ModelProto.newBuilder().setIrVersion(8).setGraph(g)
                .addOpsetImport(Onnx.OperatorSetIdProto.newBuilder().setVersion(17)).build();
    }

    static Tensor runOnce(Model m) {
        try (CompiledModel c = CompiledModel.compile(m, new CompiledModel.Options(1)); Session s = c.newSession()) {
            return s.run(Map.of()).get("y");
        }
    }

    /** A file of 16 MiB or more is mapped rather than read: the same model, and the file is free to go once loaded. */
    @Test
    void aLargeFileIsMappedAndReadAlike() throws Exception {
        float[] values = new float[(17 << 20) / Float.BYTES];
        for (int i = 0; i < values.length; i++) values[i] = i * 0.5f - 7;
        Path file = tmp.resolve("large.onnx");
        Files.write(file, returnInitializer(TensorProtos.toProto(Tensor.of(values, values.length), "w")).toByteArray());
        Model mapped = OnnxImporter.load(file);
        Files.delete(file);
        assertArrayEquals(values, mapped.graph().initializers().get("w").toFloatArray());
        assertArrayEquals(values, runOnce(mapped).toFloatArray());
    }

    @Test
    void typedAndRawFieldsDecodeAlike() {
        Onnx.TensorProto typed = Onnx.TensorProto.newBuilder().setName("w").setDataType(1).addDims(3)
                .addFloatData(1.5f).addFloatData(-2f).addFloatData(3.25f).build();
        ByteBuffer raw = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN).putFloat(1.5f).putFloat(-2f).putFloat(3.25f);
        Onnx.TensorProto rawProto = typed.toBuilder().clearFloatData().setRawData(ByteString.copyFrom(raw.array())).build();
        assertArrayEquals(new float[] {1.5f, -2f, 3.25f}, TensorProtos.fromProto(typed).toFloatArray());
        assertArrayEquals(new float[] {1.5f, -2f, 3.25f}, TensorProtos.fromProto(rawProto).toFloatArray());
    }

    @Test
    void float16BitsLiveInInt32Data() {
        Onnx.TensorProto h = Onnx.TensorProto.newBuilder().setName("h").setDataType(10).addDims(2)
                .addInt32Data(Float.floatToFloat16(0.5f)).addInt32Data(Float.floatToFloat16(-3f)).build();
        Tensor t = TensorProtos.fromProto(h);
        assertEquals(DType.FLOAT16, t.dtype());
        assertArrayEquals(new double[] {0.5, -3}, t.toDoubleArray());
    }

    @Test
    void everyElementTypeSurvivesAProtoRoundTrip() {
        for (DType dt : DType.values()) {
            Tensor x = Tensor.allocate(dt, 2, 2);
            for (int i = 0; i < 4; i++) {
                if (dt == DType.STRING) x.setString(i, "s" + i);
                else x.setDouble(i, dt == DType.BOOL ? i % 2 : i);
            }
            Tensor back = TensorProtos.fromProto(TensorProtos.toProto(x, "x"));
            assertEquals(dt, back.dtype());
            for (int i = 0; i < 4; i++) assertEquals(x.getString(i), back.getString(i), dt + " element " + i);
        }
    }

    @Test
    void rawDataOfTheWrongLengthIsRejectedWithTheTensorName() {
        Onnx.TensorProto bad = Onnx.TensorProto.newBuilder().setName("weights").setDataType(1).addDims(4)
                .setRawData(ByteString.copyFrom(new byte[12])).build();
        OnnxrunException e = assertThrows(OnnxrunException.class, () -> TensorProtos.fromProto(bad));
        assertTrue(e.getMessage().contains("tensor 'weights'") && e.getMessage().contains("16 bytes"), e.getMessage());
    }

    @Test
    void externalDataIsReadFromBesideTheModel() throws Exception {
        ByteBuffer data = ByteBuffer.allocate(8 + 12).order(ByteOrder.LITTLE_ENDIAN);
        data.putLong(0).putFloat(1f).putFloat(2f).putFloat(3f);
        Files.write(tmp.resolve("weights.bin"), data.array());
        Onnx.TensorProto w = Onnx.TensorProto.newBuilder().setName("w").setDataType(1).addDims(3)
                .setDataLocation(Onnx.TensorProto.DataLocation.EXTERNAL)
                .addExternalData(Onnx.StringStringEntryProto.newBuilder().setKey("location").setValue("weights.bin"))
                .addExternalData(Onnx.StringStringEntryProto.newBuilder().setKey("offset").setValue("8"))
                .addExternalData(Onnx.StringStringEntryProto.newBuilder().setKey("length").setValue("12")).build();
        Path model = tmp.resolve("model.onnx");
        Files.write(model, returnInitializer(w).toByteArray());
        assertArrayEquals(new float[] {1, 2, 3}, runOnce(OnnxImporter.load(model)).toFloatArray());
    }

    @Test
    void externalDataOutsideTheModelFolderIsRefused() throws Exception {
        Onnx.TensorProto w = Onnx.TensorProto.newBuilder().setName("w").setDataType(1).addDims(1)
                .setDataLocation(Onnx.TensorProto.DataLocation.EXTERNAL)
                .addExternalData(Onnx.StringStringEntryProto.newBuilder().setKey("location").setValue("../../etc/passwd")).build();
        Path model = tmp.resolve("model.onnx");
        Files.write(model, returnInitializer(w).toByteArray());
        OnnxrunException e = assertThrows(OnnxrunException.class, () -> OnnxImporter.load(model));
        assertTrue(e.getMessage().contains("outside the model's folder"), e.getMessage());
    }

    @Test
    void symbolicDimsAndSubgraphsAreImported() {
        Onnx.GraphProto body = Onnx.GraphProto.newBuilder().setName("then")
                .addOutput(Onnx.ValueInfoProto.newBuilder().setName("t"))
                .addNode(Onnx.NodeProto.newBuilder().setOpType("Identity").addInput("x").addOutput("t")).build();
        Onnx.GraphProto g = Onnx.GraphProto.newBuilder().setName("main")
                .addInput(Onnx.ValueInfoProto.newBuilder().setName("x").setType(tensorType(1, "batch", 3)))
                .addOutput(Onnx.ValueInfoProto.newBuilder().setName("y"))
                .addNode(Onnx.NodeProto.newBuilder().setOpType("If").setName("branch").addInput("c").addOutput("y")
                        .addAttribute(Onnx.AttributeProto.newBuilder().setName("then_branch").setType(Onnx.AttributeProto.AttributeType.GRAPH).setG(body)))
                .build();
        Model m = OnnxImporter.load(Onnx.ModelProto.newBuilder().setIrVersion(8).setGraph(g)
                .addOpsetImport(Onnx.OperatorSetIdProto.newBuilder().setVersion(17)).build().toByteArray());
        ValueType.TensorType x = (ValueType.TensorType) m.graph().inputs().getFirst().type();
        assertEquals(new Dim.Symbolic("batch"), x.dims().get(0));
        assertEquals(Dim.of(3), x.dims().get(1));
        Graph then = m.graph().nodes().getFirst().attrs().requireGraph("then_branch");
        assertEquals("Identity", then.nodes().getFirst().opType());
    }

    @Test
    void modelLocalFunctionsAreInlinedWithAttributeReferences() {
        Onnx.FunctionProto f = Onnx.FunctionProto.newBuilder().setName("Twice").setDomain("my.fns")
                .addInput("a").addOutput("b")
                .addNode(Onnx.NodeProto.newBuilder().setOpType("Identity").addInput("a").addOutput("mid"))
                .addNode(Onnx.NodeProto.newBuilder().setOpType("Identity").addInput("mid").addOutput("b"))
                .addOpsetImport(Onnx.OperatorSetIdProto.newBuilder().setVersion(17)).build();
        Onnx.TensorProto w = TensorProtos.toProto(Tensor.of(new float[] {4, 5}, 2), "w");
        Onnx.GraphProto g = Onnx.GraphProto.newBuilder().setName("g").addInitializer(w)
                .addOutput(Onnx.ValueInfoProto.newBuilder().setName("y"))
                .addNode(Onnx.NodeProto.newBuilder().setName("call").setOpType("Twice").setDomain("my.fns").addInput("w").addOutput("y")).build();
        Onnx.ModelProto m = Onnx.ModelProto.newBuilder().setIrVersion(8).setGraph(g).addFunctions(f)
                .addOpsetImport(Onnx.OperatorSetIdProto.newBuilder().setVersion(17))
                .addOpsetImport(Onnx.OperatorSetIdProto.newBuilder().setDomain("my.fns").setVersion(1)).build();
        assertArrayEquals(new float[] {4, 5}, runOnce(OnnxImporter.load(m.toByteArray())).toFloatArray());
    }

    @Test
    void truncatedBytesAreAnInvalidModel() {
        byte[] full = returnInitializer(TensorProtos.toProto(Tensor.of(new float[] {1, 2, 3}, 3), "w")).toByteArray();
        OnnxrunException e = assertThrows(OnnxrunException.class, () -> OnnxImporter.load(java.util.Arrays.copyOf(full, full.length - 5)));
        assertEquals(OnnxrunException.Kind.INVALID_MODEL, e.kind());
    }

    @Test
    void sequenceAndOptionalTypesAreImported() {
        Onnx.TypeProto seq = Onnx.TypeProto.newBuilder().setSequenceType(Onnx.TypeProto.Sequence.newBuilder().setElemType(tensorType(1, 2))).build();
        assertInstanceOf(ValueType.SequenceType.class, OnnxImporter.type(seq));
    }
}
