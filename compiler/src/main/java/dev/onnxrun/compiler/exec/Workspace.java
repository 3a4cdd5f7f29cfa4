package dev.onnxrun.compiler.exec;

/**
 * The memory a session runs its plans in: one float array that every planned float32
 * intermediate is a slice of. It grows to the largest arena any input shape has needed and is
 * reused by every later run, so a session's memory stays flat however many runs and shapes it
 * serves. Heap memory: dropping the workspace (closing the session) returns it to the garbage
 * collector; nothing is held off-heap. One run at a time.
 */
public final class Workspace {
    private float[] floats = new float[0];

    /** The arena, at least {@code bytes} long; its contents are unspecified. */
    float[] floats(long bytes) {
        long needed = (bytes + Float.BYTES - 1) / Float.BYTES;
        if (needed > Integer.MAX_VALUE - 8) return null;
        if (floats.length < needed) floats = new float[(int) needed];
        return floats;
    }

    /** Bytes held now. */
    public long bytes() { return (long) floats.length * Float.BYTES; }
}
