package dev.onnxrun.compiler.testing;

import dev.onnxrun.compiler.ir.ValueType;
import dev.onnxrun.compiler.onnx.TensorProtos;
import dev.onnxrun.onnx.Onnx;
import dev.onnxrun.runtime.DType;
import dev.onnxrun.runtime.OnnxrunException;
import dev.onnxrun.runtime.OptionalValue;
import dev.onnxrun.runtime.Tensor;
import dev.onnxrun.runtime.TensorSequence;
import dev.onnxrun.runtime.Value;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Reads the {@code input_N.pb} / {@code output_N.pb} files of the ONNX backend test layout. */
public final class TestDataFiles {
    private TestDataFiles() {}

    /** Reads a value file; {@code type} (the graph's declared type) says whether it holds a tensor, sequence or optional. */
    public static Value read(Path file, ValueType type) {
        try {
            byte[] bytes = Files.readAllBytes(file);
            return switch (type) {
                case ValueType.SequenceType s -> sequence(Onnx.SequenceProto.parseFrom(bytes));
                case ValueType.OptionalType o -> optional(Onnx.OptionalProto.parseFrom(bytes));
                default -> {
                    Tensor t = TensorProtos.decode(bytes, file.toAbsolutePath().getParent());
                    // ONNX 1.12 and older wrote bfloat16 test data as its uint16 bit patterns
                    yield type instanceof ValueType.TensorType tt && tt.dtype() == DType.BFLOAT16 && t.dtype() == DType.UINT16
                            ? Tensor.wrap(DType.BFLOAT16, t.segment(), t.shape()) : t;
                }
            };
        } catch (IOException e) {
            throw OnnxrunException.invalidInput("cannot read " + file + ": " + e.getMessage());
        }
    }

    private static TensorSequence sequence(Onnx.SequenceProto p) {
        List<Tensor> tensors = new ArrayList<>();
        for (Onnx.TensorProto t : p.getTensorValuesList()) tensors.add(TensorProtos.fromProto(t));
        DType dtype = tensors.isEmpty() ? DType.FLOAT : tensors.getFirst().dtype();
        return new TensorSequence(dtype, tensors);
    }

    private static OptionalValue optional(Onnx.OptionalProto p) {
        return switch (p.getElemType()) {
            case 1 -> new OptionalValue(TensorProtos.fromProto(p.getTensorValue()));
            case 3 -> new OptionalValue(sequence(p.getSequenceValue()));
            default -> OptionalValue.EMPTY;
        };
    }

    /** The data files {@code prefix_0.pb, prefix_1.pb, ...} in order. */
    public static List<Path> numbered(Path dir, String prefix) {
        List<Path> out = new ArrayList<>();
        for (int i = 0; Files.exists(dir.resolve(prefix + "_" + i + ".pb")); i++) out.add(dir.resolve(prefix + "_" + i + ".pb"));
        return out;
    }
}
