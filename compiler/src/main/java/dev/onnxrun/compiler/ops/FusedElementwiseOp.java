package dev.onnxrun.compiler.ops;

import dev.onnxrun.compiler.ir.Attribute;
import dev.onnxrun.compiler.ir.Node;
import dev.onnxrun.compiler.ir.ValueType;
import dev.onnxrun.runtime.DType;
import dev.onnxrun.runtime.ExecContext;
import dev.onnxrun.runtime.Kernel;
import dev.onnxrun.runtime.OnnxrunException;
import dev.onnxrun.runtime.Parallel;
import dev.onnxrun.runtime.Shapes;
import dev.onnxrun.runtime.Tensor;
import dev.onnxrun.runtime.Value;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * dev.onnxrun.FusedElementwise, made by {@link dev.onnxrun.compiler.passes.FuseElementwise}: a
 * chain of elementwise ops run block by block. Each op of the chain is lowered through its own
 * registry entry, and per block of {@link #BLOCK} elements the chain's kernels run one after the
 * other on views of that block, every op writing into the output's block, which stays in cache.
 */
public final class FusedElementwiseOp {
    private FusedElementwiseOp() {}

    /** Elements per block: the block and one operand's block fit a 32 KiB L1 data cache together. */
    static final int BLOCK = 4096;

    /** Below this many elements the chain runs on the calling thread. */
    private static final long PARALLEL_THRESHOLD = 1 << 15;

    static OpDef def() {
        return OpDef.op(FusedOps.DOMAIN, "FusedElementwise").until(1).types(EnumSet.of(DType.FLOAT)).inputs(1, Integer.MAX_VALUE)
                .outputs(1, 1).infer(TypeRules.SAME_AS_INPUT).cpu(FusedElementwiseOp::lower).build();
    }

    /**
     * One op of a fused chain as the node's attributes describe it: its type, which fused input is
     * its other operand (-1: none) and on which side, and its own attributes under their names.
     */
    public record Step(String op, int operand, boolean operandFirst, Map<String, Attribute> attributes) {
        /** The op's inputs: the chain's value so far and, for a binary op, its operand on its side. */
        public List<String> inputs(String running, String operandValue) {
            List<String> inputs = new ArrayList<>(List.of(running));
            if (operand > 0) inputs.add(operandFirst ? 0 : 1, operandValue);
            return inputs;
        }
    }

    /** The steps of a FusedElementwise node, checked against its inputs. */
    public static List<Step> steps(Node fused) {
        List<String> ops = fused.attrs().getStrings("ops");
        long[] operands = fused.attrs().getInts("operands"), operandFirst = fused.attrs().getInts("operand_first");
        if (ops.isEmpty() || operands.length != ops.size() || operandFirst.length != ops.size()) {
            throw OnnxrunException.invalidModel(fused.describe() + ": ops, operands and operand_first must have one entry per op");
        }
        List<Step> steps = new ArrayList<>();
        for (int i = 0; i < ops.size(); i++) {
            int operand = (int) operands[i];
            if (operand == 0 || operand >= fused.inputs().size()) {
                throw OnnxrunException.invalidModel(fused.describe() + ": op " + i + " names input " + operand + ", which is not an operand");
            }
            String prefix = i + ".";
            Map<String, Attribute> attrs = new LinkedHashMap<>();
            fused.attributes().forEach((name, a) -> {
                if (name.startsWith(prefix)) attrs.put(name.substring(prefix.length()), a.renamed(name.substring(prefix.length())));
            });
            steps.add(new Step(ops.get(i), operand, operandFirst[i] != 0, attrs));
        }
        return steps;
    }

    /** One op of the chain, lowered: its kernel and its step. */
    private record Link(Kernel kernel, Step step) {}

    private static Kernel lower(NodeContext ctx) {
        int opset = (int) ctx.attrs().getInt("opset");
        List<Step> steps = steps(ctx.node());
        List<Link> chain = new ArrayList<>();
        for (int i = 0; i < steps.size(); i++) chain.add(new Link(lowerLink(ctx, i, steps.get(i), opset), steps.get(i)));
        return (in, ec) -> {
            Tensor x = (Tensor) in[0];
            Tensor[] operandTensors = new Tensor[in.length];
            for (int k = 1; k < in.length; k++) {
                Tensor t = (Tensor) in[k];
                if (t.size() != 1 && t.size() != x.size()) throw OnnxrunException.invalidInput("operand " + k + " has " + t.size() + " elements, the chain " + x.size());
                operandTensors[k] = t;
            }
            Tensor out = ec.output(0, DType.FLOAT, x.shape());
            long n = x.size(), blocks = (n + BLOCK - 1) / BLOCK;
            Parallel.RangeBody body = (from, to) -> {
                for (long b = from; b < to; b++) runBlock(chain, x, operandTensors, out, b * BLOCK, Math.min(n, (b + 1) * BLOCK));
            };
            if (n >= PARALLEL_THRESHOLD) ec.parallel().forRange(blocks, body);
            else body.run(0, blocks);
            return new Value[] {out};
        };
    }

    /** Lowers op {@code i} of the chain as a node of its own, with the chain's types. */
    private static Kernel lowerLink(NodeContext ctx, int i, Step step, int opset) {
        OpDef def = OpRegistry.get().find("", step.op(), opset);
        if (def == null) throw ctx.error("op " + i + " (" + step.op() + ") is not an op of opset " + opset);
        Map<String, ValueType> types = new HashMap<>();
        types.put("x", ctx.inputType(0));
        if (step.operand() > 0) types.put("operand", ctx.inputType(step.operand()));
        Node link = new Node(ctx.node().name() + "." + i, "", step.op(), step.inputs("x", "operand"), List.of("y"), step.attributes());
        def.checkArity(link);
        return def.cpu().lower(NodeContext.of(link, opset, types, Map.of(), NodeContext.NO_SUBGRAPHS));
    }

    /** Runs the chain over elements [from, to): every op reads the block so far and writes it back into the output's block. */
    private static void runBlock(List<Link> chain, Tensor x, Tensor[] operands, Tensor out, long from, long to) {
        long length = to - from, bytes = length * Float.BYTES;
        MemorySegment block = out.segment().asSlice(from * Float.BYTES, bytes);
        ExecContext intoBlock = new ExecContext(ExecContext.Scope.EMPTY, Parallel.SERIAL,
                (output, dtype, shape) -> dtype == DType.FLOAT && Shapes.size(shape) == length ? Tensor.wrap(DType.FLOAT, block, shape) : Tensor.allocate(dtype, shape));
        Tensor running = Tensor.wrap(DType.FLOAT, x.segment().asSlice(from * Float.BYTES, bytes), length);
        for (Link link : chain) {
            Value[] args;
            if (link.step().operand() < 0) {
                args = new Value[] {running};
            } else {
                Tensor o = operands[link.step().operand()];
                Tensor operand = o.size() == 1 ? o.reshape(1) : Tensor.wrap(DType.FLOAT, o.segment().asSlice(from * Float.BYTES, bytes), length);
                args = link.step().operandFirst() ? new Value[] {operand, running} : new Value[] {running, operand};
            }
            MemorySegment result = ((Tensor) link.kernel().run(args, intoBlock)[0]).segment();
            if (result.address() != block.address() || !result.heapBase().equals(block.heapBase())) MemorySegment.copy(result, 0, block, 0, bytes);
            running = Tensor.wrap(DType.FLOAT, block, length);
        }
    }
}
