package dev.onnxrun.runtime.kernels;

/**
 * The elementwise one-input functions of ONNX (math, logic and activations). Each has its
 * function on doubles, taking up to two parameters from the node's attributes (alpha, beta), and
 * where integer inputs need exact arithmetic a form on longs (differing for unsigned 64-bit bits
 * where the signed form would misread them). The functions are switches, not lambdas: this enum
 * is initialized with the first model that has an elementwise op, and fifty lambdas made then
 * cost a cold JVM some 25 ms.
 */
public enum Unary {
    ABS,
    NEG,
    FLOOR,
    CEIL,
    /** Half to even, as numpy rounds. */
    ROUND,
    SIGN,
    SQRT,
    RECIPROCAL,
    EXP,
    LOG,
    SIN,
    COS,
    TAN,
    ASIN,
    ACOS,
    ATAN,
    SINH,
    COSH,
    ASINH,
    ACOSH,
    ATANH,
    ERF,
    IS_NAN,
    /** alpha: detect negative infinity (0 or 1); beta: detect positive infinity. */
    IS_INF,
    /** Logical not of a bool (stored as 0 or 1). */
    NOT,
    /** Integers only. */
    BITWISE_NOT,
    RELU,
    LEAKY_RELU,
    ELU,
    /** alpha, then gamma. */
    SELU,
    CELU,
    SIGMOID,
    HARD_SIGMOID,
    HARD_SWISH,
    TANH,
    SOFTPLUS,
    SOFTSIGN,
    THRESHOLDED_RELU,
    /** alpha: lambd, beta: bias. */
    SHRINK,
    MISH,
    GELU,
    GELU_TANH;

    /** The function on floating-point values of x and the attribute parameters alpha and beta. */
    public double apply(double x, double alpha, double beta) {
        return switch (this) {
            case ABS -> Math.abs(x);
            case NEG -> -x;
            case FLOOR -> Math.floor(x);
            case CEIL -> Math.ceil(x);
            case ROUND -> Math.rint(x);
            case SIGN -> Math.signum(x);
            case SQRT -> Math.sqrt(x);
            case RECIPROCAL -> 1 / x;
            case EXP -> Math.exp(x);
            case LOG -> Math.log(x);
            case SIN -> Math.sin(x);
            case COS -> Math.cos(x);
            case TAN -> Math.tan(x);
            case ASIN -> Math.asin(x);
            case ACOS -> Math.acos(x);
            case ATAN -> Math.atan(x);
            case SINH -> Math.sinh(x);
            case COSH -> Math.cosh(x);
            case ASINH -> asinh(x);
            case ACOSH -> acosh(x);
            case ATANH -> 0.5 * Math.log1p(2 * x / (1 - x));
            case ERF -> erf(x);
            case IS_NAN -> Double.isNaN(x) ? 1 : 0;
            case IS_INF -> x == Double.NEGATIVE_INFINITY && alpha != 0 || x == Double.POSITIVE_INFINITY && beta != 0 ? 1 : 0;
            case NOT -> x == 0 ? 1 : 0;
            case BITWISE_NOT -> throw new UnsupportedOperationException("BitwiseNot has no floating-point form");
            case RELU -> Math.max(x, 0);
            case LEAKY_RELU -> x < 0 ? alpha * x : x;
            case ELU -> x < 0 ? alpha * Math.expm1(x) : x;
            case SELU -> x <= 0 ? beta * alpha * Math.expm1(x) : beta * x;
            case CELU -> Math.max(0, x) + Math.min(0, alpha * Math.expm1(x / alpha));
            case SIGMOID -> 1 / (1 + Math.exp(-x));
            case HARD_SIGMOID -> Math.max(0, Math.min(1, alpha * x + beta));
            case HARD_SWISH -> x * Math.max(0, Math.min(1, x / 6 + 0.5));
            case TANH -> Math.tanh(x);
            case SOFTPLUS -> softplus(x);
            case SOFTSIGN -> x / (1 + Math.abs(x));
            case THRESHOLDED_RELU -> x > alpha ? x : 0;
            case SHRINK -> x < -alpha ? x + beta : x > alpha ? x - beta : 0;
            case MISH -> x * Math.tanh(softplus(x));
            case GELU -> 0.5 * x * (1 + erf(x / Math.sqrt(2)));
            case GELU_TANH -> 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
        };
    }

    /** Whether {@link #apply} is defined: all but the bit operations. */
    public boolean onDoubles() { return this != BITWISE_NOT; }

    /** Whether integers go through {@link #applyExact} (signed, or bool as 0/1) rather than through doubles. */
    public boolean exactOnIntegers() {
        return switch (this) {
            case ABS, NEG, SIGN, NOT, BITWISE_NOT, RELU -> true;
            default -> false;
        };
    }

    /** The exact function on an integer, {@code unsigned} for uint64 bit patterns; for {@link #exactOnIntegers} functions. */
    public long applyExact(long x, boolean unsigned) {
        return switch (this) {
            case ABS -> unsigned ? x : Math.abs(x);
            case NEG -> -x;
            case SIGN -> unsigned ? (x == 0 ? 0 : 1) : Long.signum(x);
            case NOT -> x == 0 ? 1 : 0;
            case BITWISE_NOT -> ~x;
            case RELU -> unsigned ? x : Math.max(x, 0);
            default -> throw new UnsupportedOperationException(this + " has no integer form");
        };
    }

    /** True when the result is a bool tensor rather than the input's type. */
    public boolean boolResult() { return this == IS_NAN || this == IS_INF; }

    static double softplus(double x) {
        // log(1 + e^x) without overflow for large x or loss of precision for very negative x
        return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
    }

    static double asinh(double x) {
        double a = Math.abs(x);
        double r = a > 1e8 ? Math.log(a) + Math.log(2) : Math.log1p(a + a * a / (1 + Math.sqrt(1 + a * a)));
        return Math.copySign(r, x);
    }

    static double acosh(double x) {
        return x > 1e8 ? Math.log(x) + Math.log(2) : Math.log(x + Math.sqrt(x * x - 1));
    }

    /**
     * The error function to about 1e-15 relative: the everywhere-convergent series
     * erf(x) = 2/sqrt(pi) e^(-x^2) sum 2^n x^(2n+1) / (1*3*...*(2n+1)), whose terms are all
     * positive (no cancellation); beyond |x| = 6 erf is 1 to double precision.
     */
    public static double erf(double x) {
        if (Double.isNaN(x)) return x;
        double a = Math.abs(x);
        if (a >= 6) return Math.copySign(1, x);
        double twoX2 = 2 * a * a;
        double term = a, sum = a;
        for (int n = 1; n < 500; n++) {
            term *= twoX2 / (2 * n + 1);
            sum += term;
            if (term < sum * 1e-17) break;
        }
        return Math.copySign(2 / Math.sqrt(Math.PI) * Math.exp(-a * a) * sum, x);
    }
}
