package dev.onnxrun.compiler.training;

import dev.onnxrun.runtime.OnnxrunException;
import dev.onnxrun.runtime.Parallel;
import dev.onnxrun.runtime.Tensor;
import dev.onnxrun.runtime.kernels.Optimizers;
import java.util.Locale;
import java.util.Map;

/**
 * How a parameter moves given its gradient: one of the {@link Optimizers} kernels with its
 * hyperparameters. The learning rate comes with each step (a {@link LearningRate} schedule
 * sets it); the optimizer state of each parameter is a tensor array the trainer keeps and
 * feeds back, so the rule itself holds no state.
 */
public sealed interface UpdateRule {
    /** Zero state tensors for a parameter shaped like {@code x}: moments, velocity or accumulator. */
    Tensor[] initialState(Tensor x);

    /**
     * The new parameter and state after the {@code step}-th update (1 for the first) at
     * learning rate {@code rate}, from the gradient {@code g}. Returns {X', state'...}.
     */
    Tensor[] apply(long step, double rate, Tensor x, Tensor g, Tensor[] state, Parallel parallel);

    /** Adam or AdamW with bias correction, as PyTorch's {@code torch.optim.Adam} and {@code AdamW}. */
    record Adam(Optimizers.AdamWParams params) implements UpdateRule {
        public Tensor[] initialState(Tensor x) { return zeros(x, 2); }

        public Tensor[] apply(long step, double rate, Tensor x, Tensor g, Tensor[] state, Parallel parallel) {
            return Optimizers.adamW(params, rate, step, x, g, state[0], state[1], parallel);
        }
    }

    /** SGD with (Nesterov) momentum {@code v = momentum·v + g; x -= rate·v}; momentum 0 is plain SGD. */
    record Momentum(Optimizers.MomentumParams params) implements UpdateRule {
        public Tensor[] initialState(Tensor x) { return zeros(x, 1); }

        public Tensor[] apply(long step, double rate, Tensor x, Tensor g, Tensor[] state, Parallel parallel) {
            return Optimizers.momentum(params, rate, step - 1, x, g, state[0], parallel);
        }
    }

    /** Adagrad: the rate divided by the root of the summed squared gradients. */
    record Adagrad(Optimizers.AdagradParams params) implements UpdateRule {
        public Tensor[] initialState(Tensor x) { return zeros(x, 1); }

        public Tensor[] apply(long step, double rate, Tensor x, Tensor g, Tensor[] state, Parallel parallel) {
            return Optimizers.adagrad(params, rate, step - 1, x, g, state[0], parallel);
        }
    }

    /** RMSprop, optionally centered and with momentum, as PyTorch's {@code torch.optim.RMSprop}. */
    record RmsProp(Optimizers.RmspropParams params) implements UpdateRule {
        public Tensor[] initialState(Tensor x) { return zeros(x, params.stateCount()); }

        public Tensor[] apply(long step, double rate, Tensor x, Tensor g, Tensor[] state, Parallel parallel) {
            return Optimizers.rmsprop(params, rate, x, g, state, parallel);
        }
    }

    /**
     * The rule named {@code name} (adam, adamw, sgd, momentum, nesterov, adagrad, rmsprop) with the optional settings in
     * {@code settings}: {@code momentum} (sgd 0, momentum and nesterov 0.9, rmsprop 0),
     * {@code beta1} 0.9, {@code beta2} 0.999, {@code alpha} (rmsprop's decay, 0.99),
     * {@code centered} (rmsprop, 0 or 1), {@code epsilon} (adam, adamw, rmsprop 1e-8; adagrad
     * 1e-10), {@code weight_decay} (an L2 term added to the gradient; decoupled for adamw, whose
     * default is 0.01 as PyTorch's, others 0). Defaults are PyTorch's.
     */
    static UpdateRule parse(String name, Map<String, Double> settings) {
        String n = name.toLowerCase(Locale.ROOT);
        double decay = settings.getOrDefault("weight_decay", n.equals("adamw") ? 0.01 : 0.0);
        return switch (n) {
            case "adam", "adamw" -> new Adam(new Optimizers.AdamWParams(settings.getOrDefault("beta1", 0.9),
                    settings.getOrDefault("beta2", 0.999), settings.getOrDefault("epsilon", 1e-8), decay, n.equals("adamw")));
            case "sgd", "momentum", "nesterov" -> new Momentum(new Optimizers.MomentumParams(
                    settings.getOrDefault("momentum", n.equals("sgd") ? 0.0 : 0.9), 1, decay,
                    n.equals("nesterov") ? Optimizers.MomentumMode.NESTEROV : Optimizers.MomentumMode.STANDARD));
            case "adagrad" -> new Adagrad(new Optimizers.AdagradParams(0, settings.getOrDefault("epsilon", 1e-10), decay));
            case "rmsprop" -> new RmsProp(new Optimizers.RmspropParams(settings.getOrDefault("alpha", 0.99),
                    settings.getOrDefault("epsilon", 1e-8), decay, settings.getOrDefault("momentum", 0.0),
                    settings.getOrDefault("centered", 0.0) != 0));
            default -> throw OnnxrunException.invalidInput("unknown optimizer '" + name
                    + "' (expected adam, adamw, sgd, momentum, nesterov, adagrad or rmsprop)");
        };
    }

    private static Tensor[] zeros(Tensor x, int count) {
        Tensor[] state = new Tensor[count];
        for (int i = 0; i < count; i++) state[i] = Tensor.allocate(x.dtype(), x.shape());
        return state;
    }
}
