package dev.onnxrun.compiler.ops;

import static dev.onnxrun.compiler.autodiff.GradientBuilder.grads;

import dev.onnxrun.compiler.autodiff.GradientBuilder;
import dev.onnxrun.compiler.ir.Attribute;
import dev.onnxrun.compiler.ir.OpsetImports;
import dev.onnxrun.compiler.ir.ValueType;
import dev.onnxrun.runtime.DType;
import dev.onnxrun.runtime.OnnxrunException;
import dev.onnxrun.runtime.Parallel;
import dev.onnxrun.runtime.Tensor;
import dev.onnxrun.runtime.Value;
import dev.onnxrun.runtime.kernels.Binary;
import dev.onnxrun.runtime.kernels.Cast;
import dev.onnxrun.runtime.kernels.Comparison;
import dev.onnxrun.runtime.kernels.Elementwise;
import dev.onnxrun.runtime.kernels.Unary;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * Elementwise ops: unary math and activations, broadcasting binary arithmetic, logic and
 * comparisons, variadic Min/Max/Sum/Mean, Clip, Where, Cast and CastLike. Each op is one
 * registration covering every opset from its introduction; opset differences (pre-7
 * {@code broadcast}/{@code axis} attributes, Clip's bounds moving from attributes to inputs,
 * Cast's {@code to} once being a string) are resolved in the lowering.
 */
public final class ElementwiseOps {
    private ElementwiseOps() {}

    /**
     * Unary and binary ops whose float32 kernels (Elementwise.unary, Elementwise.binary) take
     * their output from the plan and map element i of each input to element i of the output,
     * reading before writing: the output may overwrite a same-sized input, and a block of
     * elements can run on its own.
     */
    public static final Set<String> SAME_INDEX_UNARY = Set.of("Relu", "Sigmoid", "Tanh", "Exp", "Log", "Neg", "Abs", "Sqrt",
            "Reciprocal", "Erf", "Floor", "Ceil", "Round", "Sign", "Sin", "Cos", "LeakyRelu", "Elu", "Selu", "Celu", "Softplus",
            "Softsign", "HardSigmoid", "HardSwish", "Mish", "Gelu");
    public static final Set<String> SAME_INDEX_BINARY = Set.of("Add", "Sub", "Mul", "Div", "Pow");

    private static final Set<DType> FLOATS_AND_FLOAT8 = DTypes.union(DTypes.FLOATS, DTypes.FLOAT8);
    private static final Set<DType> RELU_TYPES = DTypes.union(DTypes.FLOATS, DTypes.SIGNED_INTS);
    private static final Set<DType> PRELU_TYPES =
            DTypes.union(DTypes.FLOATS, EnumSet.of(DType.INT32, DType.INT64, DType.UINT32, DType.UINT64));
    private static final Set<DType> EQUAL_TYPES = DTypes.union(DTypes.NUMERIC_AND_BOOL, DTypes.STRING);
    /** What Cast reads and writes: every type but complex. */
    private static final Set<DType> CASTABLE = DTypes.union(DTypes.NUMERIC_AND_BOOL, DTypes.STRING, DTypes.FLOAT8);

    public static List<OpDef> defs() {
        return List.of(
                unary("Abs", 1, DTypes.NUMERIC, Unary.ABS),
                unary("Neg", 1, DTypes.SIGNED_NUMERIC, Unary.NEG),
                unary("Floor", 1, DTypes.FLOATS, Unary.FLOOR),
                unary("Ceil", 1, DTypes.FLOATS, Unary.CEIL),
                unary("Round", 11, DTypes.FLOATS, Unary.ROUND),
                unary("Sign", 9, DTypes.NUMERIC, Unary.SIGN),
                unary("Sqrt", 1, DTypes.FLOATS, Unary.SQRT),
                unary("Reciprocal", 1, DTypes.FLOATS, Unary.RECIPROCAL),
                unary("Exp", 1, DTypes.FLOATS, Unary.EXP),
                unary("Log", 1, DTypes.FLOATS, Unary.LOG),
                unary("Sin", 7, DTypes.FLOATS, Unary.SIN),
                unary("Cos", 7, DTypes.FLOATS, Unary.COS),
                unary("Tan", 7, DTypes.FLOATS, Unary.TAN),
                unary("Asin", 7, DTypes.FLOATS, Unary.ASIN),
                unary("Acos", 7, DTypes.FLOATS, Unary.ACOS),
                unary("Atan", 7, DTypes.FLOATS, Unary.ATAN),
                unary("Sinh", 9, DTypes.FLOATS, Unary.SINH),
                unary("Cosh", 9, DTypes.FLOATS, Unary.COSH),
                unary("Asinh", 9, DTypes.FLOATS, Unary.ASINH),
                unary("Acosh", 9, DTypes.FLOATS, Unary.ACOSH),
                unary("Atanh", 9, DTypes.FLOATS, Unary.ATANH),
                unary("Erf", 9, DTypes.NUMERIC, Unary.ERF),
                unary("IsNaN", 9, FLOATS_AND_FLOAT8, Unary.IS_NAN),
                unary("IsInf", 10, FLOATS_AND_FLOAT8, ctx -> new UnaryCall(Unary.IS_INF,
                        ctx.attrs().getInt("detect_negative", 1), ctx.attrs().getInt("detect_positive", 1))),
                unary("Not", 1, DTypes.BOOL, Unary.NOT),
                unary("BitwiseNot", 18, DTypes.INTS, Unary.BITWISE_NOT),
                unary("Relu", 1, RELU_TYPES, Unary.RELU),
                unary("Sigmoid", 1, DTypes.FLOATS, Unary.SIGMOID),
                unary("Tanh", 1, DTypes.FLOATS, Unary.TANH),
                unary("HardSwish", 14, DTypes.FLOATS, Unary.HARD_SWISH),
                unary("Softplus", 1, DTypes.FLOATS, Unary.SOFTPLUS),
                unary("Softsign", 1, DTypes.FLOATS, Unary.SOFTSIGN),
                unary("Mish", 18, DTypes.FLOATS, Unary.MISH),
                activation("LeakyRelu", 1, DTypes.FLOATS, Unary.LEAKY_RELU, "alpha", 0.01f, null, 0),
                activation("Elu", 1, DTypes.FLOATS, Unary.ELU, "alpha", 1f, null, 0),
                activation("Selu", 1, DTypes.FLOATS, Unary.SELU, "alpha", 1.67326319217681884765625f, "gamma", 1.05070102214813232421875f),
                activation("Celu", 12, DTypes.FLOATS, Unary.CELU, "alpha", 1f, null, 0),
                activation("HardSigmoid", 1, DTypes.FLOATS, Unary.HARD_SIGMOID, "alpha", 0.2f, "beta", 0.5f),
                activation("ThresholdedRelu", 10, DTypes.FLOATS, Unary.THRESHOLDED_RELU, "alpha", 1f, null, 0),
                activation("Shrink", 9, DTypes.NUMERIC, Unary.SHRINK, "lambd", 0.5f, "bias", 0f),
                unary("Gelu", 20, DTypes.FLOATS, ctx -> new UnaryCall(geluVariant(ctx), 0, 0)),

                binary("Add", 1, DTypes.NUMERIC, Binary.ADD),
                binary("Sub", 1, DTypes.NUMERIC, Binary.SUB),
                binary("Mul", 1, DTypes.NUMERIC, Binary.MUL),
                binary("Div", 1, DTypes.NUMERIC, Binary.DIV),
                binary("Pow", 1, DTypes.NUMERIC, Binary.POW),
                binary("Mod", 10, DTypes.NUMERIC, ctx -> ctx.attrs().getInt("fmod", 0) != 0 ? Binary.FMOD : Binary.MOD),
                binary("BitShift", 11, DTypes.UNSIGNED_INTS, ElementwiseOps::shiftDirection),
                binary("BitwiseAnd", 18, DTypes.INTS, Binary.AND),
                binary("BitwiseOr", 18, DTypes.INTS, Binary.OR),
                binary("BitwiseXor", 18, DTypes.INTS, Binary.XOR),
                binary("And", 1, DTypes.BOOL, Binary.AND),
                binary("Or", 1, DTypes.BOOL, Binary.OR),
                binary("Xor", 1, DTypes.BOOL, Binary.XOR),
                preluDef(),

                comparison("Equal", 1, EQUAL_TYPES, Comparison.EQUAL),
                comparison("Less", 1, DTypes.NUMERIC, Comparison.LESS),
                comparison("Greater", 1, DTypes.NUMERIC, Comparison.GREATER),
                comparison("LessOrEqual", 12, DTypes.NUMERIC, Comparison.LESS_OR_EQUAL),
                comparison("GreaterOrEqual", 12, DTypes.NUMERIC, Comparison.GREATER_OR_EQUAL),

                variadic("Min", DTypes.NUMERIC, (inputs, parallel) -> Elementwise.fold(Binary.MIN, inputs, parallel)),
                variadic("Max", DTypes.NUMERIC, (inputs, parallel) -> Elementwise.fold(Binary.MAX, inputs, parallel)),
                variadic("Sum", DTypes.FLOATS, (inputs, parallel) -> Elementwise.fold(Binary.ADD, inputs, parallel)),
                variadic("Mean", DTypes.FLOATS, Elementwise::mean),

                clipDef(),
                whereDef(),
                castDef(),
                castLikeDef());
    }

    // ---- unary ----

    /** A unary function with the parameters its node's attributes give it. */
    private record UnaryCall(Unary f, double alpha, double beta) {}

    private static OpDef unary(String name, int since, Set<DType> types, Unary f) {
        return unary(name, since, types, ctx -> new UnaryCall(f, 0, 0));
    }

    /** A unary op whose alpha and beta are float attributes with defaults (betaName null when unused). */
    private static OpDef activation(String name, int since, Set<DType> types, Unary f,
                                    String alphaName, float alpha, String betaName, float beta) {
        return unary(name, since, types, ctx -> new UnaryCall(f, ctx.attrs().getFloat(alphaName, alpha),
                betaName == null ? 0 : ctx.attrs().getFloat(betaName, beta)));
    }

    private static OpDef unary(String name, int since, Set<DType> types, Function<NodeContext, UnaryCall> parse) {
        return OpDef.onnx(name).since(since).types(types).inputs(1, 1).outputs(1, 1)
                .infer(ctx -> parse.apply(ctx).f().boolResult()
                        ? TypeRules.shapeOfInput0As(DType.BOOL).infer(ctx) : TypeRules.SAME_AS_INPUT.infer(ctx))
                .cpu(ctx -> {
                    UnaryCall call = parse.apply(ctx);
                    return (in, ec) -> result(Elementwise.unary(call.f(), tensor(in, 0), call.alpha(), call.beta(), ec));
                })
                .build();
    }

    private static Unary geluVariant(NodeContext ctx) {
        return switch (ctx.attrs().getString("approximate", "none")) {
            case "none" -> Unary.GELU;
            case "tanh" -> Unary.GELU_TANH;
            default -> throw ctx.error("approximate must be 'none' or 'tanh'");
        };
    }

    // ---- binary ----

    private static OpDef binary(String name, int since, Set<DType> types, Binary op) {
        return binary(name, since, types, ctx -> op);
    }

    private static OpDef binary(String name, int since, Set<DType> types, Function<NodeContext, Binary> parse) {
        return OpDef.onnx(name).since(since).types(types).inputs(2, 2).outputs(1, 1)
                .infer(ctx -> ctx.opset() < 7 ? TypeRules.SAME_AS_INPUT.infer(ctx) : TypeRules.BROADCAST.infer(ctx))
                .cpu(ctx -> {
                    Binary op = parse.apply(ctx);
                    OperandAlignment align = OperandAlignment.of(ctx);
                    boolean exponentTyped = op == Binary.POW; // Pow's exponent may have its own element type
                    return (in, ec) -> {
                        Tensor a = tensor(in, 0), b = tensor(in, 1);
                        if (!exponentTyped) requireSameType(name, a, b);
                        return result(Elementwise.binary(op, a, align.apply(a, b), ec));
                    };
                })
                .build();
    }

    private static Binary shiftDirection(NodeContext ctx) {
        return switch (ctx.attrs().getString("direction", "")) {
            case "LEFT" -> Binary.SHIFT_LEFT;
            case "RIGHT" -> Binary.SHIFT_RIGHT;
            default -> throw ctx.error("direction must be 'LEFT' or 'RIGHT'");
        };
    }

    /**
     * PRelu: the slope broadcasts onto X (unidirectionally). Before opset 7 a 1-D slope of more
     * than one value holds one value per channel (X's axis 1).
     */
    private static OpDef preluDef() {
        return OpDef.onnx("PRelu").since(1).types(PRELU_TYPES).inputs(2, 2).outputs(1, 1).infer(TypeRules.SAME_AS_INPUT)
                .cpu(ctx -> {
                    boolean perChannel = ctx.opset() < 7;
                    return (in, ec) -> {
                        Tensor x = tensor(in, 0), slope = tensor(in, 1);
                        requireSameType("PRelu", x, slope);
                        if (perChannel && slope.rank() == 1 && slope.size() != 1 && x.rank() >= 2) {
                            slope = Elementwise.legacyBroadcast(x, slope, 1L);
                        }
                        return result(Elementwise.prelu(x, slope, ec.parallel()));
                    };
                })
                .build();
    }

    private static OpDef comparison(String name, int since, Set<DType> types, Comparison c) {
        return OpDef.onnx(name).since(since).types(types).inputs(2, 2).outputs(1, 1)
                .infer(ctx -> ctx.opset() < 7 ? TypeRules.shapeOfInput0As(DType.BOOL).infer(ctx) : TypeRules.BROADCAST_BOOL.infer(ctx))
                .cpu(ctx -> {
                    OperandAlignment align = OperandAlignment.of(ctx);
                    return (in, ec) -> {
                        Tensor a = tensor(in, 0), b = tensor(in, 1);
                        requireSameType(name, a, b);
                        return result(Elementwise.compare(c, a, align.apply(a, b), ec.parallel()));
                    };
                })
                .build();
    }

    /**
     * How the second operand meets the first. From opset 7 numpy broadcasting; before, equal
     * shapes unless {@code broadcast=1}, which aligns B with A's dims from {@code axis} (or as a suffix).
     */
    @FunctionalInterface
    private interface OperandAlignment {
        Tensor apply(Tensor a, Tensor b);

        static OperandAlignment of(NodeContext ctx) {
            if (ctx.opset() >= 7) return (a, b) -> b;
            if (ctx.attrs().getInt("broadcast", 0) == 0) {
                return (a, b) -> {
                    if (!Arrays.equals(a.shape(), b.shape())) {
                        throw OnnxrunException.invalidInput("shapes " + a.describe() + " and " + b.describe()
                                + " differ and the node does not set broadcast=1");
                    }
                    return b;
                };
            }
            Long axis = ctx.attrs().has("axis") ? ctx.attrs().getInt("axis") : null;
            return (a, b) -> Elementwise.legacyBroadcast(a, b, axis);
        }
    }

    // ---- variadic, Clip, Where ----

    /** The computation of a variadic op over its inputs. */
    @FunctionalInterface
    private interface VariadicKernel {
        Tensor run(Tensor[] inputs, Parallel parallel);
    }

    private static OpDef variadic(String name, Set<DType> types, VariadicKernel kernel) {
        return OpDef.onnx(name).since(1).types(types).inputs(1, Integer.MAX_VALUE).outputs(1, 1).infer(TypeRules.BROADCAST)
                .cpu(ctx -> (in, ec) -> {
                    Tensor[] inputs = new Tensor[in.length];
                    for (int i = 0; i < in.length; i++) {
                        inputs[i] = tensor(in, i);
                        requireSameType(name, inputs[0], inputs[i]);
                    }
                    return result(kernel.run(inputs, ec.parallel()));
                })
                .build();
    }

    /** Clip: bounds are attributes before opset 11, optional scalar inputs from 11. */
    private static OpDef clipDef() {
        return OpDef.onnx("Clip").since(1).types(DTypes.NUMERIC).inputs(1, 3).outputs(1, 1).infer(TypeRules.SAME_AS_INPUT)
                .cpu(ctx -> {
                    if (ctx.opset() >= 11) {
                        return (in, ec) -> result(Elementwise.clip(tensor(in, 0), optionalTensor(in, 1), optionalTensor(in, 2), ec.parallel()));
                    }
                    Float min = ctx.attrs().has("min") ? ctx.attrs().getFloat("min", 0) : null;
                    Float max = ctx.attrs().has("max") ? ctx.attrs().getFloat("max", 0) : null;
                    return (in, ec) -> {
                        Tensor x = tensor(in, 0);
                        return result(Elementwise.clip(x, min == null ? null : Elementwise.scalar(x.dtype(), min),
                                max == null ? null : Elementwise.scalar(x.dtype(), max), ec.parallel()));
                    };
                })
                .build();
    }

    private static OpDef whereDef() {
        return OpDef.onnx("Where").since(9).types(DTypes.ALL).typeInput(1).inputs(3, 3).outputs(1, 1)
                .infer(ctx -> {
                    DType t = ctx.inputDType(1);
                    return List.of(t == null ? ValueType.UNKNOWN : TypeRules.broadcast(ctx, t));
                })
                .cpu(ctx -> (in, ec) -> result(Elementwise.where(tensor(in, 0), tensor(in, 1), tensor(in, 2), ec.parallel())))
                .build();
    }

    // ---- Cast ----

    private static OpDef castDef() {
        return OpDef.onnx("Cast").since(1).types(CASTABLE).inputs(1, 1).outputs(1, 1)
                .infer(ctx -> TypeRules.shapeOfInput0As(castTarget(ctx)).infer(ctx))
                .cpu(ctx -> {
                    DType to = castTarget(ctx);
                    boolean saturate = ctx.attrs().getInt("saturate", 1) != 0;
                    return (in, ec) -> result(Cast.cast(tensor(in, 0), to, saturate));
                })
                .build();
    }

    /** CastLike: Cast to the element type of the second input. */
    private static OpDef castLikeDef() {
        return OpDef.onnx("CastLike").since(15).types(CASTABLE).inputs(2, 2).outputs(1, 1)
                .infer(ctx -> {
                    DType to = ctx.inputDType(1);
                    return to == null ? List.of(ValueType.UNKNOWN) : TypeRules.shapeOfInput0As(to).infer(ctx);
                })
                .cpu(ctx -> {
                    boolean saturate = ctx.attrs().getInt("saturate", 1) != 0;
                    return (in, ec) -> result(Cast.cast(tensor(in, 0), tensor(in, 1).dtype(), saturate));
                })
                .build();
    }

    /** The {@code to} attribute: a type name such as "FLOAT" in opset 1, a TensorProto code after. */
    private static DType castTarget(NodeContext ctx) {
        Attribute to = ctx.node().attribute("to");
        if (to == null) throw ctx.error("missing attribute 'to'");
        if (to.kind() == Attribute.Kind.STRING) {
            try {
                return DType.valueOf(((String) to.value()).toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw ctx.error("unknown type name '" + to.value() + "' in attribute 'to'");
            }
        }
        DType t = DType.fromOnnx((int) ctx.attrs().getInt("to"));
        if (!CASTABLE.contains(t)) throw OnnxrunException.unsupported("Cast to " + t.onnxName() + " is not supported");
        return t;
    }

    // ---- gradients ----

    /**
     * Gradient rules by op name. Broadcasting operands get their gradient summed back to their
     * own shape ({@link GradientBuilder#unbroadcast}); piecewise functions take the derivative
     * of the branch the input selects (Relu's at 0 is 0).
     */
    static Map<String, OpDef.GradientRule> gradients() {
        return Map.ofEntries(
                Map.entry("Add", g -> grads(
                        g.needs(0) ? g.unbroadcast(g.dy(0), g.x(0)) : null,
                        g.needs(1) ? g.unbroadcast(g.dy(0), g.x(1)) : null)),
                Map.entry("Sub", g -> grads(
                        g.needs(0) ? g.unbroadcast(g.dy(0), g.x(0)) : null,
                        g.needs(1) ? g.unbroadcast(g.neg(g.dy(0)), g.x(1)) : null)),
                Map.entry("Mul", g -> grads(
                        g.needs(0) ? g.unbroadcast(g.mul(g.dy(0), g.x(1)), g.x(0)) : null,
                        g.needs(1) ? g.unbroadcast(g.mul(g.dy(0), g.x(0)), g.x(1)) : null)),
                // d(a/b) = da/b − db·(a/b)/b
                Map.entry("Div", g -> {
                    String dyOverB = g.div(g.dy(0), g.x(1));
                    return grads(g.needs(0) ? g.unbroadcast(dyOverB, g.x(0)) : null,
                            g.needs(1) ? g.unbroadcast(g.neg(g.mul(dyOverB, g.y(0))), g.x(1)) : null);
                }),
                // d(a^b) = b·a^(b−1)·da + a^b·ln(a)·db
                Map.entry("Pow", g -> grads(
                        g.needs(0) ? g.unbroadcast(g.mul(g.dy(0), g.mul(g.x(1), g.op("Pow", g.x(0),
                                g.sub(g.x(1), g.scalar(1, g.x(1)))))), g.x(0)) : null,
                        g.needs(1) ? g.unbroadcast(g.mul(g.dy(0), g.mul(g.y(0), g.op("Log", g.x(0)))), g.x(1)) : null)),
                Map.entry("Neg", g -> grads(g.neg(g.dy(0)))),
                Map.entry("Relu", g -> grads(g.ops(OpsetImports.ONNXRUN_DOMAIN, "ReluGrad", List.of(g.dy(0), g.x(0)), 1).getFirst())),
                Map.entry("LeakyRelu", g -> grads(g.where(g.op("Greater", g.x(0), g.scalar(0, g.x(0))), g.dy(0),
                        g.mul(g.dy(0), g.scalar(g.attrs().getFloat("alpha", 0.01f), g.x(0)))))),
                // for x ≤ 0, y = α(eˣ − 1), so dy/dx = y + α
                Map.entry("Elu", g -> grads(g.where(g.op("Greater", g.x(0), g.scalar(0, g.x(0))), g.dy(0),
                        g.mul(g.dy(0), g.add(g.y(0), g.scalar(g.attrs().getFloat("alpha", 1f), g.x(0))))))),
                Map.entry("Sigmoid", g -> grads(g.mul(g.dy(0), g.mul(g.y(0), g.sub(g.scalar(1, g.y(0)), g.y(0)))))),
                Map.entry("Tanh", g -> grads(g.mul(g.dy(0), g.sub(g.scalar(1, g.y(0)), g.mul(g.y(0), g.y(0)))))),
                Map.entry("Exp", g -> grads(g.mul(g.dy(0), g.y(0)))),
                Map.entry("Log", g -> grads(g.div(g.dy(0), g.x(0)))),
                Map.entry("Sqrt", g -> grads(g.div(g.dy(0), g.mul(g.y(0), g.scalar(2, g.y(0)))))),
                Map.entry("Reciprocal", g -> grads(g.neg(g.mul(g.dy(0), g.mul(g.y(0), g.y(0)))))),
                Map.entry("Abs", g -> grads(g.mul(g.dy(0), g.op("Sign", g.x(0))))),
                Map.entry("Softplus", g -> grads(g.mul(g.dy(0), g.op("Sigmoid", g.x(0))))),
                // d erf(x) = 2/√π · e^(−x²)
                Map.entry("Erf", g -> grads(g.mul(g.dy(0), g.mul(g.op("Exp", g.neg(g.mul(g.x(0), g.x(0)))),
                        g.scalar(2 / Math.sqrt(Math.PI), g.x(0)))))),
                Map.entry("Gelu", ElementwiseOps::geluGradient),
                Map.entry("Sum", g -> {
                    List<String> out = new ArrayList<>();
                    for (int i = 0; i < g.inputCount(); i++) out.add(g.needs(i) ? g.unbroadcast(g.dy(0), g.x(i)) : null);
                    return out;
                }),
                Map.entry("Where", g -> grads(null,
                        g.needs(1) ? g.unbroadcast(g.where(g.x(0), g.dy(0), g.scalar(0, g.y(0))), g.x(1)) : null,
                        g.needs(2) ? g.unbroadcast(g.where(g.x(0), g.scalar(0, g.y(0)), g.dy(0)), g.x(2)) : null)),
                // only between float types; a cast to an integer type carries no gradient
                Map.entry("Cast", g -> grads(g.dtype(g.x(0)).isFloatingPoint() && g.dtype(g.y(0)).isFloatingPoint()
                        ? g.cast(g.dy(0), g.dtype(g.x(0))) : null)));
    }

    /**
     * Gelu(x) = x·Φ(x): dy/dx = Φ(x) + x·φ(x). With approximate "tanh", Φ(x) ≈ ½(1 + tanh u),
     * u = √(2/π)(x + 0.044715x³), so dy/dx = ½(1 + tanh u) + ½x(1 − tanh²u)·du/dx.
     */
    private static List<String> geluGradient(GradientBuilder g) {
        String x = g.x(0);
        String slope;
        if (g.attrs().getString("approximate", "none").equals("tanh")) {
            double c = Math.sqrt(2 / Math.PI), k = 0.044715;
            String squared = g.mul(x, x);
            String u = g.mul(g.mul(x, g.add(g.scalar(1, x), g.mul(squared, g.scalar(k, x)))), g.scalar(c, x));
            String t = g.op("Tanh", u);
            String du = g.mul(g.add(g.scalar(1, x), g.mul(squared, g.scalar(3 * k, x))), g.scalar(c, x));
            String half = g.scalar(0.5, x);
            slope = g.add(g.mul(half, g.add(g.scalar(1, x), t)), g.mul(g.mul(half, x), g.mul(g.sub(g.scalar(1, x), g.mul(t, t)), du)));
        } else {
            String cdf = g.mul(g.scalar(0.5, x), g.add(g.scalar(1, x), g.op("Erf", g.mul(x, g.scalar(Math.sqrt(0.5), x)))));
            String pdf = g.mul(g.op("Exp", g.mul(g.mul(x, x), g.scalar(-0.5, x))), g.scalar(1 / Math.sqrt(2 * Math.PI), x));
            slope = g.add(cdf, g.mul(x, pdf));
        }
        return grads(g.mul(g.dy(0), slope));
    }

    // ---- helpers ----

    private static Tensor tensor(Value[] in, int i) {
        if (!(in[i] instanceof Tensor t)) throw OnnxrunException.invalidInput("input " + i + " must be a tensor");
        return t;
    }

    /** The op's operands share one element type T (the ONNX schemas say so; kernels compute in the first's type). */
    private static void requireSameType(String op, Tensor a, Tensor b) {
        if (a.dtype() != b.dtype()) {
            throw OnnxrunException.invalidInput(op + ": operands " + a.describe() + " and " + b.describe() + " differ in element type");
        }
    }

    private static Tensor optionalTensor(Value[] in, int i) {
        return i < in.length && in[i] != null ? tensor(in, i) : null;
    }

    private static Value[] result(Tensor t) { return new Value[] {t}; }
}
