package dev.onnxrun.runtime;

/**
 * Where a kernel puts its outputs. A compiled plan hands each step the memory its static plan
 * assigned to that step's outputs (a reused buffer, possibly the buffer of an input that dies
 * at this step, so kernels asking for memory here must read element i of an input before they
 * write element i of the output); {@link #HEAP} gives fresh memory.
 */
@FunctionalInterface
public interface OutputMemory {
    /** A tensor for output {@code output} of the running step; planned memory is not cleared, so the kernel writes every element. */
    Tensor allocate(int output, DType dtype, long[] shape);

    OutputMemory HEAP = (output, dtype, shape) -> Tensor.allocate(dtype, shape);
}
