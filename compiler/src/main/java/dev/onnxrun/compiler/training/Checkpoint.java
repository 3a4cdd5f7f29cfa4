package dev.onnxrun.compiler.training;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.onnxrun.compiler.onnx.TensorProtos;
import dev.onnxrun.onnx.Onnx;
import dev.onnxrun.runtime.OnnxrunException;
import dev.onnxrun.runtime.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The training state after an epoch, enough to continue as if never stopped.
 *
 * <p>The file is an ONNX ModelProto without nodes (so {@code onnx.load} reads it): its graph's
 * initializers are {@code value/NAME} for each parameter and running statistic and
 * {@code state/NAME/K} for the K-th optimizer state tensor of parameter NAME; its
 * metadata_props hold {@code onnxrun.checkpoint} (format version 1), {@code epoch} (epochs
 * done), {@code step} (updates done), {@code shuffle_seed} (the shuffle's seed: the shuffle
 * state is that generator after {@code epoch} epochs' shuffles, which resuming replays) and
 * {@code optimizer} (the update rule with its settings, which resuming must match). Dropout's
 * mask generators live in the compiled kernels and are not part of it.
 *
 * @param epoch       epochs done
 * @param step        parameter updates done
 * @param shuffleSeed seed of the per-epoch shuffle
 * @param optimizer   the update rule's description
 * @param values      parameters and running statistics by name
 * @param state       each parameter's optimizer state
 */
public record Checkpoint(int epoch, long step, long shuffleSeed, String optimizer, Map<String, Tensor> values,
                         Map<String, Tensor[]> state) {
    private static final String FORMAT = "onnxrun.checkpoint", VALUE = "value/", STATE = "state/";

    /** Writes the checkpoint to {@code file}, through a temporary file so a crash leaves the previous one whole. */
    public void write(Path file) {
        Onnx.GraphProto.Builder graph = Onnx.GraphProto.newBuilder().setName("checkpoint");
        values.forEach((name, t) -> graph.addInitializer(TensorProtos.toProto(t, VALUE + name)));
        state.forEach((name, tensors) -> {
            for (int k = 0; k < tensors.length; k++) graph.addInitializer(TensorProtos.toProto(tensors[k], STATE + name + "/" + k));
        });
        Onnx.ModelProto.Builder model = Onnx.ModelProto.newBuilder().setIrVersion(9).setProducerName("onnxrun").setGraph(graph);
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put(FORMAT, "1");
        meta.put("epoch", Integer.toString(epoch));
        meta.put("step", Long.toString(step));
        meta.put("shuffle_seed", Long.toString(shuffleSeed));
        meta.put("optimizer", optimizer);
        meta.forEach((k, v) -> model.addMetadataProps(Onnx.StringStringEntryProto.newBuilder().setKey(k).setValue(v)));
        Path partial = file.resolveSibling(file.getFileName() + ".partial");
        try {
            Files.write(partial, model.build().toByteArray());
            Files.move(partial, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw OnnxrunException.invalidInput("cannot write checkpoint " + file + ": " + e.getMessage());
        }
    }

    /** Reads a checkpoint {@link #write} wrote. */
    public static Checkpoint read(Path file) {
        Onnx.ModelProto model;
        try {
            model = Onnx.ModelProto.parseFrom(Files.readAllBytes(file));
        } catch (NoSuchFileException e) {
            throw OnnxrunException.invalidInput("no checkpoint " + file + " to resume from");
        } catch (InvalidProtocolBufferException e) {
            throw OnnxrunException.invalidInput(file + ": not a checkpoint (" + e.getMessage() + ")");
        } catch (IOException e) {
            throw OnnxrunException.invalidInput("cannot read checkpoint " + file + ": " + e.getMessage());
        }
        Map<String, String> meta = new HashMap<>();
        model.getMetadataPropsList().forEach(p -> meta.put(p.getKey(), p.getValue()));
        if (!"1".equals(meta.get(FORMAT))) throw OnnxrunException.invalidInput(file + ": not an onnxrun checkpoint (version 1)");
        Map<String, Tensor> values = new LinkedHashMap<>();
        Map<String, List<Tensor>> state = new LinkedHashMap<>();
        for (Onnx.TensorProto p : model.getGraph().getInitializerList()) {
            String name = p.getName();
            if (name.startsWith(VALUE)) {
                values.put(name.substring(VALUE.length()), TensorProtos.fromProto(p));
            } else if (name.startsWith(STATE) && name.lastIndexOf('/') > STATE.length()) {
                String parameter = name.substring(STATE.length(), name.lastIndexOf('/'));
                state.computeIfAbsent(parameter, k -> new ArrayList<>()).add(TensorProtos.fromProto(p));
            } else {
                throw OnnxrunException.invalidInput(file + ": unexpected tensor '" + name + "'");
            }
        }
        Map<String, Tensor[]> arrays = new LinkedHashMap<>();
        state.forEach((name, list) -> arrays.put(name, list.toArray(Tensor[]::new)));
        try {
            return new Checkpoint(Integer.parseInt(meta.get("epoch")), Long.parseLong(meta.get("step")),
                    Long.parseLong(meta.get("shuffle_seed")), meta.getOrDefault("optimizer", ""), values, arrays);
        } catch (NumberFormatException e) {
            throw OnnxrunException.invalidInput(file + ": checkpoint metadata is damaged: " + e.getMessage());
        }
    }
}
