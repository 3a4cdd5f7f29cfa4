package dev.onnxrun.runtime.kernels;

/**
 * The elementwise comparisons of ONNX, giving bool tensors. Integers (and bools) compare exactly
 * as longs, signed or unsigned by element type; floats compare as IEEE doubles, so NaN is
 * neither less, greater nor equal to anything. (Switches, not lambdas, for a cold JVM's sake: see
 * {@link Unary}.)
 */
public enum Comparison {
    EQUAL,
    LESS,
    GREATER,
    LESS_OR_EQUAL,
    GREATER_OR_EQUAL;

    public boolean test(double a, double b) {
        return switch (this) {
            case EQUAL -> a == b;
            case LESS -> a < b;
            case GREATER -> a > b;
            case LESS_OR_EQUAL -> a <= b;
            case GREATER_OR_EQUAL -> a >= b;
        };
    }

    /** Tests the sign of a three-way comparison (as from {@link Long#compare} or {@link String#compareTo}). */
    public boolean testOrder(int order) { return test(order, 0); }
}
