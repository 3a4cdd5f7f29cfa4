package dev.onnxrun.runtime;

/**
 * What a kernel may need beyond its inputs: the values visible from the enclosing graph (for
 * control-flow ops whose bodies read outer-scope values), the thread pool, and the memory its
 * outputs go to.
 */
public record ExecContext(Scope scope, Parallel parallel, OutputMemory memory) {
    /** Names visible at this point of execution, resolved innermost graph first. */
    @FunctionalInterface
    public interface Scope {
        /** The value of {@code name}, or null if no enclosing graph defines it. */
        Value lookup(String name);

        Scope EMPTY = name -> null;
    }

    /** A context whose outputs go to fresh heap memory. */
    public ExecContext(Scope scope, Parallel parallel) {
        this(scope, parallel, OutputMemory.HEAP);
    }

    public static ExecContext singleThreaded() {
        return on(Parallel.SERIAL);
    }

    /** A context with no outer scope whose kernels run on {@code parallel} and write fresh heap memory. */
    public static ExecContext on(Parallel parallel) {
        return new ExecContext(Scope.EMPTY, parallel);
    }

    /** The context of a nested graph: it sees {@code inner}, and its outputs go to the heap (the body has no plan of its own here). */
    public ExecContext withScope(Scope inner) {
        return new ExecContext(inner, parallel);
    }

    /** The same context with outputs going to {@code memory}. */
    public ExecContext withMemory(OutputMemory memory) {
        return new ExecContext(scope, parallel, memory);
    }

    /**
     * A tensor for output {@code output} of the running kernel: from the planned memory when there
     * is a plan, holding whatever was there (the kernel writes every element), else fresh zeros.
     */
    public Tensor output(int output, DType dtype, long... shape) {
        return memory.allocate(output, dtype, shape);
    }
}
