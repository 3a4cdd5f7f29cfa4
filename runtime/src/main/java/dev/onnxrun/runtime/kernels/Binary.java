package dev.onnxrun.runtime.kernels;

/**
 * The elementwise two-input functions of ONNX whose result has the first input's type. Each has
 * its function on doubles (none for bit operations) and an exact one on integers, which for
 * unsigned 64-bit bit patterns differs where the signed reading would be wrong. Integer division
 * or remainder by zero gives 0, as numpy does, rather than failing. The functions are switches,
 * not lambdas, for a cold JVM's sake (see {@link Unary}).
 */
public enum Binary {
    ADD,
    SUB,
    MUL,
    /** Integer division truncates toward zero, as in C. */
    DIV,
    POW,
    /** Remainder with the sign of the divisor (Python's %). */
    MOD,
    /** Remainder with the sign of the dividend (C's fmod). */
    FMOD,
    SHIFT_LEFT,
    /** Logical shift: BitShift is defined on unsigned types only. */
    SHIFT_RIGHT,
    /** Bitwise and; logical and on bools (stored as 0 or 1). */
    AND,
    OR,
    XOR,
    /** NaN wins, as in numpy's minimum. */
    MIN,
    MAX,
    /** x where x >= 0, else slope * x (PRelu with the slope as second input). */
    PRELU;

    /** Whether {@link #apply} is defined: all but the bit operations. */
    public boolean onDoubles() {
        return switch (this) {
            case SHIFT_LEFT, SHIFT_RIGHT, AND, OR, XOR -> false;
            default -> true;
        };
    }

    /** The function on floating-point values, for {@link #onDoubles} functions. */
    public double apply(double a, double b) {
        return switch (this) {
            case ADD -> a + b;
            case SUB -> a - b;
            case MUL -> a * b;
            case DIV -> a / b;
            case POW -> Math.pow(a, b);
            case MOD -> floorMod(a, b);
            case FMOD -> a % b;
            case MIN -> Math.min(a, b);
            case MAX -> Math.max(a, b);
            case PRELU -> a < 0 ? a * b : a;
            case SHIFT_LEFT, SHIFT_RIGHT, AND, OR, XOR -> throw new UnsupportedOperationException(this + " has no floating-point form");
        };
    }

    /** The exact function on integers and bools; {@code unsigned} for uint64 bit patterns. */
    public long applyExact(long a, long b, boolean unsigned) {
        return switch (this) {
            case ADD -> a + b;
            case SUB -> a - b;
            case MUL -> a * b;
            case DIV -> b == 0 ? 0 : unsigned ? Long.divideUnsigned(a, b) : a / b;
            case POW -> powExact(a, b);
            case MOD -> unsigned ? remainderUnsigned(a, b) : b == 0 ? 0 : Math.floorMod(a, b);
            case FMOD -> unsigned ? remainderUnsigned(a, b) : b == 0 ? 0 : a % b;
            case SHIFT_LEFT -> Long.compareUnsigned(b, 64) >= 0 ? 0 : a << b;
            case SHIFT_RIGHT -> Long.compareUnsigned(b, 64) >= 0 ? 0 : a >>> b;
            case AND -> a & b;
            case OR -> a | b;
            case XOR -> a ^ b;
            case MIN -> unsigned ? (Long.compareUnsigned(a, b) <= 0 ? a : b) : Math.min(a, b);
            case MAX -> unsigned ? (Long.compareUnsigned(a, b) >= 0 ? a : b) : Math.max(a, b);
            case PRELU -> unsigned ? a : a < 0 ? a * b : a;
        };
    }

    private static double floorMod(double a, double b) {
        double r = a % b;
        return r != 0 && (r < 0) != (b < 0) ? r + b : r;
    }

    private static long remainderUnsigned(long a, long b) {
        return b == 0 ? 0 : Long.remainderUnsigned(a, b);
    }

    /** a^b with wrap-around, by repeated squaring; negative exponents give the truncated quotient 1/a^|b|. */
    static long powExact(long base, long exponent) {
        if (exponent < 0) {
            if (base == 1) return 1;
            if (base == -1) return (exponent & 1) == 0 ? 1 : -1;
            return 0;
        }
        long result = 1;
        while (exponent != 0) {
            if ((exponent & 1) != 0) result *= base;
            base *= base;
            exponent >>>= 1;
        }
        return result;
    }
}
