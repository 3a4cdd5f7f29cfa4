package dev.onnxrun.compiler.ops;

import dev.onnxrun.compiler.autodiff.GradientBuilder;
import dev.onnxrun.compiler.ir.ValueType;
import dev.onnxrun.runtime.DType;
import dev.onnxrun.runtime.Kernel;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * Everything onnxrun knows about one op, found from one registry entry: the opset versions and
 * element types it supports, its type and shape inference, its CPU lowering, and its gradient
 * (the backward nodes reverse-mode autodiff emits for it). A CUDA slot joins this record as that
 * backend arrives.
 *
 * @param domain       ONNX domain, "" for the default
 * @param name         op type
 * @param sinceVersion first opset version of the domain supported
 * @param untilVersion last opset version supported (inclusive)
 * @param types        element types accepted on {@code typeInput}
 * @param typeInput    the input whose element type selects the kernel, or -1 when the op has none
 * @param inputs       how many inputs a node may have; the first {@code inputs.min()} must be given
 * @param outputs      how many outputs a node may have; the first {@code outputs.min()} must be named
 * @param infer        output types from input types and attributes
 * @param cpu          builds the CPU kernel for one node
 * @param gradient     emits the backward nodes of one node, or null when the op has none of its own
 *                     (its family's gradient table may have one: {@link OpRegistry#gradientOf})
 */
public record OpDef(String domain, String name, int sinceVersion, int untilVersion, Set<DType> types, int typeInput,
                    Arity inputs, Arity outputs, TypeRule infer, Lowering cpu,
                    GradientRule gradient) {

    /** A count range: at least {@code min}, at most {@code max}. */
    public record Arity(int min, int max) {
        public static final Arity ANY = new Arity(0, Integer.MAX_VALUE);

        public static Arity exactly(int n) { return new Arity(n, n); }

        public static Arity atLeast(int n) { return new Arity(n, Integer.MAX_VALUE); }

        String describe() {
            return min == max ? Integer.toString(min) : max == Integer.MAX_VALUE ? "at least " + min : min + " to " + max;
        }
    }

    /**
     * Checks a node's input and output counts, and that required inputs and outputs are named,
     * so kernels can index their inputs without checking. Throws INVALID_MODEL naming the node.
     */
    public void checkArity(dev.onnxrun.compiler.ir.Node n) {
        check(n, n.inputs(), inputs, "input");
        check(n, n.outputs(), outputs, "output");
    }

    private static void check(dev.onnxrun.compiler.ir.Node n, List<String> names, Arity arity, String what) {
        if (names.size() < arity.min() || names.size() > arity.max()) {
            String noun = arity.max() == 1 ? what : what + "s";
            throw dev.onnxrun.runtime.OnnxrunException.invalidModel(n.describe() + ": takes " + arity.describe() + " " + noun + ", has " + names.size());
        }
        for (int i = 0; i < arity.min(); i++) {
            if (names.get(i).isEmpty()) {
                throw dev.onnxrun.runtime.OnnxrunException.invalidModel(n.describe() + ": required " + what + " " + i + " is missing");
            }
        }
    }

    /** Infers output types; an output it cannot tell is {@link ValueType#UNKNOWN}. */
    @FunctionalInterface
    public interface TypeRule {
        List<ValueType> infer(NodeContext ctx);
    }

    /** Turns one node, with its attributes and what is known of its inputs, into a kernel. */
    @FunctionalInterface
    public interface Lowering {
        Kernel lower(NodeContext ctx);
    }

    /**
     * The gradient of one node: emits backward nodes through {@code g} and returns, per forward
     * input, the name of that input's gradient value, or null where none flows (integer indices,
     * shapes, inputs the rule does not differentiate). The list may be shorter than the inputs.
     */
    @FunctionalInterface
    public interface GradientRule {
        List<String> backward(GradientBuilder g);
    }

    /** The newest default-domain opset this build knows. */
    public static final int LATEST_OPSET = 23;

    public static Builder onnx(String name) { return new Builder("", name); }

    public static Builder op(String domain, String name) { return new Builder(domain, name); }

    public boolean supportsVersion(int version) { return version >= sinceVersion && version <= untilVersion; }

    public String key() { return domain + ":" + name; }

    public static final class Builder {
        private final String domain;
        private final String name;
        private int since = 1;
        private int until = LATEST_OPSET;
        private Set<DType> types = DTypes.ALL;
        private int typeInput = 0;
        private Arity inputs = Arity.ANY;
        private Arity outputs = Arity.ANY;
        private TypeRule infer;
        private Lowering cpu;
        private GradientRule gradient;

        private Builder(String domain, String name) {
            this.domain = domain;
            this.name = name;
        }

        public Builder since(int version) { this.since = version; return this; }

        public Builder until(int version) { this.until = version; return this; }

        public Builder types(Set<DType> t) { this.types = EnumSet.copyOf(t); return this; }

        public Builder typeInput(int index) { this.typeInput = index; return this; }

        /** Inputs a node may have; the first {@code min} are required. */
        public Builder inputs(int min, int max) { this.inputs = new Arity(min, max); return this; }

        /** Outputs a node may have; the first {@code min} are required. */
        public Builder outputs(int min, int max) { this.outputs = new Arity(min, max); return this; }

        public Builder infer(TypeRule rule) { this.infer = rule; return this; }

        public Builder cpu(Lowering lowering) { this.cpu = lowering; return this; }

        public Builder grad(GradientRule rule) { this.gradient = rule; return this; }

        public OpDef build() {
            if (infer == null || cpu == null) throw new IllegalStateException(name + " needs infer and cpu");
            return new OpDef(domain, name, since, until, Set.copyOf(types), typeInput, inputs, outputs, infer, cpu, gradient);
        }
    }
}
