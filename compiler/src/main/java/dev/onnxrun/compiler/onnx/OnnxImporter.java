package dev.onnxrun.compiler.onnx;

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
import dev.onnxrun.compiler.onnx.OnnxWire.AttributeProto;
import dev.onnxrun.compiler.onnx.OnnxWire.FunctionProto;
import dev.onnxrun.compiler.onnx.OnnxWire.GraphProto;
import dev.onnxrun.compiler.onnx.OnnxWire.ModelProto;
import dev.onnxrun.compiler.onnx.OnnxWire.NodeProto;
import dev.onnxrun.compiler.onnx.OnnxWire.SparseTensorProto;
import dev.onnxrun.compiler.onnx.OnnxWire.TypeProto;
import dev.onnxrun.compiler.onnx.OnnxWire.ValueInfoProto;
import dev.onnxrun.onnx.Onnx;
import dev.onnxrun.runtime.DType;
import dev.onnxrun.runtime.OnnxrunException;
import dev.onnxrun.runtime.Shapes;
import dev.onnxrun.runtime.Tensor;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
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
    static final int MAX_PROTO_DEPTH = 400;

    private final Path baseDir;

    private OnnxImporter(Path baseDir) { this.baseDir = baseDir; }

    /**
     * Files from this size on are mapped rather than read into an array: their tensor data are
     * then copied once, from the page cache into the tensors (resnet18, 45 MiB: half the import
     * time). Mapping costs a cold JVM some 15 ms of CPU more than reading, which a small file
     * does not win back.
     */
    private static final long MAP_FROM = 16 << 20;

    /** Loads a model file; a mapped file is released once the model is built, when nothing refers to its bytes any more. */
    public static Model load(Path file) {
        Path dir = file.toAbsolutePath().getParent();
        try {
            long size = Files.size(file);
            if (size > Integer.MAX_VALUE) {
                throw OnnxrunException.invalidModel("larger than 2 GiB, which a protobuf cannot be: keep the weights as external data");
            }
            if (size < MAP_FROM) {
                byte[] bytes = Files.readAllBytes(file);
                return new OnnxImporter(dir).model(parse(() -> OnnxWire.model(bytes, MAX_PROTO_DEPTH)));
            }
            try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ); Arena arena = Arena.ofConfined()) {
                ByteBuffer mapped = channel.map(FileChannel.MapMode.READ_ONLY, 0, size, arena).asByteBuffer();
                return new OnnxImporter(dir).model(parse(() -> OnnxWire.model(mapped, MAX_PROTO_DEPTH)));
            }
        } catch (NoSuchFileException e) {
            throw OnnxrunException.invalidModel("no such file: " + file);
        } catch (IOException e) {
            throw OnnxrunException.invalidModel("cannot read " + file + ": " + e.getMessage());
        } catch (OnnxrunException e) {
            throw e.at(file.getFileName().toString());
        }
    }

    /** Loads from memory; external data is then not allowed. */
    public static Model load(byte[] bytes) {
        return new OnnxImporter(null).model(parse(() -> OnnxWire.model(bytes, MAX_PROTO_DEPTH)));
    }

    public static Model load(InputStream in) throws IOException {
        return load(in.readAllBytes());
    }

    /** A protobuf parse that may fail with an {@link IOException}. */
    private interface Parse {
        ModelProto run() throws IOException;
    }

    private static ModelProto parse(Parse parse) {
        try {
            ModelProto m = parse.run();
            if (m.graph == null) throw OnnxrunException.invalidModel("not an ONNX model: no graph (truncated or not a model file?)");
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

    private Model model(ModelProto m) {
        Map<String, Integer> versions = new LinkedHashMap<>();
        for (OnnxWire.OperatorSetIdProto o : m.opsetImport) {
            versions.put(o.domain, (int) o.version);
        }
        // IR versions before 3 had no opset_import: those models used opset 1.
        if (versions.isEmpty()) versions.put("", 1);
        OpsetImports opsets = new OpsetImports(versions);
        Map<String, FunctionDef> functions = new LinkedHashMap<>();
        for (FunctionProto f : m.functions) {
            FunctionDef def = function(f, opsets);
            functions.put(def.key(), def);
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        m.metadataProps.forEach(e -> metadata.put(e.key, e.value));
        return new Model(m.irVersion, m.producerName, m.producerVersion, opsets, graph(m.graph), functions, metadata);
    }

    private FunctionDef function(FunctionProto f, OpsetImports modelOpsets) {
        Map<String, Integer> versions = new LinkedHashMap<>();
        f.opsetImport.forEach(o -> versions.put(o.domain, (int) o.version));
        Map<String, Attribute> defaults = new LinkedHashMap<>();
        for (AttributeProto a : f.attributeProto) defaults.put(a.name, attribute(a, "function " + f.name));
        List<String> attributeNames = new ArrayList<>(f.attribute);
        attributeNames.addAll(defaults.keySet());
        List<Node> nodes = new ArrayList<>();
        for (NodeProto n : f.node) nodes.add(node(n));
        return new FunctionDef(f.domain, f.name, List.copyOf(f.input), List.copyOf(f.output), attributeNames, defaults,
                nodes, new OpsetImports(versions).merge(modelOpsets));
    }

    Graph graph(GraphProto g) {
        Map<String, Tensor> initializers = new LinkedHashMap<>();
        for (OnnxWire.TensorProto t : g.initializer) {
            initializers.put(t.name, TensorProtos.fromWire(t, baseDir));
        }
        for (SparseTensorProto s : g.sparseInitializer) {
            Tensor dense = sparseToDense(s);
            initializers.put(s.values.name, dense);
        }
        Map<String, ValueType> types = new HashMap<>();
        List<ValueInfo> inputs = new ArrayList<>();
        for (ValueInfoProto v : g.input) {
            ValueInfo vi = valueInfo(v);
            inputs.add(vi);
            types.put(vi.name(), vi.type());
        }
        List<ValueInfo> outputs = new ArrayList<>();
        for (ValueInfoProto v : g.output) {
            ValueInfo vi = valueInfo(v);
            outputs.add(vi);
            types.put(vi.name(), vi.type());
        }
        for (ValueInfoProto v : g.valueInfo) {
            ValueInfo vi = valueInfo(v);
            types.putIfAbsent(vi.name(), vi.type());
        }
        initializers.forEach((name, t) -> types.putIfAbsent(name, tensorTypeOf(t)));
        List<Node> nodes = new ArrayList<>(g.node.size());
        for (NodeProto n : g.node) nodes.add(node(n));
        return new Graph(g.name, inputs, outputs, initializers, nodes, types);
    }

    static ValueType.TensorType tensorTypeOf(Tensor t) {
        return ValueType.TensorType.of(t.dtype(), t.shape());
    }

    private Node node(NodeProto n) {
        Map<String, Attribute> attrs = new LinkedHashMap<>();
        String where = n.name.isEmpty() ? "node (" + n.opType + ")" : "node '" + n.name + "' (" + n.opType + ")";
        for (AttributeProto a : n.attribute) {
            if (attrs.put(a.name, attribute(a, where)) != null) {
                throw OnnxrunException.invalidModel(where + ": duplicate attribute '" + a.name + "'");
            }
        }
        if (n.opType.isEmpty()) throw OnnxrunException.invalidModel(where + ": node has no op_type");
        return new Node(n.name, n.domain, n.opType, List.copyOf(n.input), List.copyOf(n.output), attrs);
    }

    private Attribute attribute(AttributeProto a, String where) {
        String name = a.name;
        if (!a.refAttrName.isEmpty()) {
            return new Attribute(name, kindOf(a, where), null, a.refAttrName);
        }
        Attribute.Kind kind = kindOf(a, where);
        try {
            // an absent value reads as its field's default, as protobuf's getters give it
            Object value = switch (kind) {
                case FLOAT -> a.f == null ? 0f : a.f;
                case INT -> a.i == null ? 0L : a.i;
                case STRING -> a.s == null ? "" : a.s.toString(StandardCharsets.UTF_8);
                case TENSOR -> TensorProtos.fromWire(a.t == null ? new OnnxWire.TensorProto() : a.t, baseDir);
                case SPARSE_TENSOR -> sparseToDense(a.sparseTensor == null ? new SparseTensorProto() : a.sparseTensor);
                case GRAPH -> graph(a.g == null ? new GraphProto() : a.g);
                case FLOATS -> List.copyOf(a.floats);
                case INTS -> List.copyOf(a.ints);
                case STRINGS -> a.strings.stream().map(s -> s.toString(StandardCharsets.UTF_8)).toList();
                case TENSORS -> a.tensors.stream().map(t -> TensorProtos.fromWire(t, baseDir)).toList();
                case GRAPHS -> a.graphs.stream().map(this::graph).toList();
                case TYPE -> type(a.tp == null ? new TypeProto() : a.tp);
                case TYPES -> a.typeProtos.stream().map(OnnxImporter::type).toList();
            };
            return new Attribute(name, kind, value, null);
        } catch (OnnxrunException e) {
            throw e.at(where + " attribute '" + name + "'");
        }
    }

    private static Attribute.Kind kindOf(AttributeProto a, String where) {
        return switch (a.type) {
            case AttributeProto.FLOAT -> Attribute.Kind.FLOAT;
            case AttributeProto.INT -> Attribute.Kind.INT;
            case AttributeProto.STRING -> Attribute.Kind.STRING;
            case AttributeProto.TENSOR -> Attribute.Kind.TENSOR;
            case AttributeProto.GRAPH -> Attribute.Kind.GRAPH;
            case AttributeProto.SPARSE_TENSOR -> Attribute.Kind.SPARSE_TENSOR;
            case AttributeProto.TYPE_PROTO -> Attribute.Kind.TYPE;
            case AttributeProto.FLOATS -> Attribute.Kind.FLOATS;
            case AttributeProto.INTS -> Attribute.Kind.INTS;
            case AttributeProto.STRINGS -> Attribute.Kind.STRINGS;
            case AttributeProto.TENSORS -> Attribute.Kind.TENSORS;
            case AttributeProto.GRAPHS -> Attribute.Kind.GRAPHS;
            case AttributeProto.TYPE_PROTOS -> Attribute.Kind.TYPES;
            // Files from before IR version 2 may leave the type unset (UNDEFINED); infer it from the field present.
            default -> inferKind(a, where);
        };
    }

    private static Attribute.Kind inferKind(AttributeProto a, String where) {
        if (a.f != null) return Attribute.Kind.FLOAT;
        if (a.i != null) return Attribute.Kind.INT;
        if (a.s != null) return Attribute.Kind.STRING;
        if (a.t != null) return Attribute.Kind.TENSOR;
        if (a.g != null) return Attribute.Kind.GRAPH;
        if (!a.floats.isEmpty()) return Attribute.Kind.FLOATS;
        if (!a.ints.isEmpty()) return Attribute.Kind.INTS;
        if (!a.strings.isEmpty()) return Attribute.Kind.STRINGS;
        if (!a.tensors.isEmpty()) return Attribute.Kind.TENSORS;
        if (!a.graphs.isEmpty()) return Attribute.Kind.GRAPHS;
        throw OnnxrunException.invalidModel(where + ": attribute '" + a.name + "' has no type and no value");
    }

    private Tensor sparseToDense(SparseTensorProto s) {
        Tensor values = TensorProtos.fromWire(s.values, baseDir);
        Tensor indices = TensorProtos.fromWire(s.indices, baseDir);
        long[] shape = s.dims.stream().mapToLong(Long::longValue).toArray();
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

    private static ValueInfo valueInfo(ValueInfoProto v) {
        return new ValueInfo(v.name, v.type != null ? type(v.type) : ValueType.UNKNOWN);
    }

    /** The IR type of a TypeProto message. */
    public static ValueType type(Onnx.TypeProto t) {
        try {
            return type(OnnxWire.type(t.toByteArray(), MAX_PROTO_DEPTH));
        } catch (IOException e) {
            throw new IllegalStateException("protobuf did not read back its own bytes", e);
        }
    }

    private static ValueType type(TypeProto t) {
        // an absent element type reads as the default message, as protobuf's getters give it
        TypeProto elem = t.elem == null ? new TypeProto() : t.elem;
        return switch (t.valueCase) {
            case TypeProto.TENSOR_TYPE, TypeProto.SPARSE_TENSOR_TYPE -> tensorType(t.elemType, t.shape);
            case TypeProto.SEQUENCE_TYPE -> new ValueType.SequenceType(type(elem));
            case TypeProto.OPTIONAL_TYPE -> new ValueType.OptionalType(type(elem));
            case TypeProto.MAP_TYPE -> new ValueType.MapType(DType.fromOnnx(t.keyType), type(elem));
            default -> ValueType.UNKNOWN;
        };
    }

    private static ValueType tensorType(int elemType, List<OnnxWire.Dimension> shape) {
        if (elemType == 0) return ValueType.UNKNOWN;
        DType dtype = DType.fromOnnx(elemType);
        if (shape == null) return ValueType.TensorType.unknownShape(dtype);
        List<Dim> dims = new ArrayList<>();
        for (OnnxWire.Dimension d : shape) {
            if (d.dimValue != null) {
                if (d.dimValue < 0) throw OnnxrunException.invalidModel("negative dimension " + d.dimValue + " in a declared shape");
                dims.add(Dim.of(d.dimValue));
            } else if (d.dimParam != null && !d.dimParam.isEmpty()) {
                dims.add(new Dim.Symbolic(d.dimParam));
            } else {
                dims.add(Dim.UNKNOWN);
            }
        }
        return new ValueType.TensorType(dtype, dims);
    }
}
