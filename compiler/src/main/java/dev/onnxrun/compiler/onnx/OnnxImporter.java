package dev.onnxrun.compiler.onnx;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.onnxrun.compiler.ir.Attribute;
import dev.onnxrun.compiler.ir.Dim;
import dev.onnxrun.compiler.ir.FunctionDef;
import dev.onnxrun.compiler.ir.Graph;
import dev.onnxrun.compiler.ir.Model;
import dev.onnxrun.compiler.ir.Node;
import dev.onnxrun.compiler.ir.OpsetImports;
import dev.onnxrun.compiler.ir.ValueInfo;
import dev.onnxrun.compiler.ir.ValueType;
import dev.onnxrun.onnx.Onnx;
import dev.onnxrun.runtime.DType;
import dev.onnxrun.runtime.OnnxrunException;
import dev.onnxrun.runtime.Shapes;
import dev.onnxrun.runtime.Tensor;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads ONNX protobuf into the IR. Every element type, raw and typed initializers, external
 * data next to the model, subgraph attributes, model-local functions and symbolic dimensions.
 * Anything malformed becomes an {@link OnnxrunException} of kind INVALID_MODEL.
 */
public final class OnnxImporter {
    /** Protobuf's own nesting guard; deeper models are rejected rather than overflowing the stack. */
    private static final int MAX_PROTO_DEPTH = 400;

    private final Path baseDir;

    private OnnxImporter(Path baseDir) { this.baseDir = baseDir; }

    public static Model load(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw OnnxrunException.invalidModel("no such file: " + file);
        } catch (IOException e) {
            throw OnnxrunException.invalidModel("cannot read " + file + ": " + e.getMessage());
        }
        Path dir = file.toAbsolutePath().getParent();
        try {
            return new OnnxImporter(dir).model(parse(bytes));
        } catch (OnnxrunException e) {
            throw e.at(file.getFileName().toString());
        }
    }

    /** Loads from memory; external data is then not allowed. */
    public static Model load(byte[] bytes) {
        return new OnnxImporter(null).model(parse(bytes));
    }

    public static Model load(InputStream in) throws IOException {
        return load(in.readAllBytes());
    }

    private static Onnx.ModelProto parse(byte[] bytes) {
        try {
            CodedInputStream in = CodedInputStream.newInstance(bytes);
            in.setRecursionLimit(MAX_PROTO_DEPTH);
            in.enableAliasing(true); // raw tensor data stays a view of the file's bytes until converted, not a second copy
            Onnx.ModelProto m = Onnx.ModelProto.parseFrom(in);
            in.checkLastTagWas(0);
            if (!m.hasGraph()) throw OnnxrunException.invalidModel("not an ONNX model: no graph (truncated or not a model file?)");
            return m;
        } catch (InvalidProtocolBufferException e) {
            throw OnnxrunException.invalidModel("not a valid ONNX model (truncated or corrupted protobuf): " + firstLine(e.getMessage()));
        } catch (IOException e) {
            throw OnnxrunException.invalidModel("cannot parse model: " + firstLine(e.getMessage()));
        }
    }

    private static String firstLine(String s) {
        if (s == null) return "";
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    private Model model(Onnx.ModelProto m) {
        Map<String, Integer> versions = new LinkedHashMap<>();
        for (Onnx.OperatorSetIdProto o : m.getOpsetImportList()) {
            versions.put(o.getDomain(), (int) o.getVersion());
        }
        // IR versions before 3 had no opset_import: those models used opset 1.
        if (versions.isEmpty()) versions.put("", 1);
        OpsetImports opsets = new OpsetImports(versions);
        Map<String, FunctionDef> functions = new LinkedHashMap<>();
        for (Onnx.FunctionProto f : m.getFunctionsList()) {
            FunctionDef def = function(f, opsets);
            functions.put(def.key(), def);
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        m.getMetadataPropsList().forEach(e -> metadata.put(e.getKey(), e.getValue()));
        return new Model(m.getIrVersion(), m.getProducerName(), m.getProducerVersion(), opsets,
                graph(m.getGraph()), functions, metadata);
    }

    private FunctionDef function(Onnx.FunctionProto f, OpsetImports modelOpsets) {
        Map<String, Integer> versions = new LinkedHashMap<>();
        f.getOpsetImportList().forEach(o -> versions.put(o.getDomain(), (int) o.getVersion()));
        Map<String, Attribute> defaults = new LinkedHashMap<>();
        for (Onnx.AttributeProto a : f.getAttributeProtoList()) defaults.put(a.getName(), attribute(a, "function " + f.getName()));
        List<String> attributeNames = new ArrayList<>(f.getAttributeList());
        attributeNames.addAll(defaults.keySet());
        List<Node> nodes = new ArrayList<>();
        for (Onnx.NodeProto n : f.getNodeList()) nodes.add(node(n));
        return new FunctionDef(f.getDomain(), f.getName(), f.getInputList(), f.getOutputList(), attributeNames, defaults,
                nodes, new OpsetImports(versions).merge(modelOpsets));
    }

    Graph graph(Onnx.GraphProto g) {
        Map<String, Tensor> initializers = new LinkedHashMap<>();
        for (Onnx.TensorProto t : g.getInitializerList()) {
            initializers.put(t.getName(), TensorProtos.fromProto(t, baseDir));
        }
        for (Onnx.SparseTensorProto s : g.getSparseInitializerList()) {
            Tensor dense = sparseToDense(s);
            initializers.put(s.getValues().getName(), dense);
        }
        Map<String, ValueType> types = new HashMap<>();
        List<ValueInfo> inputs = new ArrayList<>();
        for (Onnx.ValueInfoProto v : g.getInputList()) {
            ValueInfo vi = valueInfo(v);
            inputs.add(vi);
            types.put(vi.name(), vi.type());
        }
        List<ValueInfo> outputs = new ArrayList<>();
        for (Onnx.ValueInfoProto v : g.getOutputList()) {
            ValueInfo vi = valueInfo(v);
            outputs.add(vi);
            types.put(vi.name(), vi.type());
        }
        for (Onnx.ValueInfoProto v : g.getValueInfoList()) {
            ValueInfo vi = valueInfo(v);
            types.putIfAbsent(vi.name(), vi.type());
        }
        initializers.forEach((name, t) -> types.putIfAbsent(name, tensorTypeOf(t)));
        List<Node> nodes = new ArrayList<>(g.getNodeCount());
        for (Onnx.NodeProto n : g.getNodeList()) nodes.add(node(n));
        return new Graph(g.getName(), inputs, outputs, initializers, nodes, types);
    }

    static ValueType.TensorType tensorTypeOf(Tensor t) {
        return ValueType.TensorType.of(t.dtype(), t.shape());
    }

    private Node node(Onnx.NodeProto n) {
        Map<String, Attribute> attrs = new LinkedHashMap<>();
        String where = n.getName().isEmpty() ? "node (" + n.getOpType() + ")" : "node '" + n.getName() + "' (" + n.getOpType() + ")";
        for (Onnx.AttributeProto a : n.getAttributeList()) {
            if (attrs.put(a.getName(), attribute(a, where)) != null) {
                throw OnnxrunException.invalidModel(where + ": duplicate attribute '" + a.getName() + "'");
            }
        }
        if (n.getOpType().isEmpty()) throw OnnxrunException.invalidModel(where + ": node has no op_type");
        return new Node(n.getName(), n.getDomain(), n.getOpType(), n.getInputList(), n.getOutputList(), attrs);
    }

    private Attribute attribute(Onnx.AttributeProto a, String where) {
        String name = a.getName();
        if (!a.getRefAttrName().isEmpty()) {
            return new Attribute(name, kindOf(a, where), null, a.getRefAttrName());
        }
        Attribute.Kind kind = kindOf(a, where);
        try {
            Object value = switch (kind) {
                case FLOAT -> a.getF();
                case INT -> a.getI();
                case STRING -> a.getS().toString(StandardCharsets.UTF_8);
                case TENSOR -> TensorProtos.fromProto(a.getT(), baseDir);
                case SPARSE_TENSOR -> sparseToDense(a.getSparseTensor());
                case GRAPH -> graph(a.getG());
                case FLOATS -> List.copyOf(a.getFloatsList());
                case INTS -> List.copyOf(a.getIntsList());
                case STRINGS -> a.getStringsList().stream().map(s -> s.toString(StandardCharsets.UTF_8)).toList();
                case TENSORS -> a.getTensorsList().stream().map(t -> TensorProtos.fromProto(t, baseDir)).toList();
                case GRAPHS -> a.getGraphsList().stream().map(this::graph).toList();
                case TYPE -> type(a.getTp());
                case TYPES -> a.getTypeProtosList().stream().map(OnnxImporter::type).toList();
            };
            return new Attribute(name, kind, value, null);
        } catch (OnnxrunException e) {
            throw e.at(where + " attribute '" + name + "'");
        }
    }

    private static Attribute.Kind kindOf(Onnx.AttributeProto a, String where) {
        return switch (a.getType()) {
            case FLOAT -> Attribute.Kind.FLOAT;
            case INT -> Attribute.Kind.INT;
            case STRING -> Attribute.Kind.STRING;
            case TENSOR -> Attribute.Kind.TENSOR;
            case GRAPH -> Attribute.Kind.GRAPH;
            case SPARSE_TENSOR -> Attribute.Kind.SPARSE_TENSOR;
            case TYPE_PROTO -> Attribute.Kind.TYPE;
            case FLOATS -> Attribute.Kind.FLOATS;
            case INTS -> Attribute.Kind.INTS;
            case STRINGS -> Attribute.Kind.STRINGS;
            case TENSORS -> Attribute.Kind.TENSORS;
            case GRAPHS -> Attribute.Kind.GRAPHS;
            case TYPE_PROTOS -> Attribute.Kind.TYPES;
            // Files from before IR version 2 may leave the type unset; infer it from the field present.
            case UNDEFINED, SPARSE_TENSORS -> inferKind(a, where);
        };
    }

    private static Attribute.Kind inferKind(Onnx.AttributeProto a, String where) {
        if (a.hasF()) return Attribute.Kind.FLOAT;
        if (a.hasI()) return Attribute.Kind.INT;
        if (a.hasS()) return Attribute.Kind.STRING;
        if (a.hasT()) return Attribute.Kind.TENSOR;
        if (a.hasG()) return Attribute.Kind.GRAPH;
        if (a.getFloatsCount() > 0) return Attribute.Kind.FLOATS;
        if (a.getIntsCount() > 0) return Attribute.Kind.INTS;
        if (a.getStringsCount() > 0) return Attribute.Kind.STRINGS;
        if (a.getTensorsCount() > 0) return Attribute.Kind.TENSORS;
        if (a.getGraphsCount() > 0) return Attribute.Kind.GRAPHS;
        throw OnnxrunException.invalidModel(where + ": attribute '" + a.getName() + "' has no type and no value");
    }

    private Tensor sparseToDense(Onnx.SparseTensorProto s) {
        Tensor values = TensorProtos.fromProto(s.getValues(), baseDir);
        Tensor indices = TensorProtos.fromProto(s.getIndices(), baseDir);
        long[] shape = s.getDimsList().stream().mapToLong(Long::longValue).toArray();
        Tensor dense = Tensor.allocate(values.dtype(), shape);
        long[] strides = Shapes.strides(shape);
        long nnz = values.size();
        boolean coordinates = indices.rank() == 2;
        for (long i = 0; i < nnz; i++) {
            long flat = 0;
            if (coordinates) {
                for (int d = 0; d < shape.length; d++) flat += indices.getLong(i * shape.length + d) * strides[d];
            } else {
                flat = indices.getLong(i);
            }
            if (flat < 0 || flat >= dense.size()) throw OnnxrunException.invalidModel("sparse tensor index out of range");
            dense.setFrom(flat, values, i);
        }
        return dense;
    }

    private static ValueInfo valueInfo(Onnx.ValueInfoProto v) {
        return new ValueInfo(v.getName(), v.hasType() ? type(v.getType()) : ValueType.UNKNOWN);
    }

    public static ValueType type(Onnx.TypeProto t) {
        return switch (t.getValueCase()) {
            case TENSOR_TYPE -> tensorType(t.getTensorType().getElemType(), t.getTensorType().hasShape() ? t.getTensorType().getShape() : null);
            case SPARSE_TENSOR_TYPE -> tensorType(t.getSparseTensorType().getElemType(), t.getSparseTensorType().hasShape() ? t.getSparseTensorType().getShape() : null);
            case SEQUENCE_TYPE -> new ValueType.SequenceType(type(t.getSequenceType().getElemType()));
            case OPTIONAL_TYPE -> new ValueType.OptionalType(type(t.getOptionalType().getElemType()));
            case MAP_TYPE -> new ValueType.MapType(DType.fromOnnx(t.getMapType().getKeyType()), type(t.getMapType().getValueType()));
            default -> ValueType.UNKNOWN;
        };
    }

    private static ValueType tensorType(int elemType, Onnx.TensorShapeProto shape) {
        if (elemType == 0) return ValueType.UNKNOWN;
        DType dtype = DType.fromOnnx(elemType);
        if (shape == null) return ValueType.TensorType.unknownShape(dtype);
        List<Dim> dims = new ArrayList<>();
        for (Onnx.TensorShapeProto.Dimension d : shape.getDimList()) {
            if (d.hasDimValue()) {
                if (d.getDimValue() < 0) throw OnnxrunException.invalidModel("negative dimension " + d.getDimValue() + " in a declared shape");
                dims.add(Dim.of(d.getDimValue()));
            } else if (d.hasDimParam() && !d.getDimParam().isEmpty()) {
                dims.add(new Dim.Symbolic(d.getDimParam()));
            } else {
                dims.add(Dim.UNKNOWN);
            }
        }
        return new ValueType.TensorType(dtype, dims);
    }
}
