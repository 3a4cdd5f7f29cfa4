package dev.onnxrun;

import dev.onnxrun.compiler.exec.Profile;
import dev.onnxrun.compiler.exec.Workspace;
import dev.onnxrun.compiler.ir.Dim;
import dev.onnxrun.compiler.ir.ValueInfo;
import dev.onnxrun.compiler.ir.ValueType;
import dev.onnxrun.runtime.ExecContext;
import dev.onnxrun.runtime.OnnxrunException;
import dev.onnxrun.runtime.Tensor;
import dev.onnxrun.runtime.Value;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Runs a {@link CompiledModel}. Inputs are checked against the model's declared types before
 * anything runs; outputs are heap tensors owned by the caller. One session serves one thread
 * at a time; create one per request or per worker.
 */
public final class Session implements AutoCloseable {
    private final CompiledModel model;
    private Workspace workspace = new Workspace();
    private boolean closed;

    Session(CompiledModel model) { this.model = model; }

    /** Runs with tensor inputs by name; returns tensor outputs by name in graph order. */
    public Map<String, Tensor> run(Map<String, Tensor> inputs) {
        Map<String, Value> values = new HashMap<>(inputs);
        Map<String, Tensor> out = new LinkedHashMap<>();
        runValues(values).forEach((k, v) -> {
            if (!(v instanceof Tensor t)) throw OnnxrunException.invalidInput("output '" + k + "' is a " + v.getClass().getSimpleName() + ", use runValues");
            out.put(k, t);
        });
        return out;
    }

    /** Runs with any values (tensors, sequences, optionals) by name. */
    public Map<String, Value> runValues(Map<String, ? extends Value> inputs) {
        return runValues(inputs, null);
    }

    /** Runs like {@link #run}, adding each op's time to {@code profile} as one run of it. */
    public Map<String, Tensor> run(Map<String, Tensor> inputs, Profile profile) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        runValues(inputs, profile).forEach((k, v) -> out.put(k, (Tensor) v));
        return out;
    }

    private Map<String, Value> runValues(Map<String, ? extends Value> inputs, Profile profile) {
        if (closed) throw new IllegalStateException("session is closed");
        checkInputs(inputs);
        Value[] results;
        try (CompiledModel.Run run = model.startRun()) {
            results = model.plan().execute(new HashMap<>(inputs), new ExecContext(ExecContext.Scope.EMPTY, model.parallel()), workspace, profile);
        }
        if (profile != null) profile.endRun();
        Map<String, Value> out = new LinkedHashMap<>();
        List<String> names = model.plan().outputNames();
        for (int i = 0; i < names.size(); i++) out.put(names.get(i), results[i]);
        return out;
    }

    private void checkInputs(Map<String, ? extends Value> inputs) {
        Set<String> known = new HashSet<>();
        model.model().graph().inputs().forEach(v -> known.add(v.name()));
        for (String name : inputs.keySet()) {
            if (!known.contains(name)) throw OnnxrunException.invalidInput("unknown input '" + name + "' (model inputs: " + model.inputs().stream().map(ValueInfo::name).toList() + ")");
        }
        for (ValueInfo in : model.inputs()) {
            Value v = inputs.get(in.name());
            if (v == null) {
                if (in.type() instanceof ValueType.OptionalType) continue;
                throw OnnxrunException.invalidInput("missing input '" + in.name() + "' of type " + in.type());
            }
            if (in.type() instanceof ValueType.TensorType declared) {
                if (!(v instanceof Tensor t)) throw OnnxrunException.invalidInput("input '" + in.name() + "' must be a tensor " + declared);
                checkTensor(in.name(), declared, t);
            }
        }
    }

    private static void checkTensor(String name, ValueType.TensorType declared, Tensor t) {
        if (t.dtype() != declared.dtype()) {
            throw OnnxrunException.invalidInput("input '" + name + "' has element type " + t.dtype().onnxName() + ", expected " + declared.dtype().onnxName());
        }
        if (!declared.hasRank()) return;
        if (declared.rank() != t.rank()) {
            throw OnnxrunException.invalidInput("input '" + name + "' has shape " + dev.onnxrun.runtime.Shapes.toString(t.shape()) + ", expected " + declared.dims());
        }
        for (int i = 0; i < declared.rank(); i++) {
            if (declared.dims().get(i) instanceof Dim.Known k && k.size() != t.dim(i)) {
                throw OnnxrunException.invalidInput("input '" + name + "' has shape " + dev.onnxrun.runtime.Shapes.toString(t.shape()) + ", expected " + declared.dims());
            }
        }
    }

    /** Bytes of intermediate memory this session holds between runs (its arena). */
    public long workspaceBytes() { return workspace == null ? 0 : workspace.bytes(); }

    /** Ends the session and lets go of its arena. */
    @Override
    public void close() {
        closed = true;
        workspace = null;
    }
}
