package dev.onnxrun.compiler.onnx;

import com.google.protobuf.ByteString;
import dev.onnxrun.compiler.ir.Attribute;
import dev.onnxrun.compiler.ir.Dim;
import dev.onnxrun.compiler.ir.Graph;
import dev.onnxrun.compiler.ir.Model;
import dev.onnxrun.compiler.ir.Node;
import dev.onnxrun.compiler.ir.ValueInfo;
import dev.onnxrun.compiler.ir.ValueType;
import dev.onnxrun.onnx.Onnx;
import dev.onnxrun.runtime.OnnxrunException;
import dev.onnxrun.runtime.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Writes the IR back as an ONNX model: the inverse of {@link OnnxImporter}. Value types known
 * from inference are written as value_info, so other tools see them too. Model-local functions
 * are not written: the importer inlines them, so an exported graph no longer calls them.
 */
public final class OnnxExporter {
    /** The lowest IR version written: ONNX 1.14's, which current runtimes read. */
    private static final long IR_VERSION = 9;

    private OnnxExporter() {}

    public static Onnx.ModelProto toProto(Model m) {
        Onnx.ModelProto.Builder b = Onnx.ModelProto.newBuilder()
                .setIrVersion(Math.max(m.irVersion(), IR_VERSION))
                .setProducerName("onnxrun")
                .setGraph(graph(m.graph()));
        m.opsets().versions().forEach((domain, version) ->
                b.addOpsetImport(Onnx.OperatorSetIdProto.newBuilder().setDomain(domain).setVersion(version)));
        if (usesDomain(m.graph(), dev.onnxrun.compiler.ir.OpsetImports.ONNXRUN_DOMAIN)
                && m.opsets().versions().get(dev.onnxrun.compiler.ir.OpsetImports.ONNXRUN_DOMAIN) == null) {
            b.addOpsetImport(Onnx.OperatorSetIdProto.newBuilder().setDomain(dev.onnxrun.compiler.ir.OpsetImports.ONNXRUN_DOMAIN).setVersion(1));
        }
        m.metadata().forEach((k, v) -> b.addMetadataProps(Onnx.StringStringEntryProto.newBuilder().setKey(k).setValue(v)));
        return b.build();
    }

    /**
     * The model with onnxrun's own ops written back as standard ONNX ops
     * ({@link dev.onnxrun.compiler.autodiff.ExpandAutodiffOps} for the gradient helpers,
     * {@link dev.onnxrun.compiler.passes.ExpandFusedOps} for the rest), so any ONNX runtime can read it.
     */
    public static Onnx.ModelProto toPortableProto(Model m) {
        Graph g = new dev.onnxrun.compiler.autodiff.ExpandAutodiffOps().run(m.graph(), m.opsets());
        return toProto(m.withGraph(new dev.onnxrun.compiler.passes.ExpandFusedOps().run(g, m.opsets())));
    }

    public static void write(Model m, Path file) {
        write(toProto(m), file);
    }

    /** Writes {@link #toPortableProto}. */
    public static void writePortable(Model m, Path file) {
        write(toPortableProto(m), file);
    }

    private static void write(Onnx.ModelProto proto, Path file) {
        try {
            Files.write(file, proto.toByteArray());
        } catch (IOException e) {
            throw OnnxrunException.invalidInput("cannot write " + file + ": " + e.getMessage());
        }
    }

    private static boolean usesDomain(Graph g, String domain) {
        for (Node n : g.nodes()) {
            if (n.domain().equals(domain)) return true;
            for (Attribute a : n.attributes().values()) {
                if (a.value() instanceof Graph body && usesDomain(body, domain)) return true;
            }
        }
        return false;
    }

    static Onnx.GraphProto graph(Graph g) {
        Onnx.GraphProto.Builder b = Onnx.GraphProto.newBuilder().setName(g.name());
        for (ValueInfo v : g.inputs()) b.addInput(valueInfo(v.name(), g.typeOf(v.name())));
        for (ValueInfo v : g.outputs()) b.addOutput(valueInfo(v.name(), g.typeOf(v.name())));
        g.initializers().forEach((name, t) -> b.addInitializer(TensorProtos.toProto(t, name)));
        java.util.Set<String> declared = new java.util.HashSet<>();
        g.inputs().forEach(v -> declared.add(v.name()));
        g.outputs().forEach(v -> declared.add(v.name()));
        declared.addAll(g.initializers().keySet());
        for (Node n : g.nodes()) {
            b.addNode(node(n));
            for (String out : n.outputs()) {
                if (!out.isEmpty() && !declared.contains(out) && !(g.typeOf(out) instanceof ValueType.Unknown)) {
                    b.addValueInfo(valueInfo(out, g.typeOf(out)));
                }
            }
        }
        return b.build();
    }

    static Onnx.NodeProto node(Node n) {
        Onnx.NodeProto.Builder b = Onnx.NodeProto.newBuilder().setName(n.name()).setOpType(n.opType()).setDomain(n.domain())
                .addAllInput(n.inputs()).addAllOutput(n.outputs());
        n.attributes().values().stream().sorted(java.util.Comparator.comparing(Attribute::name)).forEach(a -> b.addAttribute(attribute(a)));
        return b.build();
    }

    @SuppressWarnings("unchecked")
    static Onnx.AttributeProto attribute(Attribute a) {
        Onnx.AttributeProto.Builder b = Onnx.AttributeProto.newBuilder().setName(a.name());
        if (a.refName() != null) return b.setRefAttrName(a.refName()).setType(type(a.kind())).build();
        b.setType(type(a.kind()));
        Object v = a.value();
        switch (a.kind()) {
            case FLOAT -> b.setF((Float) v);
            case INT -> b.setI((Long) v);
            case STRING -> b.setS(ByteString.copyFromUtf8((String) v));
            case TENSOR, SPARSE_TENSOR -> b.setT(TensorProtos.toProto((Tensor) v, null)).setType(Onnx.AttributeProto.AttributeType.TENSOR);
            case GRAPH -> b.setG(graph((Graph) v));
            case FLOATS -> b.addAllFloats((List<Float>) v);
            case INTS -> b.addAllInts((List<Long>) v);
            case STRINGS -> ((List<String>) v).forEach(s -> b.addStrings(ByteString.copyFromUtf8(s)));
            case TENSORS -> ((List<Tensor>) v).forEach(t -> b.addTensors(TensorProtos.toProto(t, null)));
            case GRAPHS -> ((List<Graph>) v).forEach(g -> b.addGraphs(graph(g)));
            case TYPE -> b.setTp(type((ValueType) v));
            case TYPES -> ((List<ValueType>) v).forEach(t -> b.addTypeProtos(type(t)));
        }
        return b.build();
    }

    private static Onnx.AttributeProto.AttributeType type(Attribute.Kind k) {
        return switch (k) {
            case FLOAT -> Onnx.AttributeProto.AttributeType.FLOAT;
            case INT -> Onnx.AttributeProto.AttributeType.INT;
            case STRING -> Onnx.AttributeProto.AttributeType.STRING;
            case TENSOR, SPARSE_TENSOR -> Onnx.AttributeProto.AttributeType.TENSOR;
            case GRAPH -> Onnx.AttributeProto.AttributeType.GRAPH;
            case FLOATS -> Onnx.AttributeProto.AttributeType.FLOATS;
            case INTS -> Onnx.AttributeProto.AttributeType.INTS;
            case STRINGS -> Onnx.AttributeProto.AttributeType.STRINGS;
            case TENSORS -> Onnx.AttributeProto.AttributeType.TENSORS;
            case GRAPHS -> Onnx.AttributeProto.AttributeType.GRAPHS;
            case TYPE -> Onnx.AttributeProto.AttributeType.TYPE_PROTO;
            case TYPES -> Onnx.AttributeProto.AttributeType.TYPE_PROTOS;
        };
    }

    static Onnx.ValueInfoProto valueInfo(String name, ValueType t) {
        Onnx.ValueInfoProto.Builder b = Onnx.ValueInfoProto.newBuilder().setName(name);
        if (!(t instanceof ValueType.Unknown)) b.setType(type(t));
        return b.build();
    }

    static Onnx.TypeProto type(ValueType t) {
        Onnx.TypeProto.Builder b = Onnx.TypeProto.newBuilder();
        switch (t) {
            case ValueType.TensorType tt -> {
                Onnx.TypeProto.Tensor.Builder tb = Onnx.TypeProto.Tensor.newBuilder().setElemType(tt.dtype().onnxCode());
                if (tt.hasRank()) {
                    Onnx.TensorShapeProto.Builder s = Onnx.TensorShapeProto.newBuilder();
                    for (Dim d : tt.dims()) {
                        var dim = Onnx.TensorShapeProto.Dimension.newBuilder();
                        if (d instanceof Dim.Known k) dim.setDimValue(k.size());
                        else if (d instanceof Dim.Symbolic sym) dim.setDimParam(sym.name());
                        s.addDim(dim);
                    }
                    tb.setShape(s);
                }
                b.setTensorType(tb);
            }
            case ValueType.SequenceType s -> b.setSequenceType(Onnx.TypeProto.Sequence.newBuilder().setElemType(type(s.element())));
            case ValueType.OptionalType o -> b.setOptionalType(Onnx.TypeProto.Optional.newBuilder().setElemType(type(o.element())));
            case ValueType.MapType m -> b.setMapType(Onnx.TypeProto.Map.newBuilder().setKeyType(m.key().onnxCode()).setValueType(type(m.value())));
            case ValueType.Unknown u -> { }
        }
        return b.build();
    }
}
